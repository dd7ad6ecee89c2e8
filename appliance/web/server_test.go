package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRoutes(t *testing.T) {
	src := newFakeSource()
	for i := range 5 {
		src.logf("level=INFO msg=\"line %d\"", i+1)
	}
	src.set(func(sn *Snapshot) { sn.Resources = append(sn.Resources, Resource{URI: "empty", Methods: "GET"}) })
	_, hs := newTestServer(t, src, Limits{})
	for _, tt := range []struct {
		method, path string
		header       map[string]string
		code         int
		ctype        string   // the start of Content-Type
		has          []string // in the body
		allow        string
	}{
		{"GET", "/", nil, 200, "text/html", []string{"<h1>pigw-test</h1>", "v1.2.3", "Raspberry Pi 4 Model B", "1h 2m",
			"3.0\u00a0GiB free of 4.0\u00a0GiB", "124\u00a0MiB of 1.0\u00a0GiB used", "192.168.1.23/24", "home-net", "-52 dBm", "DHCP lease 192.168.1.23/24",
			"router 192.168.1.1", "restarting", "peer unreachable", "msg=&#34;listening&#34;", "21.5 Cel", "48 %RH", "4s ago",
			`data-field="gpio:led">1<`, `data-field="resource:resource1">default_value<`, `data-field="resource:empty">no value<`, "2.04", `data-field="coap:requests">42<`,
			`data-field="coap:rejected">3<`, "Resource directory", "<code>/rd/4521</code>", `data-seq="5"`, "line 5", `name="viewport"`, `src="/assets/app.js"`, "<noscript>"}, ""},
		{"HEAD", "/", nil, 200, "text/html", nil, ""},
		{"GET", "/assets/style.css", nil, 200, "text/css", []string{"max-width"}, ""},
		{"GET", "/assets/app.js", nil, 200, "text/javascript", []string{"EventSource"}, ""},
		{"GET", "/api/status", nil, 200, "application/json", []string{`"hostname": "pigw-test"`, `"requests": 42`, `"uri": "resource1"`}, ""},
		{"GET", "/api/system", nil, 200, "application/json", []string{`"uptime_seconds": 3725`, `"path": "/perm/pigw"`}, ""},
		{"GET", "/api/network", nil, 200, "application/json", []string{`"ssid": "home-net"`, `"router": "192.168.1.1"`}, ""},
		{"GET", "/api/subsystems", nil, 200, "application/json", []string{`"last_log": "level=INFO`}, ""},
		{"GET", "/api/resources", nil, 200, "application/json", []string{`"unit": "Cel"`, `"level": "1"`, `"value": "default_value"`}, ""},
		{"GET", "/api/sessions", nil, 200, "application/json", []string{`"code": "2.04"`}, ""},
		{"GET", "/api/registrations", nil, 200, "application/json", []string{`"kind": "rd"`, `"location": "rd/4521"`, `"registered": true`}, ""},
		{"GET", "/api/counters", nil, 200, "application/json", []string{`"observers": 1`, `"rejected": 3`}, ""},
		{"GET", "/api/log", nil, 200, "application/json", []string{`"seq": 1`, `"last": 5`}, ""},
		{"GET", "/api/log?after=4", nil, 200, "application/json", []string{`"seq": 5`, `"last": 5`}, ""},
		{"GET", "/api/log?after=x", nil, 400, "text/plain", []string{`after="x": must be a log line number`}, ""},
		{"GET", "/api/log?after=-1", nil, 400, "text/plain", []string{`after="-1"`}, ""},
		{"GET", "/api/events?format=xml", nil, 400, "text/plain", []string{`format="xml": must be json or html`}, ""},
		{"GET", "/api/events?after=1e3", nil, 400, "text/plain", []string{`after="1e3"`}, ""},
		{"GET", "/api/events", map[string]string{"Last-Event-ID": "abc"}, 400, "text/plain", []string{`Last-Event-ID="abc"`}, ""},
		{"HEAD", "/api/events", nil, 200, "text/event-stream", nil, ""},
		{"POST", "/", nil, 405, "text/plain", []string{"Method Not Allowed"}, "GET, HEAD"},
		{"PUT", "/api/status", nil, 405, "text/plain", nil, "GET, HEAD"},
		{"DELETE", "/api/log", nil, 405, "text/plain", nil, "GET, HEAD"},
		{"POST", "/api/events", nil, 405, "text/plain", nil, "GET, HEAD"},
		{"GET", "/nothing", nil, 404, "text/plain", []string{"not found"}, ""},
		{"GET", "/assets/", nil, 404, "text/plain", nil, ""},
		{"GET", "/assets/page.tmpl", nil, 404, "text/plain", nil, ""},
		{"GET", "/api/", nil, 404, "text/plain", nil, ""},
		{"GET", "/api/status/extra", nil, 404, "text/plain", nil, ""},
		{"GET", "/index.html", nil, 404, "text/plain", nil, ""},
	} {
		name := tt.method + " " + tt.path
		req, _ := http.NewRequest(tt.method, hs.URL+tt.path, nil)
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("%s: %s, want %d\n%s", name, resp.Status, tt.code, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
			t.Errorf("%s: Content-Type %q, want %s", name, ct, tt.ctype)
		}
		if got := resp.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s: Allow %q, want %q", name, got, tt.allow)
		}
		for _, want := range tt.has {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s: the body has no %q:\n%s", name, want, body)
			}
		}
		if tt.method == "HEAD" && len(body) > 0 {
			t.Errorf("%s: a body of %d bytes", name, len(body))
		}
		for h, want := range map[string]string{"Content-Security-Policy": "default-src 'self'", "X-Content-Type-Options": "nosniff",
			"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := resp.Header.Get(h); !strings.HasPrefix(got, want) {
				t.Errorf("%s: %s %q, want %q", name, h, got, want)
			}
		}
		if strings.HasPrefix(tt.ctype, "application/json") && tt.code == 200 && !json.Valid(body) {
			t.Errorf("%s: not JSON:\n%s", name, body)
		}
	}
}

// TestPageEscapes: what clients wrote is shown as text, never as markup, and the page has no
// inline script (the Content-Security-Policy would block it).
func TestPageEscapes(t *testing.T) {
	src := newFakeSource()
	src.set(func(sn *Snapshot) {
		sn.Resources[0].Value = `<script>alert("x")</script>`
		sn.System.Hostname = `<b>host</b>`
	})
	src.logf(`<img src=x onerror=alert(1)>`)
	_, hs := newTestServer(t, src, Limits{})
	resp, err := hs.Client().Get(hs.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, bad := range []string{`<script>alert`, `<b>host</b>`, `<img src=x`} {
		if strings.Contains(page, bad) {
			t.Errorf("the page has %q unescaped", bad)
		}
	}
	if n := strings.Count(page, "<script"); n != 1 || !strings.Contains(page, `<script src="/assets/app.js" defer></script>`) {
		t.Errorf("the page has %d script elements; want only the one of /assets/app.js", n)
	}
	if strings.Contains(page, " style=") || strings.Contains(page, "<style") {
		t.Errorf("the page has inline style:\n%s", page)
	}
}
