package coap

import (
	"testing"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// A reading served in several formats: GET picks by Accept, observers get theirs.
func TestRepresentations(t *testing.T) {
	s, addr := newTestServer(t, Config{})
	r, _ := s.AddResource("sensors/room", WithMethods(GET))
	reps := func(v string) []Representation {
		return []Representation{
			{TextPlain, []byte(v + " Cel")},
			{AppJSON, []byte(`{"temperature":` + v + `}`)},
			{AppSenMLCBOR, []byte{0x81, 0xa1, 0x02, 0x18, 0x17}},
		}
	}
	if err := r.SetRepresentations(reps("23")); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	for _, tt := range []struct {
		accept  int
		code    codes.Code
		cf      uint32
		payload string
	}{
		{-1, codes.Content, 0, "23 Cel"},
		{0, codes.Content, 0, "23 Cel"},
		{50, codes.Content, 50, `{"temperature":23}`},
		{112, codes.Content, 112, "\x81\xa1\x02\x18\x17"},
		{41, codes.NotAcceptable, 0, ""},
	} {
		var opts []opt
		if tt.accept >= 0 {
			opts = append(opts, uintOpt(message.Accept, uint32(tt.accept)))
		}
		m := c.do(codes.GET, "sensors/room", "", opts...)
		if m.Code != tt.code {
			t.Errorf("Accept %d: %v", tt.accept, m.Code)
			continue
		}
		if cf, _ := optUint(m, message.ContentFormat); tt.code == codes.Content && (cf != tt.cf || string(m.Payload) != tt.payload) {
			t.Errorf("Accept %d: ct %d %q", tt.accept, cf, m.Payload)
		}
	}
	if got := s.LinkFormat(); got != `</sensors/room>;ct="0 50 112";obs` {
		t.Errorf("link format %s", got)
	}
	// An observer that asked for JSON gets JSON notifications.
	jc := dial(t, addr)
	jc.do(codes.GET, "sensors/room", "", opt{message.Observe, nil}, uintOpt(message.Accept, 50))
	_ = r.SetRepresentations(reps("24"))
	if n := jc.notification(t); string(n.Payload) != `{"temperature":24}` {
		t.Errorf("JSON observer got %q", n.Payload)
	}
	// A plain SetValue goes back to one representation, in the first's media type.
	_ = r.SetValue([]byte("x"))
	if m := c.do(codes.GET, "sensors/room", "", uintOpt(message.Accept, 50)); m.Code != codes.NotAcceptable {
		t.Errorf("after SetValue, Accept JSON: %v %q", m.Code, m.Payload)
	}
	if m := c.do(codes.GET, "sensors/room", ""); m.Code != codes.Content || string(m.Payload) != "x" {
		t.Errorf("after SetValue: %v %q", m.Code, m.Payload)
	}
	if err := r.SetRepresentations(nil); err == nil {
		t.Error("no representations accepted")
	}
}

// A failing sensor: GET gets 5.03 with the diagnostic, observers stay registered and get the
// next good value.
func TestFailure(t *testing.T) {
	s, addr := newTestServer(t, Config{})
	r, _ := s.AddResource("sensors/cellar", WithMethods(GET), WithValue([]byte("12 Cel")), WithMediaType(TextPlain))
	obs := dial(t, addr)
	obs.do(codes.GET, "sensors/cellar", "", opt{message.Observe, nil})
	r.SetFailure("ds18b20 28-0316a2794dff: CRC NO; last good value 42 s ago")
	m := dial(t, addr).do(codes.GET, "sensors/cellar", "")
	if m.Code != codes.ServiceUnavailable || string(m.Payload) != "ds18b20 28-0316a2794dff: CRC NO; last good value 42 s ago" {
		t.Errorf("failing: %v %q", m.Code, m.Payload)
	}
	_ = r.SetValue([]byte("13 Cel"))
	if n := obs.notification(t); n.Code != codes.Content || string(n.Payload) != "13 Cel" {
		t.Errorf("after recovery the observer got %v %q", n.Code, n.Payload)
	}
	if s.notify.observers() != 1 {
		t.Error("observer dropped by the failure")
	}
}

// A resource added with its representations is complete from the start: no GET or
// /.well-known/core finds it without them. Bad representations are refused with the rule.
func TestWithRepresentations(t *testing.T) {
	s, addr := newTestServer(t, Config{Limits: Limits{MaxValueSize: 16}})
	reps := []Representation{{TextPlain, []byte("23 Cel")}, {AppJSON, []byte(`{"t":23}`)}}
	if _, err := s.AddResource("sensors/room", WithMethods(GET), WithRepresentations(reps)); err != nil {
		t.Fatal(err)
	}
	if got := s.LinkFormat(); got != `</sensors/room>;ct="0 50";obs` {
		t.Errorf("link format %s", got)
	}
	c := dial(t, addr)
	if m := c.do(codes.GET, "sensors/room", "", uintOpt(message.Accept, 50)); m.Code != codes.Content || string(m.Payload) != `{"t":23}` {
		t.Errorf("Accept JSON: %v %q", m.Code, m.Payload)
	}
	for _, tt := range []struct {
		reps []Representation
		want string
	}{
		{nil, "add resource a: no representation"},
		{[]Representation{{NoMediaType, []byte("x")}}, "add resource a: representation 0 needs a media type"},
		{[]Representation{{TextPlain, make([]byte, 17)}}, "add resource a: text/plain representation of 17 bytes exceeds the limit of 16 bytes"},
	} {
		if _, err := s.AddResource("a", WithRepresentations(tt.reps)); err == nil || err.Error() != tt.want {
			t.Errorf("%v: %v, want %s", tt.reps, err, tt.want)
		}
	}
}
