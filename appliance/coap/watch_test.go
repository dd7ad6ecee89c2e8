package coap

import (
	"sync"
	"testing"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// TestWatch: what a status display reads of the server: each change of a value (by the
// application or by a client's PUT), the requests served, the observers, hidden resources
// and failures.
func TestWatch(t *testing.T) {
	s, addr := seedServer(t, Config{})
	var mu sync.Mutex
	var changed []string
	s.OnChange(func(r *Resource) {
		mu.Lock()
		changed = append(changed, r.URI())
		mu.Unlock()
	})
	hidden, err := s.AddResource("sys/x", WithHidden())
	if err != nil {
		t.Fatal(err)
	}
	if !hidden.Hidden() || s.Resource("resource1").Hidden() {
		t.Error("Hidden: wrong for sys/x or resource1")
	}
	if err := s.Resource("resource2").SetValue([]byte("<a/>")); err != nil {
		t.Fatal(err)
	}
	before := s.Requests()
	c := dial(t, addr)
	if m := c.do(codes.PUT, "resource1", "by a client"); m.Code != codes.Changed {
		t.Fatalf("PUT: %v", m.Code)
	}
	if m := c.do(codes.GET, "resource1", "", uintOpt(message.Observe, 0)); m.Code != codes.Content {
		t.Fatalf("GET with observe: %v", m.Code)
	}
	if n := s.Requests() - before; n != 2 {
		t.Errorf("Requests grew by %d, want 2", n)
	}
	if n := s.Observers(); n != 1 {
		t.Errorf("Observers = %d, want 1", n)
	}
	mu.Lock()
	if len(changed) != 2 || changed[0] != "resource2" || changed[1] != "resource1" {
		t.Errorf("OnChange got %q, want resource2 then resource1", changed)
	}
	mu.Unlock()
	r := s.Resource("resource1")
	r.SetFailure("sensor gone")
	if r.Failure() != "sensor gone" {
		t.Errorf("Failure = %q", r.Failure())
	}
	s.OnChange(nil)
	_ = r.SetValue([]byte("x")) // no call after OnChange(nil)
	if r.Failure() != "" {
		t.Errorf("Failure after a new value = %q", r.Failure())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changed) != 2 {
		t.Errorf("OnChange called after OnChange(nil): %q", changed)
	}
}
