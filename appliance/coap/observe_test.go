package coap

import (
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// notification waits for the next notification, ACKing it when confirmable.
func (c *client) notification(t *testing.T) *message.Message {
	t.Helper()
	m := c.recv(3 * time.Second)
	if m == nil {
		t.Fatal("no notification")
	}
	if m.Type == message.Confirmable {
		c.sendRaw(emptyMessage(message.Acknowledgement, uint16(m.MessageID), make([]byte, 4)))
	}
	return m
}

func TestObserve(t *testing.T) {
	s, addr := seedServer(t, Config{Observe: ObserveConfig{ConEvery: 2}})
	c := dial(t, addr)
	m := c.do(codes.GET, "resource1", "", opt{message.Observe, nil})
	first, ok := optUint(m, message.Observe)
	if m.Code != codes.Content || !ok {
		t.Fatalf("registration: %v observe=%v", m.Code, ok)
	}
	if got := s.notify.observers(); got != 1 {
		t.Fatalf("%d observers", got)
	}
	r := s.Resource("resource1")
	last := first
	var types []message.Type
	for i, change := range []func() error{
		func() error { return r.SetValue([]byte("by api")) },
		func() error { dial(t, addr).do(codes.PUT, "resource1", "by put"); return nil },
		func() error { dial(t, addr).do(codes.POST, "resource1", "by post"); return nil },
	} {
		if err := change(); err != nil {
			t.Fatal(err)
		}
		n := c.notification(t)
		seq, _ := optUint(n, message.Observe)
		if seq <= last {
			t.Errorf("notification %d: sequence %d after %d", i, seq, last)
		}
		last = seq
		if string(n.Token) != "\x01\x02\x03\x04" {
			t.Errorf("token % x", n.Token)
		}
		types = append(types, n.Type)
		want := []string{"by api", "by put", "by post"}[i]
		if string(n.Payload) != want {
			t.Errorf("notification %d: %q, want %q", i, n.Payload, want)
		}
	}
	if types[1] != message.Confirmable || types[0] != message.NonConfirmable {
		t.Errorf("types %v: with con_every 2 the second is CON", types)
	}
	// Deregister with Observe=1.
	c.do(codes.GET, "resource1", "", uintOpt(message.Observe, 1))
	if got := s.notify.observers(); got != 0 {
		t.Errorf("%d observers after deregistration", got)
	}
}

func TestObserverDroppedOnReset(t *testing.T) {
	s, addr := seedServer(t, Config{})
	c := dial(t, addr)
	c.do(codes.GET, "resource1", "", opt{message.Observe, nil})
	_ = s.Resource("resource1").SetValue([]byte("x"))
	n := c.recv(2 * time.Second)
	c.sendRaw(emptyMessage(message.Reset, uint16(n.MessageID), make([]byte, 4)))
	waitFor(t, func() bool { return s.notify.observers() == 0 }, "observer dropped after RST")
}

func TestObserverDroppedOnTimeout(t *testing.T) {
	s, err := NewServer(withListen(Config{Observe: ObserveConfig{ConEvery: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	s.ackTimeout = 20 * time.Millisecond // RFC 7252's 2 s would make this test take a minute
	if _, err := s.AddResource("resource1", WithMethods(GET)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, startServer(t, s))
	c.do(codes.GET, "resource1", "", opt{message.Observe, nil})
	_ = s.Resource("resource1").SetValue([]byte("x"))
	// Never ACK: after MAX_RETRANSMIT retransmissions of the same message the observer goes.
	var mid uint16
	for i := 0; i < 1+maxRetransmit; i++ {
		n := c.recv(5 * time.Second)
		if n == nil || n.Type != message.Confirmable {
			t.Fatalf("transmission %d: %v", i, n)
		}
		if i > 0 && uint16(n.MessageID) != mid {
			t.Errorf("retransmission with new MID %d", n.MessageID)
		}
		mid = uint16(n.MessageID)
	}
	waitFor(t, func() bool { return s.notify.observers() == 0 }, "observer dropped after timeout")
}

func TestObserveDeleteSends404(t *testing.T) {
	s, addr := seedServer(t, Config{})
	c := dial(t, addr)
	c.do(codes.GET, "resource2", "", opt{message.Observe, nil})
	dial(t, addr).do(codes.DELETE, "resource2", "")
	n := c.notification(t)
	if n.Code != codes.NotFound || n.Options.HasOption(message.Observe) {
		t.Errorf("after DELETE: %v observe=%v", n.Code, n.Options.HasOption(message.Observe))
	}
	if s.notify.observers() != 0 {
		t.Error("observer kept")
	}
}

func TestObserveMinInterval(t *testing.T) {
	s, addr := seedServer(t, Config{Observe: ObserveConfig{MinInterval: 300 * time.Millisecond}})
	c := dial(t, addr)
	c.do(codes.GET, "resource1", "", opt{message.Observe, nil})
	r := s.Resource("resource1")
	for _, v := range []string{"1", "2", "3", "4"} {
		_ = r.SetValue([]byte(v))
	}
	if n := c.notification(t); string(n.Payload) != "1" {
		t.Errorf("first: %q", n.Payload)
	}
	if n := c.notification(t); string(n.Payload) != "4" {
		t.Errorf("after the interval the latest value: %q", n.Payload)
	}
	if n := c.recv(500 * time.Millisecond); n != nil {
		t.Errorf("extra notification %q", n.Payload)
	}
}

func TestObserverLimit(t *testing.T) {
	s, addr := seedServer(t, Config{Limits: Limits{MaxObservers: 1}})
	a, b := dial(t, addr), dial(t, addr)
	if m := a.do(codes.GET, "resource1", "", opt{message.Observe, nil}); !m.Options.HasOption(message.Observe) {
		t.Fatal("first not registered")
	}
	m := b.do(codes.GET, "resource1", "", opt{message.Observe, nil})
	if m.Code != codes.Content || m.Options.HasOption(message.Observe) {
		t.Errorf("past the limit: %v observe=%v; want a plain 2.05", m.Code, m.Options.HasOption(message.Observe))
	}
	if s.notify.observers() != 1 {
		t.Error(s.notify.observers())
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting: %s", what)
}
