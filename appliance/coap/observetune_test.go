package coap

import (
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// observed registers c as an observer of uri and returns when the answer arrived.
func observed(t *testing.T, c *client, uri string) time.Time {
	t.Helper()
	if m := c.do(codes.GET, uri, "", opt{message.Observe, nil}); !m.Options.HasOption(message.Observe) {
		t.Fatalf("observe %s: %v, not registered", uri, m.Code)
	}
	return time.Now()
}

// atLeast reports whether gap is pmin or longer, give or take the loopback's delivery (a
// timer never fires early, but the two datagrams may take different times to arrive).
func atLeast(gap, pmin time.Duration) bool { return gap >= pmin*9/10 }

func TestObservePmin(t *testing.T) {
	const pmin = 300 * time.Millisecond
	s, addr := seedServer(t, Config{})
	r := s.Resource("resource1")
	if err := r.SetObservePeriods(pmin, 0); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	last := observed(t, c, "resource1")
	// Each round's last value arrives; normally alone, unless the machine stalled for pmin
	// between two SetValues. Never sooner than pmin after the one before.
	for round, values := range [][]string{{"1", "2", "3"}, {"4", "5"}} {
		for _, v := range values {
			_ = r.SetValue([]byte(v))
		}
		for want := values[len(values)-1]; ; {
			n := c.notification(t)
			gap := time.Since(last)
			last = time.Now()
			t.Logf("round %d: %q %v after the previous notification (pmin %v)", round, n.Payload, gap, pmin)
			if !atLeast(gap, pmin) {
				t.Errorf("round %d: %v after the previous notification, want at least pmin %v", round, gap, pmin)
			}
			if string(n.Payload) == want {
				break
			}
		}
	}
	if n := c.recv(2 * pmin); n != nil {
		t.Errorf("extra notification %q", n.Payload)
	}
}

func TestObservePmax(t *testing.T) {
	const pmax = 200 * time.Millisecond
	s, addr := seedServer(t, Config{})
	r := s.Resource("resource1")
	if err := r.SetObservePeriods(0, pmax); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	last := observed(t, c, "resource1")
	var seq uint32
	for i := range 3 {
		if i == 1 {
			_ = r.SetValue([]byte("changed")) // a notification restarts pmax
			for string(c.notification(t).Payload) != "changed" {
			}
			last = time.Now()
		}
		n := c.notification(t)
		gap := time.Since(last)
		last = time.Now()
		v, _ := optUint(n, message.Observe)
		t.Logf("pmax notification %d: %q seq %d, %v after the previous one (pmax %v)", i, n.Payload, v, gap, pmax)
		if v <= seq {
			t.Errorf("notification %d: sequence %d after %d", i, v, seq)
		}
		seq = v
		if !atLeast(gap, pmax) {
			t.Errorf("notification %d: %v after the previous one, before pmax %v", i, gap, pmax)
		}
	}
	c.do(codes.GET, "resource1", "", uintOpt(message.Observe, 1))
	r.obs.mu.Lock()
	running := r.obs.periodic != nil
	r.obs.mu.Unlock()
	if running {
		t.Error("the pmax timer runs on without observers")
	}
	if n := c.recv(3 * pmax); n != nil && n.Type != message.Acknowledgement {
		t.Errorf("notification after the last observer went: %q", n.Payload)
	}
}

// TestObserveQuiet: a quiet update notifies nobody, a GET reads it, and pmax sends it.
func TestObserveQuiet(t *testing.T) {
	const pmax = 400 * time.Millisecond
	for _, tt := range []struct {
		name string
		set  func(*Resource) error
	}{
		{"value", func(r *Resource) error { return r.SetValueQuiet([]byte("quiet")) }},
		{"representations", func(r *Resource) error {
			return r.SetRepresentationsQuiet([]Representation{{MediaType: TextPlain, Value: []byte("quiet")}})
		}},
	} {
		s, addr := seedServer(t, Config{})
		r := s.Resource("resource1")
		if err := r.SetObservePeriods(0, pmax); err != nil {
			t.Fatal(err)
		}
		c := dial(t, addr)
		start := observed(t, c, "resource1")
		if err := tt.set(r); err != nil {
			t.Fatal(err)
		}
		if m := dial(t, addr).do(codes.GET, "resource1", ""); string(m.Payload) != "quiet" {
			t.Errorf("%s: GET after a quiet update: %q", tt.name, m.Payload)
		}
		// The quiet value comes with pmax (after a pmax of the old one if the machine
		// stalled before the update), never before.
		for {
			n := c.notification(t)
			gap := time.Since(start)
			t.Logf("%s: notification %q %v after the registration (pmax %v)", tt.name, n.Payload, gap, pmax)
			if !atLeast(gap, pmax) {
				t.Errorf("%s: %q %v after the registration, before pmax %v", tt.name, n.Payload, gap, pmax)
			}
			if string(n.Payload) == "quiet" {
				break
			}
		}
	}
}

// TestObserveNonConfirmable: with NonConfirmable even ConEvery 1 sends NON, but a day after
// the last CON the next notification is CON (RFC 7641 §4.5).
func TestObserveNonConfirmable(t *testing.T) {
	s, addr := seedServer(t, Config{Observe: ObserveConfig{ConEvery: 1, NonConfirmable: true}})
	r := s.Resource("resource1")
	c := dial(t, addr)
	observed(t, c, "resource1")
	for i, v := range []string{"1", "2", "3"} {
		_ = r.SetValue([]byte(v))
		if n := c.notification(t); n.Type != message.NonConfirmable {
			t.Errorf("notification %d: %v, want NON", i, n.Type)
		}
	}
	r.obs.mu.Lock()
	for _, o := range r.obs.m {
		o.lastCON = o.lastCON.Add(-conAtLeastOnce)
	}
	r.obs.mu.Unlock()
	_ = r.SetValue([]byte("a day later"))
	if n := c.notification(t); n.Type != message.Confirmable {
		t.Errorf("a day after the last CON: %v, want CON", n.Type)
	}
}

func TestSetObservePeriodsErrors(t *testing.T) {
	s, _ := seedServer(t, Config{})
	r := s.Resource("resource1")
	for _, tt := range []struct {
		pmin, pmax time.Duration
		ok         bool
	}{
		{0, 0, true},
		{time.Second, time.Second, true},
		{time.Second, 0, true},
		{2 * time.Second, time.Second, false},
		{-time.Second, 0, false},
		{0, -time.Second, false},
	} {
		err := r.SetObservePeriods(tt.pmin, tt.pmax)
		if (err == nil) != tt.ok {
			t.Errorf("pmin %v pmax %v: %v", tt.pmin, tt.pmax, err)
		}
	}
}
