package interop

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSeedResources walks the tutorial's resources through every method,
// one coap-client call after another; each step depends on the ones before.
func TestSeedResources(t *testing.T) {
	t.Parallel()
	s := startServer(t, seedConfig(""))
	none := "" // option must be absent
	steps := []struct {
		name    string
		args    []string // before the URL
		path    string
		code    string
		payload *string
		opts    map[string]string
	}{
		{"GET resource1", nil, "resource1", "2.05", ptr("default_value"),
			map[string]string{"Content-Format": "text/plain", "ETag": none, "Max-Age": none}},
		{"DELETE resource1 not allowed", []string{"-m", "delete"}, "resource1", "4.05", nil, nil},
		{"GET resource1 Accept json", []string{"-A", "50"}, "resource1", "4.06", nil, nil},
		{"GET resource1 after 4.06", nil, "resource1", "2.05", ptr("default_value"), nil},
		{"GET resource1 Accept text/plain", []string{"-A", "0"}, "resource1", "2.05", ptr("default_value"), nil},
		{"GET resource2", nil, "resource2", "2.05", ptr(""),
			map[string]string{"ETag": "0x01", "Content-Format": "application/xml"}},
		{"GET resource2 current ETag", []string{"-O", "4,0x01"}, "resource2", "2.03", ptr(""),
			map[string]string{"ETag": "0x01"}},
		{"PUT resource2", []string{"-m", "put", "-e", "<a/>", "-t", "application/xml"}, "resource2", "2.04", nil,
			map[string]string{"ETag": "0x02"}},
		{"GET resource2 stale ETag", []string{"-O", "4,0x01"}, "resource2", "2.05", ptr("<a/>"),
			map[string]string{"ETag": "0x02", "Content-Format": "application/xml"}},
		{"PUT resource2 stale If-Match", []string{"-m", "put", "-e", "<b/>", "-t", "application/xml", "-O", "1,0x01"}, "resource2", "4.12", nil, nil},
		{"GET resource2 unchanged", nil, "resource2", "2.05", ptr("<a/>"), map[string]string{"ETag": "0x02"}},
		{"PUT resource2 current If-Match", []string{"-m", "put", "-e", "<c/>", "-t", "application/xml", "-O", "1,0x02"}, "resource2", "2.04", nil,
			map[string]string{"ETag": "0x03"}},
		{"PUT resource2 If-None-Match", []string{"-m", "put", "-e", "<d/>", "-O", "5"}, "resource2", "4.12", nil, nil},
		{"GET resource2 changed", nil, "resource2", "2.05", ptr("<c/>"), map[string]string{"ETag": "0x03"}},
		{"POST resource1", []string{"-m", "post", "-e", "posted"}, "resource1", "2.04", nil, nil},
		{"GET resource1 posted, Content-Format cleared", nil, "resource1", "2.05", ptr("posted"),
			map[string]string{"Content-Format": none}},
		{"POST resource1 with Content-Format", []string{"-m", "post", "-e", "posted2", "-t", "text/plain"}, "resource1", "2.04", nil, nil},
		{"GET resource1 posted2", nil, "resource1", "2.05", ptr("posted2"), map[string]string{"Content-Format": "text/plain"}},
		{"PUT resource1 empty", []string{"-m", "put", "-e", "", "-t", "text/plain"}, "resource1", "2.04", nil, nil},
		{"GET resource1 empty", nil, "resource1", "2.05", ptr(""), nil},
		{"PUT resource1", []string{"-m", "put", "-e", "put1", "-t", "text/plain"}, "resource1", "2.04", nil, nil},
		{"GET resource1 put1", nil, "resource1", "2.05", ptr("put1"), nil},
		{"POST unknown does not create", []string{"-m", "post", "-e", "x"}, "no/such", "4.04", nil, nil},
		{"DELETE unknown", []string{"-m", "delete"}, "no/such", "4.04", nil, nil},
		{"PUT new dynamic a/b", []string{"-m", "put", "-e", "hello", "-t", "text/plain"}, "a/b", "2.01", nil, nil},
		{"DELETE resource2", []string{"-m", "delete"}, "resource2", "2.02", nil, nil},
		{"GET resource2 deleted", nil, "resource2", "4.04", nil, nil},
		{"GET unknown", nil, "unknown", "4.04", nil, nil},
		{"GET with unknown critical option", []string{"-O", "9,0x01"}, "resource1", "4.02", nil, nil},
	}
	for _, st := range steps {
		r := coapClient(t, append(append([]string{}, st.args...), s.URL(st.path))...)
		t.Run(st.name, func(t *testing.T) { check(t, r, st.code, st.payload, st.opts) })
		if st.path == "a/b" && st.code == "2.01" {
			m := s.waitLog(regexp.MustCompile(`msg="New resource has been created!" uri=a/b mediatype=(\S+) max_age=(\S+) etag=(\S+) etag_value=(\S+) value=(\S+)`), 5*time.Second)
			if m[1] != "text/plain" || m[3] != "false" || m[5] != "hello" {
				t.Errorf("new-resource log line %q: want mediatype=text/plain etag=false value=hello", m[0])
			}
			// new_resource_details is applied right after the log line.
			p := waitGET(t, s.URL("a/b"), func(p pdu) bool { _, ok := p.Opt("Max-Age"); return ok })
			if p.Code != "2.05" || p.Payload != "hello" || optOr(p, "Content-Format") != "text/plain" ||
				optOr(p, "Max-Age") != "100" || optOr(p, "ETag") != "0x01" {
				t.Errorf("GET a/b after creation: %s, want 2.05 'hello' text/plain Max-Age:100 ETag:0x01", p.Line)
			}
			r := coapClient(t, "-m", "get", s.URL("a"))
			t.Run("GET a (first segment only) is 4.04", func(t *testing.T) { check(t, r, "4.04", nil, nil) })
		}
	}

	t.Run("IPv6", func(t *testing.T) {
		r := coapClient(t, s.URL6("resource1"))
		check(t, r, "2.05", ptr("put1"), nil)
		r = coapClient(t, "-m", "put", "-e", "v6", "-t", "text/plain", s.URL6("v6/new"))
		check(t, r, "2.01", nil, nil)
		r = coapClient(t, s.URL("v6/new"))
		check(t, r, "2.05", ptr("v6"), nil)
	})
	t.Run("NON with token", func(t *testing.T) {
		r := coapClient(t, "-N", "-T", "cafe", s.URL("resource1"))
		p := check(t, r, "2.05", ptr("put1"), nil)
		reqs := r.Requests()
		if len(reqs) == 0 {
			t.Fatalf("no request in output:\n%s", r.Stdout)
		}
		if p.Type != "NON" {
			t.Errorf("answer to a NON request is %s, want NON: %s", p.Type, p.Line)
		}
		if !strings.HasPrefix(reqs[0].Token, "636166") || p.Token != reqs[0].Token {
			t.Errorf("token: sent {%s}, got {%s}, want the token echoed", reqs[0].Token, p.Token)
		}
		r = coapClient(t, "-N", "-T", "cafe", s.URL("unknown"))
		p = check(t, r, "4.04", nil, nil)
		if p.Type != "NON" || p.Token != r.Requests()[0].Token {
			t.Errorf("NON 4.04: %s, want a NON with the token {%s}", p.Line, r.Requests()[0].Token)
		}
	})
	t.Run("CON token", func(t *testing.T) {
		r := coapClient(t, "-T", "beef01", s.URL("resource1"))
		p := check(t, r, "2.05", ptr("put1"), nil)
		if p.Type != "ACK" || p.MID != r.Requests()[0].MID || p.Token != r.Requests()[0].Token {
			t.Errorf("answer %s to %s: want a piggybacked ACK with the same MID and token", p.Line, r.Requests()[0].Line)
		}
	})
}

func optOr(p pdu, name string) string {
	v, _ := p.Opt(name)
	return v
}

// waitGET GETs url until ok holds for the answer (at most 5 s) and returns
// the last answer.
func waitGET(t *testing.T, url string, ok func(pdu) bool) pdu {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p := coapClient(t, url).Last(t)
		if ok(p) || time.Now().After(deadline) {
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
}
