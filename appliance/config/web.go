package config

// Web is the status page: one page and its JSON (/api/...), view-only, over plain HTTP.
type Web struct {
	// Listen lists the TCP addresses the page is served on, as host:port with the host an
	// IP literal, IPv6 in brackets: "[::]:80", "127.0.0.1:8080", each once. An empty list
	// ([]) turns the page off. Default: ["[::]:80"] when pigw runs as the system (PID 1),
	// ["127.0.0.1:8080"] under pigw run, so that a laptop does not show its appliance to the
	// LAN.
	Listen []string `yaml:"listen"`
}

// The defaults of web.listen, by how pigw runs.
const (
	WebListenInit = "[::]:80"        // pigw is PID 1: every address, the port a browser takes
	WebListenRun  = "127.0.0.1:8080" // pigw run: this machine only, a port a user may bind
)

// Addresses returns the addresses to serve the page on: Listen when it was written (none
// when it was written empty), else the default for pigw as PID 1 (init) or under pigw run.
func (w Web) Addresses(init bool) []string {
	switch {
	case w.Listen != nil:
		return w.Listen
	case init:
		return []string{WebListenInit}
	}
	return []string{WebListenRun}
}
