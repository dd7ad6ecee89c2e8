package lwm2m

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// Write-Attributes are kept per level; Discover shows each level's own and, on a resource,
// what it inherits; a name without a value removes it.
func TestDiscover(t *testing.T) {
	f := newFixture(t)
	_, p := servedTree(t, f.objects()...)
	f.sensors.Reading("room", "temperature", 21)
	for _, w := range []struct{ path, q string }{
		{"3303", "pmin=10"}, {"3303/0", "pmax=60"}, {"3303/0/5700", "gt=30.5"}, {"3303/0/5700", "st=0.5"}, {"3303/1/5700", "pmin=2"},
	} {
		if m := p.do(codes.PUT, w.path, nil, query(w.q)); m.Code != codes.Changed {
			t.Fatalf("PUT /%s?%s: %v %q", w.path, w.q, m.Code, m.Payload)
		}
	}
	discover := func(path string) string {
		t.Helper()
		m := p.do(codes.GET, path, nil, accept(coap.AppLinkFormat))
		if m.Code != codes.Content || cf(m) != coap.AppLinkFormat {
			t.Fatalf("Discover /%s: %v %v %q", path, m.Code, cf(m), m.Payload)
		}
		return string(m.Payload)
	}
	for _, tc := range []struct{ path, want string }{
		{"3303/0/5700", "</3303/0/5700>;pmin=10;pmax=60;gt=30.5;st=0.5"},
		{"3303/1/5700", "</3303/1/5700>;pmin=2"},
		{"3303/0", "</3303/0>;pmax=60,</3303/0/5700>;gt=30.5;st=0.5,</3303/0/5701>,</3303/0/5601>,</3303/0/5602>,</3303/0/5605>,</3303/0/5750>"},
		{"3303", "</3303>;pmin=10,</3303/0>,</3303/0/5700>,</3303/0/5701>,</3303/0/5601>,</3303/0/5602>,</3303/0/5605>,</3303/0/5750>," +
			"</3303/1>,</3303/1/5700>,</3303/1/5701>,</3303/1/5601>,</3303/1/5602>,</3303/1/5605>,</3303/1/5750>"},
		{"3/0/11", "</3/0/11>;dim=1"},
		{"3/0/4", "</3/0/4>"}, // an executable resource is discovered, not read
		{"1", "</1>;ver=1.1,</1/0>,</1/0/0>,</1/0/1>,</1/0/6>,</1/0/7>,</1/0/8>"},
	} {
		if got := discover(tc.path); got != tc.want {
			t.Errorf("Discover /%s:\n got %s\nwant %s", tc.path, got, tc.want)
		}
	}
	p.do(codes.PUT, "3303/0/5700", nil, query("gt"), query("pmin=1"))
	if got, want := discover("3303/0/5700"), "</3303/0/5700>;pmin=1;pmax=60;st=0.5"; got != want {
		t.Errorf("after ?gt&pmin=1: %s, want %s", got, want)
	}
}

// A resource with gt, lt or st notifies only the values that pass; the others still reach a
// Read.
func TestObserveFilter(t *testing.T) {
	f := newFixture(t)
	_, p := servedTree(t, f.objects()...)
	f.sensors.Reading("room", "temperature", 20)
	p.do(codes.PUT, "3303/0/5700", nil, query("gt=25"), query("st=2"))
	m, tok := p.doToken(nil, codes.GET, "3303/0/5700", nil, observe(0), accept(coap.TextPlain))
	if m.Code != codes.Content || !m.Options.HasOption(message.Observe) || string(m.Payload) != "20" {
		t.Fatalf("observe: %v %q", m.Code, m.Payload)
	}
	steps := []struct {
		v      float64
		notify bool
	}{
		{21, false},   // moved 1 from 20
		{21.5, false}, // 1.5 from 20
		{22, true},    // 2 from 20: st
		{23, false},   // 1 from 22
		{25.5, true},  // crossed gt 25 (and 3.5 from 22)
		{25, true},    // crossed gt 25 back
		{24.5, false}, // 0.5 from 25
	}
	for _, s := range steps {
		f.sensors.Reading("room", "temperature", s.v)
		n, ok := p.note(300 * time.Millisecond)
		switch {
		case ok != s.notify:
			t.Errorf("reading %g: notified %v, want %v", s.v, ok, s.notify)
		case ok && (string(n.m.Token) != string(tok) || string(n.m.Payload) != formatFloat(s.v)):
			t.Errorf("reading %g: notification %q token %x", s.v, n.m.Payload, n.m.Token)
		}
		if got := string(p.do(codes.GET, "3303/0/5700", nil, accept(coap.TextPlain)).Payload); got != formatFloat(s.v) {
			t.Errorf("reading %g: a Read gives %s", s.v, got)
		}
	}
	// Cancel ends the notifications.
	p.doToken(tok, codes.GET, "3303/0/5700", nil, observe(1))
	f.sensors.Reading("room", "temperature", 40)
	if n, ok := p.note(300 * time.Millisecond); ok {
		t.Errorf("a notification after Cancel: %q", n.m.Payload)
	}
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// A pin's level reaches its observers; a failing sensor answers 5.03 with why until its next
// reading, and is still discovered.
func TestLevelAndFailure(t *testing.T) {
	f := newFixture(t)
	_, p := servedTree(t, f.objects()...)
	f.gpio.Level("button", false)
	m, _ := p.doToken(nil, codes.GET, "3200/0/5500", nil, observe(0))
	if m.Code != codes.Content || string(m.Payload) != "0" {
		t.Fatalf("observe the button: %v %q", m.Code, m.Payload)
	}
	f.gpio.Level("button", true)
	if n, ok := p.note(time.Second); !ok || string(n.m.Payload) != "1" {
		t.Errorf("button pressed: notification %v %v, want 1", ok, n.m)
	}
	if err := f.gpio.Level("doorbell", true); err == nil {
		t.Error("a level for a pin that is not configured: no error")
	}

	f.sensors.Reading("room", "humidity", 40)
	f.sensors.Fail("room", "bme280 at 0x76: i2c: no ACK")
	m = p.do(codes.GET, "3304/0/5700", nil)
	if m.Code != codes.ServiceUnavailable || !strings.Contains(string(m.Payload), "no ACK") {
		t.Errorf("failing sensor: %v %q, want 5.03 with why", m.Code, m.Payload)
	}
	if m := p.do(codes.GET, "3304/0/5700", nil, accept(coap.AppLinkFormat)); m.Code != codes.Content || string(m.Payload) != "</3304/0/5700>" {
		t.Errorf("Discover of a failing sensor: %v %q", m.Code, m.Payload)
	}
	f.sensors.Reading("room", "humidity", 41)
	if m := p.do(codes.GET, "3304/0/5700", nil); m.Code != codes.Content || string(m.Payload) != "41" {
		t.Errorf("after the next reading: %v %q", m.Code, m.Payload)
	}
	if err := f.sensors.Reading("attic", "temperature", 1); err == nil {
		t.Error("a reading of a sensor that is not configured: no error")
	}
}
