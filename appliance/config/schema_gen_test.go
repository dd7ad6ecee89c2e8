package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invopop/jsonschema"
)

// This file writes pigw.schema.json (go generate ./appliance/config) and checks that the
// committed file is what it writes. The schema is generated, never edited:
//   - keys, their order and their descriptions come from the Go types and their doc
//     comments (invopop/jsonschema reads them);
//   - each key's schema comes from keyRules below, built from the same constants the
//     validator checks (maxConEvery, limitRanges, maxNameLen, sensors.Kinds(), ...);
//   - defaults are what pigw fills in: defaults(), defaultDTLS(), and for list entries what
//     Parse gives a minimal entry;
//   - rules between keys of one entry are in entryRules.
//
// The corpus test (schema_test.go) and the fuzz target FuzzParse keep the schema honest: it
// must accept every file pigw accepts, and refuse the corpus's bad files that break a rule it
// carries.

var update = flag.Bool("update", false, "write pigw.schema.json instead of comparing it")

// TestSchemaFile: pigw.schema.json is what the Go types, comments and rules give.
func TestSchemaFile(t *testing.T) {
	got, err := generateSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(SchemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want := Schema(); !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		t.Fatalf("%s is not what the Go types give (first difference at line %d: %q, want %q): run go generate ./appliance/config",
			SchemaFile, i+1, lineAt(wl, i), lineAt(gl, i))
	}
}

func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end of file)"
}

// generateSchema writes the schema of pigw.yaml.
func generateSchema() ([]byte, error) {
	leaves := []reflect.Type{reflect.TypeFor[Duration](), reflect.TypeFor[MediaType](), reflect.TypeFor[Secret](),
		reflect.TypeFor[Attributes](), reflect.TypeFor[[]IdentityKey](), reflect.TypeFor[map[string]string]()}
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		Anonymous:                  true,
		ExpandedStruct:             true,
		RequiredFromJSONSchemaTags: true,
		// The keys' rules give these their schemas.
		Mapper: func(t reflect.Type) *schema {
			if slices.Contains(leaves, t) {
				return &schema{}
			}
			return nil
		},
	}
	if err := r.AddGoComments(reflect.TypeFor[Config]().PkgPath(), "."); err != nil {
		return nil, err
	}
	root := r.Reflect(&Config{})
	defaults, err := defaultValues()
	if err != nil {
		return nil, err
	}

	used := map[string]bool{}
	for name, t := range structTypes(reflect.TypeFor[Config]()) {
		s := root
		if name != "Config" {
			if s = root.Definitions[name]; s == nil {
				return nil, fmt.Errorf("no definition of %s", name)
			}
		}
		goNames := map[string]string{} // Go field name by yaml key
		for f := range t.Fields() {
			goNames[yamlKey(f)] = f.Name
		}
		ps := jsonschema.NewProperties()
		var req []string
		for key, p := range s.Properties.FromOldest() {
			id := name + "." + key
			rule, ok := keyRules[id]
			if !ok {
				return nil, fmt.Errorf("%s: no rule in keyRules", id)
			}
			used[id] = true
			desc := description(p.Description, goNames[key], key)
			if desc == "" {
				return nil, fmt.Errorf("%s: no doc comment on %s.%s, which is the key's description", id, name, goNames[key])
			}
			p = rule.s()
			if rule.required {
				req = append(req, key)
			} else {
				p = orNull(p)
			}
			p.Description = desc
			if d, ok := defaults[name][key]; ok && !rule.noDefault && !rule.required {
				p.Default = d
			}
			ps.Set(key, p)
		}
		s.Properties, s.Required = ps, req
		if rules := entryRules[name]; rules != nil {
			s.AllOf = rules()
		}
		s.Description = description(s.Description, name, name)
	}
	for id := range keyRules {
		if !used[id] {
			return nil, fmt.Errorf("keyRules has %s, which is no key", id)
		}
	}
	for name, d := range sharedDefs() {
		root.Definitions[name] = d
	}
	root.Type, root.Extras = "", map[string]any{"type": []string{"object", "null"}} // an empty file is null
	root.Title = "pigw.yaml"
	root.Description = "The configuration of a pigw CoAP gateway. A key left out, or written with no value, takes its default. " +
		"pigw checks more than this schema can (unique names, values that refer to other sections, the ranges of durations): " +
		"pigw config check FILE says what it finds, with file, line and column."

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	// The schema types' own MarshalJSON escapes <, > and &, which descriptions have.
	out := b.Bytes()
	if bytes.Contains(out, []byte(`\\u00`)) {
		return nil, fmt.Errorf(`a description holds \u00: the unescaping below would change it`)
	}
	for _, r := range [][2]string{{`\u003c`, "<"}, {`\u003e`, ">"}, {`\u0026`, "&"}} {
		out = bytes.ReplaceAll(out, []byte(r[0]), []byte(r[1]))
	}
	return out, nil
}

// structTypes returns the struct types of the configuration, by name: t and those its fields
// hold.
func structTypes(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || out[t.Name()] != nil || t == reflect.TypeFor[IdentityKey]() || t == reflect.TypeFor[Attribute]() {
			return
		}
		out[t.Name()] = t
		for f := range t.Fields() {
			walk(f.Type)
		}
	}
	walk(t)
	return out
}

func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// orNull lets s also be null, which pigw takes for a key left out.
func orNull(s *schema) *schema {
	if s.Ref != "" || s.AnyOf != nil || s.AllOf != nil || s.Const != nil || s.Enum != nil {
		if reflect.DeepEqual(s, &schema{AnyOf: s.AnyOf}) {
			s.AnyOf = append(s.AnyOf, &schema{Type: "null"})
			return s
		}
		return &schema{AnyOf: []*schema{s, {Type: "null"}}}
	}
	if s.Type != "" {
		s.Extras = map[string]any{"type": []string{s.Type, "null"}}
		s.Type = ""
		return s
	}
	s.Extras["type"] = append(s.Extras["type"].([]string), "null")
	return s
}

// description turns a doc comment into a description: one line per paragraph, and the key for
// the Go name it starts with.
func description(doc, goName, key string) string {
	paras := strings.Split(strings.TrimSpace(doc), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	d := strings.Join(paras, "\n\n")
	if rest, ok := strings.CutPrefix(d, goName); ok && goName != "" && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, ",")) {
		d = key + rest
	}
	return d
}

// minimalEntries has one entry of each list, with only the keys that are required: Parse
// fills in the defaults of the others.
const minimalEntries = `coap:
  new_resource_details: {}
  resources: [{uri: r}]
sessions: [{name: s, peer: "coap://h", requests: [{}]}]
network:
  interfaces: [{name: eth0, routes: [{to: 10.0.0.0/8}]}]
wifi:
  networks: [{ssid: x}]
sensors: [{name: s, kind: simulated}]
gpio: [{name: g, pin: GPIO1, direction: in}]
`

// defaultValues are what pigw fills in for keys left out, by Go type and key: the defaults of
// an empty file, of a dtls section, and of list entries with only their required keys.
func defaultValues() (map[string]map[string]any, error) {
	c, err := Parse("minimal.yaml", []byte(minimalEntries))
	if err != nil {
		return nil, err
	}
	d := defaults()
	out := map[string]map[string]any{}
	for _, v := range []any{d.CoAP, d.CoAP.Observe, d.CoAP.Limits, d.System, d.Network, d.Wifi, d.Time, d.Update, d.LwM2M, d.RD, *defaultDTLS(),
		*c.CoAP.NewResourceDetails, c.CoAP.Resources[0], c.Sessions[0], c.Sessions[0].Requests[0],
		c.Network.Interfaces[0], c.Network.Interfaces[0].Routes[0], c.Wifi.Networks[0], c.Sensors[0], c.GPIO[0]} {
		rv := reflect.ValueOf(v)
		m := map[string]any{}
		for i, f := range slices.Collect(rv.Type().Fields()) {
			if d := defaultOf(rv.Field(i)); d != nil {
				m[yamlKey(f)] = d
			}
		}
		out[rv.Type().Name()] = m
	}
	return out, nil
}

// defaultOf returns v as a JSON default, or nil for none.
func defaultOf(v reflect.Value) any {
	switch x := v.Interface().(type) {
	case Duration:
		return shortDuration(time.Duration(x))
	case Secret, Attributes, []IdentityKey, map[string]string:
		return nil
	case MediaType:
		return x.String()
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return defaultOf(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		s := []any{}
		for i := range v.Len() {
			s = append(s, defaultOf(v.Index(i)))
		}
		return s
	case reflect.Struct:
		return nil
	}
	return v.Interface()
}
