package registration

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// TestTimeoutRegistersAgain cuts the link: the Update times out, the Registers that follow
// time out with a back-off that doubles, and once the link is back the client is registered
// again.
func TestTimeoutRegistersAgain(t *testing.T) {
	rd := newRegistrar(t, false)
	l := newLink(t, rd.addr)
	clock := newFastClock()
	c := start(t, Config{Conn: session(t, l.addr(), fastSession), Clock: clock, Lifetime: 86400 * time.Second})
	rd.next("Register")
	c.until(t, "registered", registered)
	l.down.Store(true)
	c.UpdateNow()
	fails := 0
	st := c.until(t, "four failed Registers", func(st State) bool {
		if strings.HasPrefix(st.LastError, "register at") && !st.Registered {
			fails++
		}
		return fails == 4
	})
	if !strings.Contains(st.LastError, "timeout") {
		t.Errorf("last error %q, want a timeout", st.LastError)
	}
	l.down.Store(false)
	c.until(t, "registered again", func(st State) bool { return st.Registered && st.Registrations == 2 })

	var dropped []string
	for len(l.dropped) > 0 {
		dropped = append(dropped, <-l.dropped)
	}
	t.Logf("dropped while the link was down: %q", dropped)
	if len(dropped) < 5 || !strings.HasPrefix(dropped[0], "POST /rd/1?") || !strings.HasPrefix(dropped[1], "POST /rd?ep=") {
		t.Errorf("dropped %q: want the Update, then Registers", dropped)
	}
	// With no jitter (0.5), the waits between the failed Registers are 1 s, 2 s, 4 s, 8 s.
	asked := clock.asked()
	t.Logf("timers asked: %v", asked)
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	var waits []time.Duration
	for _, d := range asked {
		if slices.Contains(want, d) {
			waits = append(waits, d)
		}
	}
	if !slices.Equal(waits[:min(4, len(waits))], want) {
		t.Errorf("back-off waits %v, want %v", waits, want)
	}
}

// TestDeregisterBounded stops a client whose server no longer answers: the De-register goes
// out and Run returns after the engine's own timeout, not after the session's retransmissions
// (about 15 s to 22 s).
func TestDeregisterBounded(t *testing.T) {
	rd := newRegistrar(t, false)
	l := newLink(t, rd.addr)
	s := session(t, l.addr(), coap.SessionOptions{AckTimeout: time.Second, Timeout: 30 * time.Second})
	c := start(t, Config{Conn: s, Lifetime: 86400 * time.Second, DeregisterTimeout: 500 * time.Millisecond})
	rd.next("Register")
	c.until(t, "registered", registered)
	l.down.Store(true)
	took := c.stop(t)
	t.Logf("Run returned %v after its context ended (De-register timeout 500 ms)", took)
	if took > 5*time.Second {
		t.Errorf("Run took %v to return", took)
	}
	select {
	case d := <-l.dropped:
		if !strings.HasPrefix(d, "DELETE /rd/1") {
			t.Errorf("dropped %s, want the De-register", d)
		}
	case <-time.After(time.Second):
		t.Error("no De-register sent")
	}
	if st := c.State(); st.Registered || !strings.Contains(st.LastError, "de-register rd/1") {
		t.Errorf("state %+v: want unregistered with the De-register's error", st)
	}
}

// TestBadAnswers answers Register wrongly: the state says what came back, by its code, and
// the client tries again after a back-off.
func TestBadAnswers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer coap.Answer
		want   []string
	}{
		{"4.00 with a diagnostic", coap.Answer{Code: coap.BadRequest, ContentFormat: coap.TextPlain, Payload: []byte("lt too short")},
			[]string{"4.00", `"lt too short"`, "want 2.01 Created"}},
		{"4.03", coap.Answer{Code: coap.Forbidden, ContentFormat: coap.NoMediaType}, []string{"4.03", "want 2.01 Created"}},
		{"2.04 instead of 2.01", coap.Answer{Code: coap.Changed, ContentFormat: coap.NoMediaType}, []string{"2.04", "want 2.01 Created"}},
		{"2.01 without Location-Path", coap.Answer{Code: coap.Code(codes.Created), ContentFormat: coap.NoMediaType}, []string{"2.01 Created without a Location-Path"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd := newRegistrar(t, false)
			rd.mu.Lock()
			rd.register = func(coap.Incoming) (coap.Answer, bool) { return tt.answer, true }
			rd.mu.Unlock()
			c := start(t, Config{Conn: session(t, rd.addr, fastSession)})
			rd.next("Register")
			st := c.until(t, "an error", func(st State) bool { return st.LastError != "" })
			t.Logf("last error: %s", st.LastError)
			for _, w := range tt.want {
				if !strings.Contains(st.LastError, w) {
					t.Errorf("last error %q does not say %q", st.LastError, w)
				}
			}
			if st.Registered || st.Registrations != 0 || st.NextUpdate.IsZero() {
				t.Errorf("state %+v: want unregistered, a Register due", st)
			}
			if e := rd.next("Register again"); e.path != "rd" {
				t.Errorf("%s, want Register again", e)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	conn := session(t, newRegistrar(t, false).addr, fastSession)
	links := func() []byte { return nil }
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no conn", Config{Path: "rd", Endpoint: "e", Lifetime: time.Minute, Links: links}, "no connection"},
		{"no path", Config{Conn: conn, Endpoint: "e", Lifetime: time.Minute, Links: links}, "no registration path"},
		{"no endpoint", Config{Conn: conn, Path: "rd", Lifetime: time.Minute, Links: links}, "no endpoint name"},
		{"no links", Config{Conn: conn, Path: "rd", Endpoint: "e", Lifetime: time.Minute}, "no links function"},
		{"lifetime 0", Config{Conn: conn, Path: "rd", Endpoint: "e", Links: links}, "lifetime 0s: must be whole seconds from 1s to 4294967295s"},
		{"lifetime 1.5 s", Config{Conn: conn, Path: "rd", Endpoint: "e", Lifetime: 1500 * time.Millisecond, Links: links}, "lifetime 1.5s"},
		{"lifetime 2^32 s", Config{Conn: conn, Path: "rd", Endpoint: "e", Lifetime: (1 << 32) * time.Second, Links: links}, "lifetime 1193046h28m16s"},
		{"back-off", Config{Conn: conn, Path: "rd", Endpoint: "e", Lifetime: time.Minute, Links: links, MinBackoff: time.Minute, MaxBackoff: time.Second},
			"longest back-off 1s is shorter than the shortest 1m0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want %q", err, tt.want)
			}
		})
	}
	c, err := New(Config{Conn: conn, Path: "rd", Endpoint: "e", Lifetime: time.Minute, Links: links})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetLifetime(0); err == nil || !strings.Contains(err.Error(), "lifetime 0s") {
		t.Errorf("SetLifetime(0): %v", err)
	}
	if st := c.State(); st.Lifetime != 60 || !strings.Contains(st.Server, "127.0.0.1") {
		t.Errorf("state %+v: want lifetime 60 and the session's address as the server", st)
	}
}

func TestSchedule(t *testing.T) {
	for _, tt := range []struct{ lt, want time.Duration }{
		{time.Second, 500 * time.Millisecond},
		{60 * time.Second, 30 * time.Second},
		{300 * time.Second, 150 * time.Second},
		{494 * time.Second, 247 * time.Second},
		{495 * time.Second, 248 * time.Second},
		{86400 * time.Second, 86153 * time.Second},
	} {
		if got := updateDelay(tt.lt); got != tt.want {
			t.Errorf("updateDelay(%v) = %v, want %v", tt.lt, got, tt.want)
		}
	}
	for _, tt := range []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{0, 0.5, time.Second},
		{1, 0.5, 2 * time.Second},
		{8, 0.5, 256 * time.Second},
		{9, 0.5, 5 * time.Minute},
		{1000, 0.5, 5 * time.Minute},
		{0, 0, 500 * time.Millisecond},
		{2, 0.75, 5 * time.Second},
		{1000, 0, 150 * time.Second},
	} {
		if got := backoff(tt.n, time.Second, 5*time.Minute, tt.jitter); got != tt.want {
			t.Errorf("backoff(%d, jitter %v) = %v, want %v", tt.n, tt.jitter, got, tt.want)
		}
	}
}

// TestReconnect: after a failed Update the engine asks Reconnect for a new connection before
// it registers again, and goes on with it; a Reconnect that fails counts as a failed Register.
func TestReconnect(t *testing.T) {
	rd := newRegistrar(t, false)
	l := newLink(t, rd.addr)
	var calls atomic.Int32
	reconnect := func(ctx context.Context) (Conn, error) {
		if calls.Add(1) == 1 {
			return nil, errors.New("no route to the server")
		}
		return session(t, rd.addr, fastSession), nil // around the cut link
	}
	c := start(t, Config{Conn: session(t, l.addr(), fastSession), Reconnect: reconnect, Lifetime: 86400 * time.Second})
	rd.next("Register")
	c.until(t, "registered", registered)
	l.down.Store(true) // the old connection is dead for good
	c.UpdateNow()
	c.until(t, "the failed reconnect in the state", func(st State) bool {
		return strings.Contains(st.LastError, "connect to") && strings.Contains(st.LastError, "no route")
	})
	c.until(t, "registered over the new connection", func(st State) bool { return st.Registered && st.Registrations == 2 })
	if n := calls.Load(); n != 2 {
		t.Errorf("Reconnect called %d times, want 2 (one failed, one that worked)", n)
	}
	if reg := rd.next("Register over the new connection"); reg.path != "rd" {
		t.Errorf("%s, want POST rd", reg)
	}
	c.UpdateNow()
	if up := rd.next("Update over the new connection"); up.path != "rd/2" {
		t.Errorf("Update %s, want POST rd/2", up)
	}
}
