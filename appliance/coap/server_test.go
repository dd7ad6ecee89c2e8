package coap

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// TestSemantics walks COAP-SEMANTICS §2 on the tutorial's resources, one request at a time;
// each step sees the state the steps before it left.
func TestSemantics(t *testing.T) {
	_, addr := seedServer(t, Config{})
	c := dial(t, addr)
	steps := []struct {
		name    string
		code    codes.Code
		path    string
		payload string
		opts    []opt
		want    codes.Code
		body    string
		check   func(t *testing.T, m *message.Message)
	}{
		{name: "GET value with media type", code: codes.GET, path: "resource1", want: codes.Content, body: "default_value",
			check: func(t *testing.T, m *message.Message) {
				if cf, _ := optUint(m, message.ContentFormat); cf != 0 || !m.Options.HasOption(message.ContentFormat) {
					t.Errorf("Content-Format %d, want 0", cf)
				}
				if m.Options.HasOption(message.MaxAge) {
					t.Error("Max-Age sent for a resource without one")
				}
			}},
		{name: "DELETE not enabled", code: codes.DELETE, path: "resource1", want: codes.MethodNotAllowed},
		{name: "FETCH never enabled", code: codes.FETCH, path: "resource1", want: codes.MethodNotAllowed},
		{name: "Accept mismatch", code: codes.GET, path: "resource1", opts: []opt{uintOpt(message.Accept, 50)}, want: codes.NotAcceptable},
		{name: "Accept match", code: codes.GET, path: "resource1", opts: []opt{uintOpt(message.Accept, 0)}, want: codes.Content, body: "default_value"},
		{name: "still serving after 4.06", code: codes.GET, path: "resource1", want: codes.Content, body: "default_value"},
		{name: "ETag first value is 1", code: codes.GET, path: "resource2", want: codes.Content,
			check: wantETag(1)},
		{name: "matching ETag gives 2.03", code: codes.GET, path: "resource2", opts: []opt{uintOpt(message.ETag, 1)}, want: codes.Valid,
			check: func(t *testing.T, m *message.Message) {
				if len(m.Payload) != 0 {
					t.Errorf("2.03 with payload %q", m.Payload)
				}
				wantETag(1)(t, m)
			}},
		{name: "PUT without If-Match allowed", code: codes.PUT, path: "resource2", payload: "<a/>", opts: []opt{uintOpt(message.ContentFormat, 41)}, want: codes.Changed, check: wantETag(2)},
		{name: "PUT stale If-Match", code: codes.PUT, path: "resource2", payload: "<b/>", opts: []opt{uintOpt(message.IfMatch, 1)}, want: codes.PreconditionFailed},
		{name: "PUT current If-Match", code: codes.PUT, path: "resource2", payload: "<c/>", opts: []opt{uintOpt(message.IfMatch, 2)}, want: codes.Changed, check: wantETag(3)},
		{name: "PUT If-None-Match on existing", code: codes.PUT, path: "resource2", payload: "x", opts: []opt{{message.IfNoneMatch, nil}}, want: codes.PreconditionFailed},
		{name: "PUT without Content-Format clears media type", code: codes.PUT, path: "resource2", payload: "plain", want: codes.Changed},
		{name: "GET after clear has no Content-Format", code: codes.GET, path: "resource2", opts: []opt{uintOpt(message.Accept, 50)}, want: codes.Content, body: "plain",
			check: func(t *testing.T, m *message.Message) {
				if m.Options.HasOption(message.ContentFormat) {
					t.Error("Content-Format still sent")
				}
			}},
		{name: "POST replaces value", code: codes.POST, path: "resource1", payload: "posted", opts: []opt{uintOpt(message.ContentFormat, 0)}, want: codes.Changed},
		{name: "GET sees POST", code: codes.GET, path: "resource1", want: codes.Content, body: "posted"},
		{name: "empty PUT stored", code: codes.PUT, path: "resource1", want: codes.Changed},
		{name: "GET empty value", code: codes.GET, path: "resource1", want: codes.Content, body: ""},
		{name: "unknown URI GET", code: codes.GET, path: "nothing", want: codes.NotFound},
		{name: "unknown URI POST never creates", code: codes.POST, path: "nothing", payload: "x", want: codes.NotFound},
		{name: "dynamic PUT creates with whole path", code: codes.PUT, path: "a/b/c", payload: "deep", opts: []opt{uintOpt(message.ContentFormat, 50)}, want: codes.Created},
		{name: "dynamic resource readable", code: codes.GET, path: "a/b/c", want: codes.Content, body: "deep",
			check: func(t *testing.T, m *message.Message) {
				if cf, _ := optUint(m, message.ContentFormat); cf != 50 {
					t.Errorf("Content-Format %d, want 50", cf)
				}
				if m.Options.HasOption(message.ETag) || m.Options.HasOption(message.MaxAge) {
					t.Error("dynamic resource has ETag or Max-Age")
				}
			}},
		{name: "first segment alone is not it", code: codes.GET, path: "a", want: codes.NotFound},
		{name: "PUT without path", code: codes.PUT, path: "", payload: "x", want: codes.BadRequest},
		{name: "PUT If-Match on unknown", code: codes.PUT, path: "new", payload: "x", opts: []opt{uintOpt(message.IfMatch, 1)}, want: codes.PreconditionFailed},
		{name: "DELETE dynamic", code: codes.DELETE, path: "a/b/c", want: codes.Deleted},
		{name: "GET after DELETE", code: codes.GET, path: "a/b/c", want: codes.NotFound},
		{name: "DELETE configured", code: codes.DELETE, path: "resource2", want: codes.Deleted},
		{name: "GET deleted configured", code: codes.GET, path: "resource2", want: codes.NotFound},
		{name: "unknown critical option", code: codes.GET, path: "resource1", opts: []opt{{9, []byte{1}}}, want: codes.BadOption},
		{name: "unknown elective option ignored", code: codes.GET, path: "resource1", opts: []opt{{10, []byte{1}}}, want: codes.Content},
		{name: "proxy request", code: codes.GET, path: "", opts: []opt{{message.ProxyURI, []byte("coap://x/y")}}, want: codes.ProxyingNotSupported},
		{name: "dot segment", code: codes.GET, path: "a/../resource1", want: codes.BadRequest},
	}
	for _, st := range steps {
		m := c.do(st.code, st.path, st.payload, st.opts...)
		if m.Code != st.want {
			t.Fatalf("%s: %v %s answered %v (%q), want %v", st.name, st.code, st.path, m.Code, m.Payload, st.want)
		}
		if st.want == codes.Content && string(m.Payload) != st.body {
			t.Errorf("%s: payload %q, want %q", st.name, m.Payload, st.body)
		}
		if st.check != nil {
			st.check(t, m)
		}
	}
}

func wantETag(v uint32) func(t *testing.T, m *message.Message) {
	return func(t *testing.T, m *message.Message) {
		t.Helper()
		got, ok := optUint(m, message.ETag)
		if !ok || got != v {
			t.Errorf("ETag %d (present %v), want %d", got, ok, v)
		}
	}
}

func TestETagWraps(t *testing.T) {
	s, addr := seedServer(t, Config{})
	r := s.Resource("resource2")
	r.mu.Lock()
	r.etag = 65534
	r.mu.Unlock()
	c := dial(t, addr)
	for _, want := range []uint32{65535, 1, 2} {
		m := c.do(codes.POST, "resource2", "v")
		wantETag(want)(t, m)
	}
	if d := r.Details(); d.ETagValue != 2 || !d.ETag {
		t.Errorf("details %+v", d)
	}
	// The ETag option is minimal big-endian: one byte for 2.
	m := c.do(codes.GET, "resource2", "")
	if v, _ := m.Options.GetBytes(message.ETag); !bytes.Equal(v, []byte{2}) {
		t.Errorf("ETag bytes % x", v)
	}
}

func TestMaxAge(t *testing.T) {
	s, addr := seedServer(t, Config{})
	if err := s.Resource("resource1").SetDetails(Details{MediaType: TextPlain, MaxAge: 100}); err != nil {
		t.Fatal(err)
	}
	m := dial(t, addr).do(codes.GET, "resource1", "")
	if v, ok := optUint(m, message.MaxAge); !ok || v != 100 {
		t.Errorf("Max-Age %d %v", v, ok)
	}
}

func TestNoMethodsAnswers405(t *testing.T) {
	s, addr := newTestServer(t, Config{})
	if _, err := s.AddResource("quiet", WithValue([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	for _, code := range []codes.Code{codes.GET, codes.PUT, codes.POST, codes.DELETE} {
		if m := c.do(code, "quiet", "y"); m.Code != codes.MethodNotAllowed {
			t.Errorf("%v: %v", code, m.Code)
		}
	}
}

func TestNewResourceHandlerRunsAfterAnswer(t *testing.T) {
	s, addr := seedServer(t, Config{})
	got := make(chan Details, 1)
	s.OnNewResource(func(r *Resource) {
		d := r.Details()
		_ = r.SetDetails(Details{MediaType: TextPlain, MaxAge: 100, ETag: true})
		got <- d
	})
	c := dial(t, addr)
	if m := c.do(codes.PUT, "made/by/put", "hello", uintOpt(message.ContentFormat, 42)); m.Code != codes.Created {
		t.Fatalf("PUT: %v", m.Code)
	}
	select {
	case d := <-got:
		if d.URI != "made/by/put" || d.MediaType != AppOctetStream || d.MaxAge != NoMaxAge || d.ETag {
			t.Errorf("details at creation %+v", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("handler not called")
	}
	m := c.do(codes.GET, "made/by/put", "")
	if cf, _ := optUint(m, message.ContentFormat); cf != 0 {
		t.Errorf("after set_details: Content-Format %d", cf)
	}
	wantETag(1)(t, m)
	if r := s.Resource("made/by/put"); !r.Dynamic() || r.Methods() != AllMethods {
		t.Errorf("dynamic %v methods %v", r.Dynamic(), r.Methods())
	}
}

func TestReservedPrefix(t *testing.T) {
	_, addr := seedServer(t, Config{Reserved: []string{"sys"}})
	c := dial(t, addr)
	for path, want := range map[string]codes.Code{"sys": codes.Forbidden, "sys/x": codes.Forbidden, "system": codes.Created} {
		if m := c.do(codes.PUT, path, "v"); m.Code != want {
			t.Errorf("PUT %s: %v, want %v", path, m.Code, want)
		}
	}
}

func TestDynamicOff(t *testing.T) {
	_, addr := newTestServer(t, Config{})
	if m := dial(t, addr).do(codes.PUT, "x", "y"); m.Code != codes.NotFound {
		t.Errorf("PUT with dynamic resources off: %v", m.Code)
	}
}

func TestLimits(t *testing.T) {
	s, addr := seedServer(t, Config{Limits: Limits{MaxResources: 4, MaxValueSize: 100, MaxURILength: 20}})
	c := dial(t, addr)
	tests := []struct {
		name    string
		code    codes.Code
		path    string
		payload string
		want    codes.Code
	}{
		{"value at limit", codes.PUT, "resource1", strings.Repeat("v", 100), codes.Changed},
		{"value over limit", codes.PUT, "resource1", strings.Repeat("v", 101), codes.RequestEntityTooLarge},
		{"dynamic value over limit", codes.PUT, "big", strings.Repeat("v", 101), codes.RequestEntityTooLarge},
		{"third resource", codes.PUT, "r3", "x", codes.Created},
		{"fourth resource", codes.PUT, "r4", "x", codes.Created},
		{"fifth resource refused", codes.PUT, "r5", "x", codes.ServiceUnavailable},
		{"URI too long", codes.GET, strings.Repeat("u", 21), "", requestURITooLong},
		{"URI at limit", codes.GET, strings.Repeat("u", 20), "", codes.NotFound},
	}
	for _, tt := range tests {
		m := c.do(tt.code, tt.path, tt.payload)
		if m.Code != tt.want {
			t.Errorf("%s: %v (%s), want %v", tt.name, m.Code, m.Payload, tt.want)
		}
		if tt.want == codes.RequestEntityTooLarge {
			if v, ok := optUint(m, message.Size1); !ok || v != 100 {
				t.Errorf("%s: Size1 %d %v, want 100", tt.name, v, ok)
			}
		}
		if tt.want >= codes.BadRequest && len(m.Payload) == 0 && tt.want != codes.NotFound {
			t.Errorf("%s: no diagnostic payload", tt.name)
		}
	}
	if got := len(s.Resources()); got != 4 {
		t.Errorf("%d resources, want 4", got)
	}
	if _, err := s.AddResource("api5"); err == nil || !strings.Contains(err.Error(), "limit is 4") {
		t.Errorf("AddResource past limit: %v", err)
	}
}

func TestAPIValidation(t *testing.T) {
	s, err := NewServer(Config{Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		uri  string
		opts []ResourceOption
		want string
	}{
		{"", nil, "must not be empty"},
		{"a//b", nil, "segments must not be empty"},
		{"a/../b", nil, "'..'"},
		{".well-known/core", nil, "reserved"},
		{"q?x=1", nil, "'?'"},
		{"ok", []ResourceOption{WithMaxAge(-5)}, "max-age -5"},
		{"ok", []ResourceOption{WithMediaType(70000)}, "media type 70000"},
		{"ok", []ResourceOption{WithAttribute("ti tle", "x")}, `name "ti tle"`},
		{"ok", []ResourceOption{WithAttribute("title", `a"b`)}, "double quote"},
		{"ok", []ResourceOption{WithValue(make([]byte, 20000))}, "exceeds the limit of 16384"},
	} {
		_, err := s.AddResource(tt.uri, tt.opts...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("AddResource(%q): %v, want error with %q", tt.uri, err, tt.want)
		}
	}
	if _, err := s.AddResource("/lead/slash"); err != nil {
		t.Fatal(err)
	}
	if s.Resource("lead/slash") == nil || s.Resource("/lead/slash") == nil {
		t.Error("leading slash not normalised")
	}
	if _, err := s.AddResource("lead/slash"); err == nil {
		t.Error("duplicate accepted")
	}
	if err := s.RemoveResource("lead/slash"); err != nil || s.Resource("lead/slash") != nil {
		t.Errorf("remove: %v", err)
	}
	if err := s.RemoveResource("lead/slash"); err == nil {
		t.Error("removing twice succeeded")
	}
}

func TestMethodAndMediaNames(t *testing.T) {
	if got := (GET | PUT | DELETE).String(); got != "GET|PUT|DELETE" {
		t.Error(got)
	}
	for _, name := range []string{"text/plain", "application/xml", "application/senml+cbor", "1234"} {
		m, err := ParseMediaType(name)
		if err != nil || m.String() != name {
			t.Errorf("%s: %v %v", name, m, err)
		}
	}
	if _, err := ParseMediaType("text/foo"); err == nil || !strings.Contains(err.Error(), `"text/foo"`) {
		t.Error(err)
	}
	if _, err := ParseMethod("BREW"); err == nil {
		t.Error("BREW parsed")
	}
	if m, _ := ParseMethod("ipatch"); m != IPATCH || m.String() != "iPATCH" {
		t.Error(m)
	}
	if m, _ := ParseMethod("delete"); m != DELETE {
		t.Error(m)
	}
	_ = fmt.Sprint(NoMediaType)
}

// A server whose Serve ended can serve again (the supervisor restarts it).
func TestServeAgain(t *testing.T) {
	s, err := NewServer(withListen(Config{}))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.AddResource("r", WithValue([]byte("v")), WithMethods(GET))
	for round := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		if err := s.Listen(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- s.Serve(ctx) }()
		c := dial(t, s.Addrs()[0])
		c.do(codes.GET, "r", "", opt{message.Observe, nil})
		if m := c.do(codes.GET, "r", ""); m.Code != codes.Content {
			t.Errorf("round %d: %v", round, m.Code)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := s.notify.observers(); n != 0 {
			t.Errorf("round %d: %d observers kept after Serve ended", round, n)
		}
	}
}

func TestHiddenResources(t *testing.T) {
	s, _ := NewServer(withListen(Config{}))
	_, _ = s.AddResource("mine", WithMethods(GET))
	_, _ = s.AddResource("sys/info", WithMethods(GET), WithAttribute("rt", "pigw.info"), WithHidden())
	for range 600 { // hidden resources do not count against the limit of 512
		if _, err := s.AddResource(fmt.Sprintf("sys/x%d", len(s.Resources())), WithHidden()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddResource("user/second"); err != nil {
		t.Errorf("user resource refused after hidden ones: %v", err)
	}
	_ = s.RemoveResource("user/second")
	for i := range 600 {
		_ = s.RemoveResource(fmt.Sprintf("sys/x%d", i+2))
	}
	for _, tt := range []struct {
		filters []string
		want    string
	}{
		{nil, "</mine>;obs"},
		{[]string{"href=/sys*"}, `</sys/info>;rt="pigw.info";obs`},
		{[]string{"rt=pigw*"}, `</sys/info>;rt="pigw.info";obs`},
		{[]string{"obs"}, `</mine>;obs`},
	} {
		if got := s.LinkFormat(tt.filters...); got != tt.want {
			t.Errorf("%v: %s, want %s", tt.filters, got, tt.want)
		}
	}
}

// A specific address binds before it exists on the host (IP_FREEBIND): the server is there
// when the network brings the address.
func TestListenOnAddressNotYetThere(t *testing.T) {
	s, err := NewServer(Config{Listen: []string{"192.0.2.77:0", "[2001:db8::77]:0"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatalf("listen on addresses not on this host: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Serve(ctx)
}
