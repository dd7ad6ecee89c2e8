package config

import "fmt"

// web checks the web section: each address TCP host:port with an IP literal, once. An empty
// list is valid (the page is off), and so is none (the default of the mode).
func (v *validator) web(w *Web, path string) {
	first := map[string]int{}
	for i, a := range w.Listen {
		p := fmt.Sprintf("%s.listen[%d]", path, i)
		ap, msg := parseListen(a)
		if msg != "" {
			v.fail(p, false, "%q: %s", a, msg)
			continue
		}
		if j, dup := first[ap.String()]; dup {
			v.fail(p, false, "%q is listed twice (first as listen[%d])", a, j)
			continue
		}
		first[ap.String()] = i
	}
}
