package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Layer is one config file that was considered.
type Layer struct {
	Path string // "" for the built-in default
	Used bool   // false when missing or invalid
	Err  error  // why it was not used (missing files: nil Err, Used false)
}

// builtinName names the built-in default.yaml in the errors of LoadLayers.
const builtinName = "built-in default.yaml"

// LoadLayers merges the built-in default with the files that exist, lowest precedence first.
// A file that does not parse or validate by itself is left out (its Err holds every error, with
// file, line and field) so the appliance still boots on the rest; the result is validated again
// after merging (an error there names "merged configuration" and the layers).
//
// The appliance calls it as LoadLayers("/etc/pigw.yaml", "/boot/pigw.yaml"): the default
// (default.yaml, as Default gives it) < the file baked into the image < the file on the boot
// partition. The first Layer is the built-in default's, then one per path, in order.
//
// Files are merged as YAML, before defaults are filled in: mappings merge key by key,
// recursively; the system.modules of a higher layer add to those below (see appendLists); and
// any other value of a higher layer replaces the lower one's entirely. So a
// file with coap: {resources: [...]} replaces the resources of the layers below but keeps their
// coap.listen and other coap keys; one with coap: {dtls: {keys: {carol: k}}} adds carol to the
// identities below. A key written with no value leaves the lower layers' value as it is. The
// merged mappings keep the order of their keys, the lower layers' first; values keep their text
// and type, so that a quoted "0" stays a string, and an unquoted 0x0102ab stays the hex key it
// is in its file.
//
// Errors of the merged configuration name the file, line and column each field comes from, and
// are sorted by layer, then line; a field is said to be where the highest layer writing it has
// it. The error is non-nil only when the built-in default merged with the valid files fails the
// rules. The Config is then nil, and the caller falls back to Default(); the layers say which
// files went into the merge.
func LoadLayers(paths ...string) (*Config, []Layer, error) {
	layers := make([]Layer, 0, len(paths)+1)
	m := &merger{file: map[ast.Node]string{}, merged: map[ast.Node]pos{}}
	var body ast.Node
	var used []string // names of the layers merged
	add := func(path, name string, data []byte) {
		_, b, err := parse(name, data)
		if err != nil {
			layers = append(layers, Layer{Path: path, Err: err})
			return
		}
		layers = append(layers, Layer{Path: path, Used: true})
		used = append(used, name)
		m.add(name, b)
		body = m.merge(body, b, "")
	}

	add("", builtinName, []byte(defaultYAML))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			layers = append(layers, Layer{Path: path})
		case err != nil:
			layers = append(layers, Layer{Path: path, Err: err})
		default:
			add(path, path, data)
		}
	}

	d := &decoder{loc: m.loc}
	c := d.config(body)
	if len(d.errs) > 0 {
		return nil, layers, fmt.Errorf("merged configuration (%s):\n%w", strings.Join(used, " < "), joinSorted(d.errs, used...))
	}
	return c, layers, nil
}

// merger merges the YAML documents of configuration files, remembering
// which file each node comes from.
type merger struct {
	file   map[ast.Node]string // the file of each node of the files
	merged map[ast.Node]pos    // where each mapping made by merge is said to be
}

// add notes that the nodes of body are in the file name.
func (m *merger) add(name string, body ast.Node) {
	if body != nil {
		ast.Walk(visitor(func(n ast.Node) { m.file[n] = name }), body)
	}
}

// loc returns where n is.
func (m *merger) loc(n ast.Node) pos {
	if p, ok := m.merged[n]; ok {
		return p
	}
	line, col := position(n)
	return pos{m.file[n], line, col}
}

// merge returns hi laid over lo, at path (such as "system.modules"): two mappings merged key
// by key, the keys of lo first and then those only hi has; two lists at a path that
// appendLists names appended; else hi, or lo when hi is null. Both are parts of valid
// configurations, so unwrap does not fail.
func (m *merger) merge(lo, hi ast.Node, path string) ast.Node {
	h, _ := unwrap(hi)
	if isNull(h) {
		return lo
	}
	l, _ := unwrap(lo)
	if appendLists[path] != nil {
		if out := m.appendList(l, h, appendLists[path]); out != nil {
			return out
		}
	}
	lm, ok := l.(*ast.MappingNode)
	hm, ok2 := h.(*ast.MappingNode)
	if !ok || !ok2 {
		return hi
	}

	out := &ast.MappingNode{BaseNode: &ast.BaseNode{}, Start: hm.Start, IsFlowStyle: hm.IsFlowStyle}
	m.merged[out] = m.loc(hi)
	his := map[string]*ast.MappingValueNode{}
	for _, mv := range hm.Values {
		k, _ := keyText(mv.Key)
		his[k] = mv
	}
	for _, mv := range lm.Values {
		k, _ := keyText(mv.Key)
		hv, ok := his[k]
		if !ok {
			out.Values = append(out.Values, mv)
			continue
		}
		delete(his, k)
		switch v := m.merge(mv.Value, hv.Value, strings.TrimPrefix(path+"."+k, ".")); v {
		case mv.Value:
			out.Values = append(out.Values, mv)
		case hv.Value:
			out.Values = append(out.Values, hv)
		default:
			out.Values = append(out.Values, &ast.MappingValueNode{BaseNode: &ast.BaseNode{}, Start: hv.Start, Key: hv.Key, Value: v})
		}
	}
	for _, mv := range hm.Values {
		if k, _ := keyText(mv.Key); his[k] == mv {
			out.Values = append(out.Values, mv)
		}
	}
	return out
}

// appendLists are the lists that higher layers add to rather than replace, with what
// makes two entries the same: a pigw.yaml on the boot partition that loads one more module
// must not drop the image's brcmfmac. An entry of a higher layer replaces the same entry of
// a lower one in its place (so its module parameters win); new entries go at the end.
var appendLists = map[string]func(entry string) string{
	"system.modules": func(e string) string { return strings.ReplaceAll(moduleName(e), "-", "_") },
}

// appendList returns hi's entries appended to lo's, or nil when they are not both lists of
// scalars.
func (m *merger) appendList(lo, hi ast.Node, key func(string) string) ast.Node {
	ls, ok := lo.(*ast.SequenceNode)
	hs, ok2 := hi.(*ast.SequenceNode)
	if !ok || !ok2 {
		return nil
	}
	keyOf := func(n ast.Node) (string, bool) {
		t, ok := scalarText(n)
		return key(t), ok
	}
	his := map[string]ast.Node{}
	for _, v := range hs.Values {
		k, ok := keyOf(v)
		if !ok {
			return nil
		}
		his[k] = v
	}
	out := &ast.SequenceNode{BaseNode: &ast.BaseNode{}, Start: hs.Start, IsFlowStyle: hs.IsFlowStyle}
	m.merged[out] = m.loc(hi)
	for _, v := range ls.Values {
		k, ok := keyOf(v)
		if !ok {
			return nil
		}
		if hv, dup := his[k]; dup {
			v = hv
			delete(his, k)
		}
		out.Values = append(out.Values, v)
	}
	for _, v := range hs.Values {
		if k, _ := keyOf(v); his[k] == v {
			out.Values = append(out.Values, v)
		}
	}
	return out
}

// visitor calls itself on every node ast.Walk visits.
type visitor func(ast.Node)

func (v visitor) Visit(n ast.Node) ast.Visitor {
	if n != nil {
		v(n)
	}
	return v
}

// Redacted returns the configuration as YAML in the form of pigw.yaml, with
// every field written out and every key (each Secret) shown as "***": the
// effective configuration, fit to be shown, such as by the /sys/config
// resource. Parse reads it back as c, except that the keys are then the
// text ***, which a WiFi psk (8..63 characters) is too short to be: give
// the keys again to read back a configuration with WiFi networks.
func (c *Config) Redacted() ([]byte, error) {
	return yaml.MarshalWithOptions(redacted(reflect.ValueOf(c)), yaml.IndentSequence(true))
}

// redacted returns v as a value to marshal as YAML: a struct as a mapping of
// its exported fields by their yaml names, in order; a map (of string keys)
// as a mapping sorted by key; a Secret as "***"; the types that pigw.yaml
// writes in a form of their own (keys, attributes, media types, durations)
// in that form; nil pointers, slices and maps as null.
func redacted(v reflect.Value) any {
	switch x := v.Interface().(type) {
	case Secret:
		if x == nil {
			return nil
		}
		return hiddenSecret
	case []IdentityKey:
		if x == nil {
			return nil
		}
		m := yaml.MapSlice{}
		for _, k := range x {
			m = append(m, yaml.MapItem{Key: k.Identity, Value: redacted(reflect.ValueOf(k.Key))})
		}
		return m
	case Attributes:
		if x == nil {
			return nil
		}
		m := yaml.MapSlice{}
		for _, a := range x {
			m = append(m, yaml.MapItem{Key: a.Name, Value: a.Value})
		}
		return m
	case MediaType:
		if name := x.String(); name != strconv.Itoa(int(x)) {
			return name
		}
		return uint16(x)
	case Duration:
		return x.String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Kind() == reflect.Pointer {
			return redacted(v.Elem())
		}
		s := make([]any, v.Len())
		for i := range s {
			s[i] = redacted(v.Index(i))
		}
		return s
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		m := yaml.MapSlice{}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			m = append(m, yaml.MapItem{Key: k.Interface(), Value: redacted(v.MapIndex(k))})
		}
		return m
	case reflect.Struct:
		m := yaml.MapSlice{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			m = append(m, yaml.MapItem{Key: name, Value: redacted(v.Field(i))})
		}
		return m
	}
	return v.Interface()
}
