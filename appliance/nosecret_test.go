package appliance

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/internal/freeport"
)

// secretYAML sets every secret of the configuration, each to a marker of its own.
const secretYAML = `coap:
  listen: ["COAP"]
  dtls:
    listen: ["DTLS"]
    psk: MARKER-dtls-psk-7f3a
    keys: {alice: MARKER-dtls-key-9c1e}
    admins: [alice]
sessions:
  - name: up
    peer: coaps://127.0.0.1:9
    identity: me
    psk: MARKER-session-psk-4b2d
    requests: [{name: r, path: x, every: 1s}]
wifi:
  networks:
    - {ssid: home, psk: MARKER-wifi-psk-e81f}
lwm2m:
  server: coaps://127.0.0.1:9
  identity: me
  psk: MARKER-lwm2m-psk-d42c
rd:
  server: coaps://127.0.0.1:9
  identity: me
  psk: MARKER-rd-psk-19be
web:
  listen: ["WEB"]
`

// secretTypes lists where config.Config has a Secret, by walking its type ("CoAP.DTLS.PSK",
// "Sessions[].PSK", ...).
func secretTypes(t reflect.Type, path string, out map[string]bool) {
	switch {
	case t == reflect.TypeFor[config.Secret]():
		out[path] = true
	case t.Kind() == reflect.Pointer:
		secretTypes(t.Elem(), path, out)
	case t.Kind() == reflect.Slice:
		secretTypes(t.Elem(), path+"[]", out)
	case t.Kind() == reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				secretTypes(f.Type, strings.TrimPrefix(path+"."+f.Name, "."), out)
			}
		}
	}
}

// secretValues collects the Secrets a Config holds, by the same paths.
func secretValues(v reflect.Value, path string, out map[string][]string) {
	switch {
	case v.Type() == reflect.TypeFor[config.Secret]():
		out[path] = append(out[path], string(v.Bytes()))
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			secretValues(v.Elem(), path, out)
		}
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			secretValues(v.Index(i), path+"[]", out)
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				secretValues(v.Field(i), strings.TrimPrefix(path+"."+f.Name, "."), out)
			}
		}
	}
}

// TestNoSecretOnPage: with every secret of the configuration set, none shows on the page, in
// the API or in the event streams, as text, hex or base64.
func TestNoSecretOnPage(t *testing.T) {
	yaml := strings.Replace(secretYAML, "DTLS", fmt.Sprintf("127.0.0.1:%d", freeport.MustUDP(t)), 1)
	cfg, err := config.Parse("pigw.yaml", []byte(strings.NewReplacer("COAP", "127.0.0.1:1", "WEB", "127.0.0.1:1").Replace(yaml)))
	if err != nil {
		t.Fatal(err)
	}
	kinds, values := map[string]bool{}, map[string][]string{}
	secretTypes(reflect.TypeFor[config.Config](), "", kinds)
	secretValues(reflect.ValueOf(*cfg), "", values)
	var markers []string
	for k := range kinds {
		vs := values[k]
		if len(vs) == 0 || vs[0] == "" {
			t.Errorf("secretYAML sets no %s: give it a marker", k)
		}
		markers = append(markers, vs...)
	}
	if len(markers) < 4 {
		t.Fatalf("markers %q: want one per secret", markers)
	}

	base, _, _ := runWithPage(t, yaml)
	bodies := map[string]string{}
	for _, p := range []string{"/", "/api/status", "/api/system", "/api/network", "/api/subsystems", "/api/resources",
		"/api/sessions", "/api/counters", "/api/log", "/api/log?after=0", "/assets/app.js", "/assets/style.css"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %s", p, resp.Status)
		}
		bodies[p] = string(b)
	}
	for _, p := range []string{"/api/events?after=0", "/api/events?format=html&after=0"} {
		bodies[p] = firstEvents(t, base+p)
	}
	if !strings.Contains(bodies["/api/status"], `"hostname"`) || !strings.Contains(bodies["/api/events?after=0"], "event: status") {
		t.Fatalf("the page has not its data:\n%s", bodies["/api/status"])
	}
	for _, m := range markers {
		forms := []string{m, hex.EncodeToString([]byte(m)), strings.ToUpper(hex.EncodeToString([]byte(m))),
			base64.StdEncoding.EncodeToString([]byte(m)), base64.RawStdEncoding.EncodeToString([]byte(m)),
			base64.URLEncoding.EncodeToString([]byte(m)), base64.RawURLEncoding.EncodeToString([]byte(m))}
		for p, b := range bodies {
			for _, f := range forms {
				if strings.Contains(b, f) {
					t.Errorf("%s shows the secret %q as %q", p, m, f)
				}
			}
		}
	}
}

// firstEvents reads an event stream for a moment: its first events.
func firstEvents(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}
