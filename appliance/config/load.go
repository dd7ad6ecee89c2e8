package config

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

//go:embed default.yaml
var defaultYAML string

// Default returns the configuration pigw ships with, parsed from the embedded
// default.yaml.
func Default() *Config {
	c, err := Parse("default.yaml", []byte(defaultYAML))
	if err != nil {
		panic(fmt.Sprintf("config: the embedded default.yaml is broken: %v", err))
	}
	return c
}

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading configuration: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes a configuration file, fills in defaults for what it leaves
// out and checks the result. An empty file gives the defaults.
//
// name is the file's name for error messages. The error, if any, joins one
// *Error per problem found, sorted by line.
func Parse(name string, data []byte) (*Config, error) {
	c, _, err := parse(name, data)
	return c, err
}

// parse is Parse, also returning the body of the file's document (nil for an
// empty file) for LoadLayers to merge.
func parse(name string, data []byte) (*Config, ast.Node, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, nil, syntaxError(name, err)
	}
	d := &decoder{loc: inFile(name)}
	var body ast.Node
	for i, doc := range f.Docs {
		if i == 0 {
			body = doc.Body
			continue
		}
		if doc.Body != nil {
			d.fail(doc.Body, "", "a second YAML document (the configuration is one document)")
			break
		}
	}
	c := d.config(body)
	if len(d.errs) > 0 {
		return nil, nil, joinSorted(d.errs)
	}
	return c, body, nil
}

// config decodes the document body into a Config, with defaults for what it
// leaves out, and checks the result, adding the problems to d.errs.
func (d *decoder) config(body ast.Node) *Config {
	c := defaults()
	if body != nil {
		d.mapping(body, "",
			field{"coap", func(n ast.Node, path string) { d.coap(n, path, &c.CoAP) }},
			field{"sessions", d.sessions(&c.Sessions)},
			field{"system", func(n ast.Node, path string) { d.system(n, path, &c.System) }},
			field{"network", func(n ast.Node, path string) { d.network(n, path, &c.Network) }},
			field{"wifi", func(n ast.Node, path string) { d.wifi(n, path, &c.Wifi) }},
			field{"time", func(n ast.Node, path string) {
				d.mapping(n, path, field{"ntp", d.list(&c.Time.NTP)}, field{"interval", d.unmarshal(&c.Time.Interval)})
			}},
			field{"sensors", sequenceOf(d, &c.Sensors, d.sensor)},
			field{"gpio", sequenceOf(d, &c.GPIO, d.gpio)},
			field{"update", func(n ast.Node, path string) { d.update(n, path, &c.Update) }},
			field{"web", func(n ast.Node, path string) { d.web(n, path, &c.Web) }},
			field{"lwm2m", func(n ast.Node, path string) { d.lwm2m(n, path, &c.LwM2M) }},
			field{"rd", func(n ast.Node, path string) { d.rd(n, path, &c.RD) }},
		)
	}
	ix := index{places: map[string]place{}, loc: d.loc}
	ix.add(body, "")
	for _, e := range c.validate(ix.at, d.failed) {
		if !d.failed(e.Field) {
			d.errs = append(d.errs, e)
		}
	}
	return c
}

// Error is one problem in a configuration file.
type Error struct {
	File   string // the name given to Parse; empty for Validate
	Line   int    // 1-based; 0 when not known
	Column int    // 1-based; 0 when not known
	Field  string // such as "coap.resources[1].media_type"; empty for YAML syntax errors
	Msg    string // what is wrong, naming the bad value and the rule
}

// Error returns "file:line:column: field: message", leaving out what is not
// known.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// joinSorted joins errs sorted by position, keeping the order of those on
// the same spot. Errors in different files are sorted by the order of their
// files in files; without files, by line only.
func joinSorted(errs []*Error, files ...string) error {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		if fa, fb := slices.Index(files, a.File), slices.Index(files, b.File); fa != fb {
			return fa - fb
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// syntaxError rewords an error of the YAML parser.
func syntaxError(name string, err error) error {
	e := &Error{File: name}
	msg := err.Error()
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg = ye.GetMessage()
		if t := ye.GetToken(); t != nil && t.Position != nil {
			e.Line, e.Column = t.Position.Line, t.Position.Column
		}
	}
	// Show control characters, such as a tab the parser tripped on, as \t.
	var b strings.Builder
	for _, r := range msg {
		if r < 0x20 || r == 0x7f {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	e.Msg = "YAML syntax: " + b.String()
	return e
}

// pos is where something is: a file, and a line and column in it.
type pos struct {
	file      string
	line, col int // 1-based; 0 when not known
}

// inFile returns where the nodes of the file name are.
func inFile(name string) func(ast.Node) pos {
	return func(n ast.Node) pos {
		line, col := position(n)
		return pos{name, line, col}
	}
}

// index maps the path of every node in a YAML document to the node.
type index struct {
	places map[string]place
	loc    func(ast.Node) pos // where a node is; of nil, the file alone
}

// place is where a field is: the key naming it, and its value.
type place struct{ key, value ast.Node }

func (ix index) add(n ast.Node, path string) {
	n, err := unwrap(n)
	if err != nil {
		return
	}
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, mv := range n.Values {
			key, err := keyText(mv.Key)
			if err != nil {
				continue
			}
			p := childPath(path, key)
			ix.places[p] = place{mv.Key, mv.Value}
			ix.add(mv.Value, p)
		}
	case *ast.SequenceNode:
		for i, v := range n.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			ix.places[p] = place{v, v}
			ix.add(v, p)
		}
	}
}

// at returns where the field at path is: its key if key is true, else its
// value. A field that is not in the file is placed at the nearest field
// holding it.
func (ix index) at(path string, key bool) pos {
	for p := path; p != ""; p = parentPath(p) {
		if pl, ok := ix.places[p]; ok {
			if key && p == path {
				return ix.loc(pl.key)
			}
			return ix.loc(pl.value)
		}
	}
	return ix.loc(nil)
}

// childPath returns the path of key in the mapping at path.
func childPath(path, key string) string {
	if path == "" {
		return strings.TrimPrefix(keyPath(key), ".")
	}
	return path + keyPath(key)
}

// keyPath returns the path element for a mapping key: ".name", or
// ["some name"] for a key that is not a plain name.
func keyPath(key string) string {
	plain := key != ""
	for _, r := range key {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			plain = false
		}
	}
	if !plain {
		return fmt.Sprintf("[%q]", key)
	}
	return "." + key
}

// parentPath strips the last element from path.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndex(path, "["); i >= 0 {
			// A quoted key may hold "[": find the start of the quote.
			if strings.HasSuffix(path, `"]`) {
				if j := strings.LastIndex(path[:len(path)-2], `["`); j >= 0 {
					return path[:j]
				}
			}
			return path[:i]
		}
	}
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

// position returns where n starts.
func position(n ast.Node) (line, col int) {
	switch v := n.(type) {
	case nil:
		return 0, 0
	case *ast.MappingNode:
		// A block mapping's token is the ':' after its first key.
		if !v.IsFlowStyle && len(v.Values) > 0 {
			return position(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return position(v.Key)
	}
	t := n.GetToken()
	if t == nil || t.Position == nil {
		return 0, 0
	}
	return t.Position.Line, t.Position.Column
}
