package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/pigw/pigw/appliance/config"
)

// pigwConfig runs pigw config args (the binary TestMain built) with a 60 s deadline.
func pigwConfig(t *testing.T, args ...string) cliRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"config"}, args...)
	cmd := exec.CommandContext(ctx, pigwBin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=100"))
	start := time.Now()
	err := cmd.Run()
	r := cliRun{Args: full, Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("pigw %s: no end within 60 s\n%s", strings.Join(full, " "), r)
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("pigw %s: %v", strings.Join(full, " "), err)
	}
	if strings.Contains(r.Stderr, "panic") || strings.Contains(r.Stderr, "DATA RACE") {
		t.Errorf("pigw %s: stderr:\n%s", strings.Join(full, " "), r.Stderr)
	}
	return r
}

// writeFiles writes name: content files into a new directory and returns their paths by
// name.
func writeFiles(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

// TestConfigCheck runs pigw config check on good and bad files, alone and layered: exit 0
// with the layers named, or 1 with every error, each with file:line:col, as the appliance
// would log them at boot; 2 for a command line it does not take.
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	f := writeFiles(t, map[string]string{
		"good.yaml": "coap:\n  listen: [\"127.0.0.1:5684\"]\n",
		"bad.yaml": `coap:
  observe: {con_every: 0}
  bogus: 1
wifi:
  networks: [{ssid: home, psk: short}]
`,
		"bad2.yaml": "system: {hostname: -pi}\n",
		// Valid alone, not over good.yaml: DTLS on the address good.yaml gives CoAP.
		"dtls.yaml": "coap:\n  dtls: {psk: k, listen: [\"127.0.0.1:5684\"]}\n",
	})
	good, bad, bad2, dtls := f["good.yaml"], f["bad.yaml"], f["bad2.yaml"], f["dtls.yaml"]
	badErrors := []string{
		bad + `:2:24: coap.observe.con_every: 0 is out of range (1..1000)`,
		bad + `:3:3: coap.bogus: unknown field (known: listen, dtls, service_discovery, discovery_leisure, dynamic_resources, new_resource_details, observe, limits, resources)`,
		bad + `:5:32: wifi.networks[0].psk: is 5 characters; a passphrase is 8..63 printable ASCII characters, or 64 hex digits`,
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   []string // the lines of stderr
		skipWhen string   // a file whose presence changes the outcome
	}{
		{"good", []string{"check", good}, 0, "ok: built-in default.yaml < " + good + "\n", nil, ""},
		{"a file that is not there", []string{"check", good, bad2 + "x"}, 1, "", []string{bad2 + "x: no such file"}, ""},
		{"every error", []string{"check", bad}, 1, "", badErrors, ""},
		{"errors of two files, in order", []string{"check", bad2, good, bad}, 1, "",
			append([]string{bad2 + `:1:20: system.hostname: "-pi" may not start or end with '-'`}, badErrors...), ""},
		{"merged", []string{"check", good, dtls}, 1, "", []string{
			"merged configuration (built-in default.yaml < " + good + " < " + dtls + "):",
			dtls + `:2:27: coap.dtls.listen[0]: "127.0.0.1:5684": also in coap.listen[0] (` + good + ` line 2); CoAP and DTLS need addresses of their own`,
			"the appliance would run on the built-in default",
		}, ""},
		{"the appliance's own files", []string{"check"}, 0, "ok: built-in default.yaml\n", nil, "/etc/pigw.yaml"},
		{"no command", nil, 2, "", nil, ""},
		{"unknown command", []string{"frob"}, 2, "", nil, ""},
		{"unknown flag", []string{"check", "--strict", good}, 2, "", nil, ""},
		{"schema with a file", []string{"schema", good}, 2, "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skipWhen != "" {
				if _, err := os.Stat(tc.skipWhen); err == nil {
					// This machine's own file would be checked: the expected output is unknown.
					if os.Getenv("CI") == "true" {
						t.Fatalf("%s is there: CI's machine must not have it", tc.skipWhen)
					}
					t.Skipf("%s is there", tc.skipWhen)
				}
			}
			r := pigwConfig(t, tc.args...)
			if r.Code != tc.code || r.Stdout != tc.stdout && tc.code != 2 {
				t.Errorf("exit %d, stdout %q; want %d, %q\n%s", r.Code, r.Stdout, tc.code, tc.stdout, r)
			}
			if tc.code == 2 {
				if !strings.Contains(r.Stderr, "pigw config check [FILE...]") {
					t.Errorf("no usage on stderr:\n%s", r)
				}
				return
			}
			if got := strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n"); r.Stderr != "" || len(tc.stderr) > 0 {
				if !slices.Equal(got, tc.stderr) {
					t.Errorf("stderr\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.stderr, "\n"))
				}
			}
		})
	}
}

// secrets is a configuration with every key the configuration has, each a text found
// nowhere else, in both of the forms keys take (text, and 0x with hex digits).
const secrets = `coap:
  dtls:
    psk: dtls-psk-text
    keys: {alice: alice-key-text, bob: "0x0b0b0b0b0b"}
sessions:
  - name: s
    peer: coaps://127.0.0.1
    identity: carol
    psk: "0xc0ffee1234"
    requests: [{path: x}]
wifi:
  networks:
    - {ssid: home, psk: "wifi passphrase text"}
    - {ssid: raw, psk: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
lwm2m:
  server: coaps://127.0.0.1
  identity: dave
  psk: lwm2m-psk-text
rd:
  server: coaps://127.0.0.1
  identity: erin
  psk: "0xd1d1d1d1"
`

// TestConfigShowMasksSecrets: pigw config show prints the effective configuration as
// /sys/config does, every key as ***: the text of none, in any form, is in its output. The
// file sets every key the configuration's types have (found by their Go type), so a key
// added to the configuration without being added here fails the test.
func TestConfigShowMasksSecrets(t *testing.T) {
	t.Parallel()
	file := writeFiles(t, map[string]string{"secrets.yaml": secrets})["secrets.yaml"]
	r := pigwConfig(t, "show", file)
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("want exit 0 and no errors\n%s", r)
	}
	for _, s := range []string{"dtls-psk-text", "alice-key-text", "0b0b0b", "c0ffee", "wifi passphrase", "0123456789abcdef", "psk-text", "key-text", "d1d1d1"} {
		if strings.Contains(r.Stdout, s) {
			t.Errorf("config show shows a key (%q):\n%s", s, r.Stdout)
		}
	}
	var shown map[string]any
	if err := yaml.Unmarshal([]byte(r.Stdout), &shown); err != nil {
		t.Fatalf("config show is not YAML: %v\n%s", err, r.Stdout)
	}
	// Every key of the configuration, found by its type, is in the file and shown as ***.
	paths := secretPaths(reflect.TypeFor[config.Config](), "")
	if len(paths) == 0 {
		t.Fatal("found no keys in config.Config")
	}
	n := 0
	for _, p := range paths {
		vals := lookup(shown, strings.Split(p, "."))
		if len(vals) == 0 {
			t.Errorf("%s: a key of the configuration that the test's file does not set; add it to secrets", p)
		}
		for _, v := range vals {
			if v != "***" {
				t.Errorf("%s shown as %v, want ***", p, v)
			}
			n++
		}
	}
	if got := strings.Count(r.Stdout, "***"); got != n {
		t.Errorf("%d *** in the output, want %d (the keys of %s)", got, n, strings.Join(paths, ", "))
	}
	t.Logf("%d keys at %s, all ***", n, strings.Join(paths, ", "))

	// As the appliance does with a file that has errors: left out, the rest shown.
	bad := writeFiles(t, map[string]string{"bad.yaml": "coap: {dtls: {psk: \"\"}}\n"})["bad.yaml"]
	r = pigwConfig(t, "show", bad)
	if r.Code != 1 || !strings.Contains(r.Stderr, bad+":1:20: coap.dtls.psk: empty") ||
		!strings.Contains(r.Stderr, bad+": left out") || !strings.Contains(r.Stdout, "uri: resource1") {
		t.Errorf("show of a file with errors: want exit 1, the error, the built-in default\n%s", r)
	}
}

// secretPaths returns the yaml paths (mapping keys joined by ".", lists left out) of the
// fields of t that hold keys: config.Secret, and the values of []config.IdentityKey.
func secretPaths(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice && t != reflect.TypeFor[config.Secret]() &&
		t != reflect.TypeFor[[]config.IdentityKey]() {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[config.Secret]():
		return []string{prefix}
	case reflect.TypeFor[[]config.IdentityKey]():
		return []string{prefix + ".*"}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		out = append(out, secretPaths(f.Type, p)...)
	}
	return out
}

// lookup returns the values at path in v, through every entry of lists; "*" is every value
// of a mapping.
func lookup(v any, path []string) []any {
	if l, ok := v.([]any); ok {
		var out []any
		for _, e := range l {
			out = append(out, lookup(e, path)...)
		}
		return out
	}
	if len(path) == 0 {
		return []any{v}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	if path[0] == "*" {
		var out []any
		for _, e := range m {
			out = append(out, lookup(e, path[1:])...)
		}
		return out
	}
	e, ok := m[path[0]]
	if !ok || e == nil {
		return nil
	}
	return lookup(e, path[1:])
}

// TestConfigSchema: pigw config schema prints the schema the image puts on the card, which
// is JSON Schema 2020-12.
func TestConfigSchema(t *testing.T) {
	t.Parallel()
	r := pigwConfig(t, "schema")
	want, err := os.ReadFile("../../appliance/config/pigw.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != 0 || r.Stdout != string(want) {
		t.Errorf("exit %d, %d bytes; want 0 and appliance/config/pigw.schema.json (%d bytes)\n%s", r.Code, len(r.Stdout), len(want), r.Stderr)
	}
	var doc struct {
		Schema string `json:"$schema"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("not JSON Schema 2020-12: %v %q", err, doc.Schema)
	}
}
