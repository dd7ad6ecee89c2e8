package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The corpus (testdata/corpus/*.yaml, a file per section) is configurations good and bad, for
// every section and every rule the configuration has, one rule per bad configuration. Each
// configuration starts with a line
//
//	# === bad con_every range: observe.con_every out of its range.
//
// naming it ok, bad or beyond, and ends with pigw's errors, one line each, in order (none for
// a configuration pigw accepts), their line numbers counted from the === line:
//
//	# pigw: pigw.yaml:3:24: coap.observe.con_every: 0 is out of range (1..1000)
//
// pigw and the schema agree on every "ok" and "bad" one: both accept it or both refuse it.
// A "beyond" one breaks rules the schema does not carry, and says which after its first line:
//
//	# schema: accepts (the range of a duration written as text)
//
// The schema never refuses a configuration pigw accepts.

// corpusCase is a configuration of the corpus and what it says of itself.
type corpusCase struct {
	name   string // file: name
	data   []byte
	errors []string // pigw's error lines; none when it accepts the file
	beyond string   // why the schema accepts a file pigw refuses; "" when it refuses it too
}

var (
	caseLine   = regexp.MustCompile(`^# === ((ok|bad|beyond) [^:]+): `)
	pigwLine   = regexp.MustCompile(`^# pigw: (.*)$`)
	schemaLine = regexp.MustCompile(`^# schema: accepts \((.+)\)$`)
)

func readCorpus(t testing.TB) []corpusCase {
	t.Helper()
	paths, err := filepath.Glob("testdata/corpus/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no corpus in testdata/corpus: %v", err)
	}
	var cases []corpusCase
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var c *corpusCase
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if m := caseLine.FindStringSubmatch(l); m != nil {
				cases = append(cases, corpusCase{name: filepath.Base(p) + ": " + m[1]})
				c = &cases[len(cases)-1]
			}
			if c == nil {
				continue // the file's own comment
			}
			c.data = append(c.data, l...)
			if m := pigwLine.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
				c.errors = append(c.errors, m[1])
			}
			if m := schemaLine.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
				c.beyond = m[1]
			}
		}
	}
	for _, c := range cases {
		kind, _, _ := strings.Cut(c.name[strings.Index(c.name, ": ")+2:], " ")
		switch {
		case kind == "ok" && (len(c.errors) > 0 || c.beyond != ""),
			kind == "bad" && (len(c.errors) == 0 || c.beyond != ""),
			kind == "beyond" && (len(c.errors) == 0 || c.beyond == ""):
			t.Fatalf("%s: a %s configuration with %d errors and schema note %q", c.name, kind, len(c.errors), c.beyond)
		}
	}
	return cases
}

// schemaOnce is the schema compiled by santhosh-tekuri/jsonschema, once per test binary.
var schemaOnce = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaFile, doc); err != nil {
		return nil, err
	}
	return c.Compile(SchemaFile)
})

func compiledSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	s, err := schemaOnce()
	if err != nil {
		t.Fatalf("%s does not compile: %v", SchemaFile, err)
	}
	return s
}

// schemaVerdict validates data against the schema as an editor would: nil when the schema
// accepts it, else why not. A file that is not YAML is refused too, by the editor's parser.
func schemaVerdict(t testing.TB, data []byte) error {
	v, err := instance(data)
	if err != nil {
		return err
	}
	return compiledSchema(t).Validate(v)
}

// pigwVerdict returns pigw's error lines for data, none when it accepts it.
func pigwVerdict(data []byte) []string {
	_, err := Parse("pigw.yaml", data)
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// TestSchemaCorpus: pigw gives each file of the corpus the errors it lists, and the schema
// (with santhosh-tekuri/jsonschema) accepts the files pigw accepts and refuses the others,
// but for the rules the schema does not carry.
func TestSchemaCorpus(t *testing.T) {
	cases := readCorpus(t)
	good, bad, beyond := 0, 0, 0
	for _, f := range cases {
		t.Run(f.name, func(t *testing.T) {
			if got := pigwVerdict(f.data); !slices.Equal(got, f.errors) {
				t.Errorf("pigw says\n%s\nthe file says\n%s", strings.Join(got, "\n"), strings.Join(f.errors, "\n"))
			}
			err := schemaVerdict(t, f.data)
			switch {
			case len(f.errors) == 0 && err != nil:
				t.Errorf("pigw accepts it, the schema refuses it: %v", err)
			case len(f.errors) > 0 && f.beyond == "" && err == nil:
				t.Errorf("pigw refuses it, the schema accepts it")
			case f.beyond != "" && err != nil:
				t.Errorf("the file says the schema accepts it (%s), but it refuses it: %v", f.beyond, err)
			}
		})
		switch {
		case len(f.errors) == 0:
			good++
		case f.beyond == "":
			bad++
		default:
			beyond++
		}
	}
	t.Logf("%d configurations: %d good, %d bad that both refuse, %d bad by rules beyond the schema", len(cases), good, bad, beyond)
}

// TestSchemaCorpusPython checks the corpus with an independent validator, Python's
// jsonschema (Debian's python3-jsonschema, which make test-deps installs): it must say what
// santhosh-tekuri/jsonschema says of every file. The files go to it as the JSON an editor
// reads from them (see instance).
func TestSchemaCorpusPython(t *testing.T) {
	python := pythonJSONSchema(t)
	instances := map[string]any{}
	want := map[string]bool{} // whether the schema accepts the configuration
	for _, f := range readCorpus(t) {
		v, err := instance(f.data)
		if err != nil {
			continue // not YAML: no validator sees it
		}
		instances[f.name] = v
		want[f.name] = compiledSchema(t).Validate(v) == nil
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "instances.json")
	data, err := json.Marshal(instances)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	schema, err := filepath.Abs(SchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "testdata/validate.py", schema, in).CombinedOutput()
	if err != nil {
		t.Fatalf("testdata/validate.py: %v\n%s", err, out)
	}
	got := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, verdict, _ := strings.Cut(l, "\t")
		got[name] = verdict == "valid"
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: python's jsonschema said nothing of it", name)
		case g != w:
			t.Errorf("%s: python's jsonschema says valid=%v, santhosh-tekuri/jsonschema valid=%v", name, g, w)
		}
	}
	t.Logf("python's jsonschema agrees on %d files", len(want))
}

// pythonJSONSchema returns python3 if it has the jsonschema module; it skips the test without
// it, except on CI (CI=true), where make test-deps installs python3-jsonschema.
func pythonJSONSchema(t *testing.T) string {
	t.Helper()
	// Debian's first: a python3 earlier in PATH may have another jsonschema, or none.
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		out, err := exec.Command(p, "-c", "import importlib.metadata as m; print(m.version('jsonschema'))").Output()
		if err == nil {
			t.Logf("%s with jsonschema %s", p, strings.TrimSpace(string(out)))
			return p
		}
	}
	msg := "python3 with jsonschema not found (apt-get install python3-jsonschema, or make test-deps)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestSchemaKeys: the decoder and the schema know the same keys of every mapping, in the same
// order: the decoder's list of known keys, in its error about an unknown one, is the
// schema's properties.
func TestSchemaKeys(t *testing.T) {
	var doc struct {
		Properties json.RawMessage
		Defs       map[string]struct{ Properties json.RawMessage } `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	// Where each mapping is, written around an unknown key.
	for def, yaml := range map[string]string{
		"":               "{zz: 1}",
		"CoAP":           "{coap: {zz: 1}}",
		"DTLS":           "{coap: {dtls: {psk: k, zz: 1}}}",
		"Details":        "{coap: {new_resource_details: {zz: 1}}}",
		"Observe":        "{coap: {observe: {zz: 1}}}",
		"Limits":         "{coap: {limits: {zz: 1}}}",
		"Resource":       "{coap: {resources: [{uri: r, zz: 1}]}}",
		"Session":        "{sessions: [{zz: 1}]}",
		"SessionRequest": "{sessions: [{requests: [{zz: 1}]}]}",
		"System":         "{system: {zz: 1}}",
		"Network":        "{network: {zz: 1}}",
		"Interface":      "{network: {interfaces: [{zz: 1}]}}",
		"Route":          "{network: {interfaces: [{routes: [{zz: 1}]}]}}",
		"Wifi":           "{wifi: {zz: 1}}",
		"WifiNetwork":    "{wifi: {networks: [{zz: 1}]}}",
		"Time":           "{time: {zz: 1}}",
		"Update":         "{update: {zz: 1}}",
		"Web":            "{web: {zz: 1}}",
		"LwM2M":          "{lwm2m: {zz: 1}}",
		"RD":             "{rd: {zz: 1}}",
		"Sensor":         "{sensors: [{zz: 1}]}",
		"GPIO":           "{gpio: [{zz: 1}]}",
	} {
		props := doc.Properties
		if def != "" {
			props = doc.Defs[def].Properties
		}
		want, err := objectKeys(props)
		if err != nil || len(want) == 0 {
			t.Errorf("%q: no properties in the schema (%v)", def, err)
			continue
		}
		_, err = Parse("keys.yaml", []byte(yaml))
		known := regexp.MustCompile(`zz: unknown field \(known: ([^)]*)\)`).FindStringSubmatch(errText(err))
		if known == nil {
			t.Errorf("%s: no error about the unknown key zz: %v", yaml, err)
			continue
		}
		if got := strings.Split(known[1], ", "); !slices.Equal(got, want) {
			t.Errorf("%q: the decoder knows %q, the schema %q", def, got, want)
		}
	}
}

// objectKeys returns the keys of the JSON object raw, in order.
func objectKeys(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestSchemaEditor checks the corpus in the engine of editors: the YAML language server
// (npm's yaml-language-server, which VS Code's YAML extension runs) opens each configuration,
// which names pigw.schema.json beside it with the modeline, as on the SD card. It must report
// nothing on the configurations pigw accepts and on those beyond the schema, and, on every bad
// one, a problem on the line of pigw's first error. It needs node and the language server:
// make test-editor installs the server with npm and runs it.
func TestSchemaEditor(t *testing.T) {
	server := os.Getenv("PIGW_YAML_LANGUAGE_SERVER")
	if server == "" {
		const why = "PIGW_YAML_LANGUAGE_SERVER is not set: make test (or make test-editor) installs the YAML language server with npm and runs this test"
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("PIGW_YAML_LANGUAGE_SERVER is set, but there is no node: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SchemaFile), Schema(), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]corpusCase{}
	for i, c := range readCorpus(t) {
		name := fmt.Sprintf("case%03d.yaml", i)
		cases[name] = c
		if err := os.WriteFile(filepath.Join(dir, name), append([]byte(Modeline+"\n"), c.data...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script, err := filepath.Abs("testdata/editor.js")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, script, server, dir).Output()
	if err != nil {
		t.Fatalf("testdata/editor.js: %v\n%s", err, out)
	}
	// The schema's errorMessage and patternErrorMessage put pigw's rules in the editor where
	// its own words would be a regular expression or "does not match".
	inPigwWords := map[string]string{
		"coap.yaml: bad listen host name":    "names are not looked up",
		"lwm2m.yaml: bad coap with identity": "only for a coaps:// server",
		"lwm2m.yaml: bad endpoint character": "an endpoint name is 1..63",
		"lwm2m.yaml: bad no device":          "LwM2M asks objects 3 Device and 1 Server",
		"lwm2m.yaml: bad binding":            "U, in any case",
		"coap.yaml: bad duration word":       "a duration of 0 or more",
		"coap.yaml: bad dtls no key":         "no key to let clients in with",
		"coap.yaml: bad dtls port 5683":      "DTLS uses 5684",
		"network.yaml: bad dhcp down":        "DHCP needs the interface up",
		"sessions.yaml: bad coap with psk":   "only for a coaps:// peer",
		"wifi.yaml: bad open with psk":       "not allowed with security open",
		"wifi.yaml: bad wpa2 without psk":    "this security needs a psk",
	}
	seen := 0
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct {
			File        string
			Diagnostics []string
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("editor.js: %v: %s", err, l)
		}
		c, ok := cases[r.File]
		if !ok {
			continue
		}
		seen++
		if want, ok := inPigwWords[c.name]; ok {
			delete(inPigwWords, c.name)
			if !slices.ContainsFunc(r.Diagnostics, func(d string) bool { return strings.Contains(d, want) }) {
				t.Errorf("%s: the editor reports %q, not pigw's rule %q", c.name, r.Diagnostics, want)
			}
		}
		switch {
		case len(c.errors) == 0 || c.beyond != "":
			if len(r.Diagnostics) > 0 {
				t.Errorf("%s: the editor reports %q", c.name, r.Diagnostics)
			}
		case len(r.Diagnostics) == 0:
			t.Errorf("%s: the editor reports nothing; pigw: %s", c.name, c.errors[0])
		default:
			// pigw's line, one more for the modeline.
			line := regexp.MustCompile(`^pigw\.yaml:(\d+):`).FindStringSubmatch(c.errors[0])
			n, _ := strconv.Atoi(line[1])
			if !slices.ContainsFunc(r.Diagnostics, func(d string) bool { return strings.HasPrefix(d, strconv.Itoa(n+1)+":") }) {
				t.Errorf("%s: the editor reports %q, none on pigw's line (%s)", c.name, r.Diagnostics, c.errors[0])
			}
		}
	}
	for name := range inPigwWords {
		t.Errorf("no corpus case %q", name)
	}
	if seen != len(cases) {
		t.Errorf("the editor checked %d of %d configurations", seen, len(cases))
	}
	t.Logf("the YAML language server agrees with pigw on %d configurations", seen)
}
