package coap

import (
	"fmt"
	"strings"
)

// Link is one entry of a CoRE link-format document (RFC 6690).
type Link struct {
	Href  string      `json:"href"`
	Attrs []Attribute `json:"attrs"` // values unquoted; a bare attribute such as obs has an empty value
}

// Attr returns the value of the first attribute called name.
func (l Link) Attr(name string) (string, bool) {
	for _, a := range l.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// ParseLinkFormat reads a link-format document such as
// `</a>;rt="temperature";ct=0;obs,</b>`; quoted values may hold ',' and ';'.
func ParseLinkFormat(doc string) ([]Link, error) {
	var links []Link
	p := linkParser{s: doc}
	for p.skipSpace(); !p.end(); p.skipSpace() {
		if len(links) > 0 {
			if !p.take(',') {
				return nil, p.errorf("',' between links")
			}
			p.skipSpace()
		}
		if !p.take('<') {
			return nil, p.errorf("'<' to start a link")
		}
		i := strings.IndexByte(p.s[p.i:], '>')
		if i < 0 {
			return nil, p.errorf("'>' to end the link target")
		}
		l := Link{Href: p.s[p.i : p.i+i]}
		p.i += i + 1
		for p.skipSpace(); p.take(';'); p.skipSpace() {
			a, err := p.param()
			if err != nil {
				return nil, err
			}
			l.Attrs = append(l.Attrs, a)
		}
		links = append(links, l)
	}
	return links, nil
}

type linkParser struct {
	s string
	i int
}

func (p *linkParser) end() bool { return p.i >= len(p.s) }

func (p *linkParser) take(c byte) bool {
	if !p.end() && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *linkParser) skipSpace() {
	for !p.end() && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *linkParser) errorf(want string) error {
	return fmt.Errorf("link format: at byte %d: want %s", p.i, want)
}

// param reads name, name=token or name="quoted".
func (p *linkParser) param() (Attribute, error) {
	start := p.i
	for !p.end() && strings.IndexByte("=;, \t", p.s[p.i]) < 0 {
		p.i++
	}
	a := Attribute{Name: p.s[start:p.i]}
	if a.Name == "" {
		return a, p.errorf("an attribute name")
	}
	if !p.take('=') {
		return a, nil
	}
	if p.take('"') {
		var b strings.Builder
		for {
			if p.end() {
				return a, p.errorf(`'"' to end the quoted value`)
			}
			c := p.s[p.i]
			p.i++
			if c == '"' {
				break
			}
			if c == '\\' && !p.end() {
				c = p.s[p.i]
				p.i++
			}
			b.WriteByte(c)
		}
		a.Value = b.String()
		return a, nil
	}
	start = p.i
	for !p.end() && strings.IndexByte(";,", p.s[p.i]) < 0 {
		p.i++
	}
	a.Value = strings.TrimSpace(p.s[start:p.i])
	return a, nil
}
