package dhcp4

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b[:len(b)-1]))
	return len(b), nil
}

// leaseAt is the lease the test server gives for a, acquired at acquired.
func leaseAt(a string, acquired time.Time) Lease {
	return Lease{
		Address:  netip.MustParsePrefix(a),
		Router:   testRouter,
		DNS:      testDNS,
		Server:   testServerID,
		Duration: testLease,
		T1:       testT1,
		T2:       testT2,
		Acquired: acquired,
		Domain:   "pigw.test",
	}
}

func checkLease(t *testing.T, what string, got, want Lease) {
	t.Helper()
	if !sameData(got, want) || !got.Acquired.Equal(want.Acquired) {
		t.Errorf("%s: lease %+v, want %+v", what, got, want)
	}
}

func checkLeases(t *testing.T, what string, got []Lease, want ...Lease) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d leases %v, want %d", what, len(got), got, len(want))
	}
	for i := range got {
		checkLease(t, what, got[i], want[i])
	}
}

// checkRequest checks a REQUEST's destination and the fields that tell the states apart
// (RFC 2131 table 4).
func checkRequest(t *testing.T, s sent, to, ciaddr, requested string, serverID bool) {
	t.Helper()
	m := s.m
	if s.to != to {
		t.Errorf("REQUEST sent to %s, want %s", s.to, to)
	}
	if got := m.ClientIPAddr.String(); got != ciaddr {
		t.Errorf("REQUEST ciaddr %s, want %s", got, ciaddr)
	}
	if got := m.RequestedIPAddress(); (got == nil && requested != "") || (got != nil && got.String() != requested) {
		t.Errorf("REQUEST requested IP %v, want %q", got, requested)
	}
	if got := m.ServerIdentifier() != nil; got != serverID {
		t.Errorf("REQUEST has server identifier: %v, want %v", got, serverID)
	}
	if got := m.HostName(); got != "pigw-test" {
		t.Errorf("REQUEST host name %q", got)
	}
	if got := m.Options.Get(dhcpv4.OptionClientIdentifier); string(got) != string(append([]byte{1}, testHW...)) {
		t.Errorf("REQUEST client identifier %x", got)
	}
}

const bcast = "255.255.255.255:67"

// TestServerAway follows one lease: DISCOVER, OFFER, REQUEST, ACK; a renewal at T1; then the
// server goes away, and the address is kept through RENEWING and REBINDING until the lease
// expires, when the client starts again.
func TestServerAway(t *testing.T) {
	h := start(t, nil)
	h.rec.waitStates(t, StateSelecting, StateRequesting, StateBound)
	first := leaseAt("10.55.0.100/24", t0)
	_, bound, _ := h.rec.snapshot()
	checkLeases(t, "OnBound", bound, first)
	if d := h.conn.sentOf(dhcpv4.MessageTypeDiscover); len(d) != 1 || d[0].to != bcast {
		t.Errorf("DISCOVERs %v", d)
	} else if got := d[0].m.HostName(); got != "pigw-test" {
		t.Errorf("DISCOVER host name (option 12) %q, want pigw-test", got) // routers name the lease by the first message
	}
	reqs := h.conn.sentOf(dhcpv4.MessageTypeRequest)
	if len(reqs) != 1 {
		t.Fatalf("%d REQUESTs", len(reqs))
	}
	checkRequest(t, reqs[0], bcast, "0.0.0.0", "10.55.0.100", true)

	// At T1 a unicast renewal extends the lease.
	h.clk.waitTimer(t, t0.Add(testT1))
	h.clk.advanceTo(t0.Add(testT1))
	h.rec.waitStates(t, StateSelecting, StateRequesting, StateBound, StateRenewing, StateBound)
	reqs = h.conn.sentOf(dhcpv4.MessageTypeRequest)
	checkRequest(t, reqs[len(reqs)-1], "10.55.0.1:67", "10.55.0.100", "", false)
	second := leaseAt("10.55.0.100/24", t0.Add(testT1))
	l, ok := h.c.Lease()
	if !ok {
		t.Fatal("no lease after renewal")
	}
	checkLease(t, "Lease after renewal", l, second)
	if _, bound, _ := h.rec.snapshot(); len(bound) != 1 {
		t.Errorf("OnBound called again for an unchanged lease: %v", bound)
	}

	// The server goes away: renewing at T1, rebinding at T2, the address kept.
	h.srv.setMode(drop)
	h.clk.waitTimer(t, second.Renew())
	h.clk.advanceTo(second.Renew())
	h.rec.waitStates(t, StateSelecting, StateRequesting, StateBound, StateRenewing, StateBound, StateRenewing)
	h.clk.waitTimer(t, second.Rebind()) // the next renewal would be after T2: T2 comes first
	if _, ok := h.c.Lease(); !ok {
		t.Error("address dropped while renewing")
	}
	h.clk.advanceTo(second.Rebind())
	h.rec.waitStates(t, StateSelecting, StateRequesting, StateBound, StateRenewing, StateBound, StateRenewing, StateRebinding)
	reqs = h.conn.sentOf(dhcpv4.MessageTypeRequest)
	checkRequest(t, reqs[len(reqs)-1], bcast, "10.55.0.100", "", false)
	h.clk.waitTimer(t, second.Expiry())
	if l, ok := h.c.Lease(); !ok || l.Address != second.Address {
		t.Errorf("address not kept while rebinding: %v %v", l, ok)
	}
	if _, _, expired := h.rec.snapshot(); len(expired) != 0 {
		t.Fatalf("expired before the lease's end: %v", expired)
	}

	// At expiry the address goes, and the client looks for a server again.
	h.clk.advanceTo(second.Expiry())
	h.rec.waitStates(t, StateSelecting, StateRequesting, StateBound, StateRenewing, StateBound, StateRenewing,
		StateRebinding, StateInit, StateSelecting)
	_, _, expired := h.rec.snapshot()
	checkLeases(t, "OnExpired", expired, second)
	if at := h.rec.expAt[0]; !at.Equal(second.Expiry()) {
		t.Errorf("expired at %v, want %v", at, second.Expiry())
	}
	if _, ok := h.c.Lease(); ok {
		t.Error("Lease reports an expired lease")
	}
	if len(h.srv.received(dhcpv4.MessageTypeRequest)) < 4 {
		t.Error("the requests did not reach server4")
	}
}

// TestRenewalNAK: a DHCPNAK to a renewal drops the address at once.
func TestRenewalNAK(t *testing.T) {
	h := start(t, nil)
	h.rec.waitStates(t, StateSelecting, StateRequesting, StateBound)
	h.srv.setMode(nak)
	h.clk.waitTimer(t, t0.Add(testT1))
	h.clk.advanceTo(t0.Add(testT1))
	h.rec.waitStates(t, StateSelecting, StateRequesting, StateBound, StateRenewing, StateInit, StateSelecting)
	_, _, expired := h.rec.snapshot()
	checkLeases(t, "OnExpired", expired, leaseAt("10.55.0.100/24", t0))
	if at := h.rec.expAt[0]; !at.Equal(t0.Add(testT1)) {
		t.Errorf("expired at %v, want at once (%v)", at, t0.Add(testT1))
	}
	if _, ok := h.c.Lease(); ok {
		t.Error("Lease reports a refused lease")
	}
}

// TestInitReboot starts with the lease of an earlier boot.
func TestInitReboot(t *testing.T) {
	previous := func(acquired time.Time) *Lease {
		l := leaseAt("10.55.0.77/24", acquired)
		return &l
	}
	for _, tc := range []struct {
		name     string
		known    bool // the server still has the lease
		mode     string
		previous *Lease
		silent   bool // wait through the retransmissions
		states   []string
		bound    []Lease
	}{
		{
			name: "server confirms", known: true, mode: serve, previous: previous(t0.Add(-10 * time.Second)),
			states: []string{StateRebooting, StateBound},
			bound:  []Lease{leaseAt("10.55.0.77/24", t0)},
		},
		{
			name: "server refuses", mode: serve, previous: previous(t0.Add(-10 * time.Second)),
			states: []string{StateRebooting, StateInit, StateSelecting, StateRequesting, StateBound},
			bound:  []Lease{leaseAt("10.55.0.100/24", t0)},
		},
		{
			name: "no server: the previous lease is used", known: true, mode: drop, previous: previous(t0.Add(-10 * time.Second)),
			silent: true,
			states: []string{StateRebooting, StateBound},
			bound:  []Lease{leaseAt("10.55.0.77/24", t0.Add(-10*time.Second))},
		},
		{
			name: "no server, clock before the lease: not used", known: true, mode: drop, previous: previous(t0.Add(time.Hour)),
			silent: true,
			states: []string{StateRebooting, StateInit, StateSelecting},
		},
		{
			name: "previous lease expired", known: true, mode: serve, previous: previous(t0.Add(-testLease)),
			states: []string{StateSelecting, StateRequesting, StateBound},
			bound:  []Lease{leaseAt("10.55.0.77/24", t0)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, func(s *testServer, cfg *Config) {
				if tc.known {
					s.assign(testHW, netip.MustParseAddr("10.55.0.77"))
				}
				s.setMode(tc.mode)
				cfg.Previous = tc.previous
			})
			if tc.silent {
				for i := 1; i <= maxReboots; i++ {
					w := h.clk.nextTimer(t)
					if d := w.Sub(h.clk.Now()); d < backoff(i, -time.Second) || d > backoff(i, time.Second) {
						t.Errorf("retransmission %d after %v", i, d)
					}
					h.clk.advanceTo(w)
				}
			}
			h.rec.waitStates(t, tc.states...)
			_, bound, expired := h.rec.snapshot()
			checkLeases(t, "OnBound", bound, tc.bound...)
			if len(expired) != 0 {
				t.Errorf("OnExpired %v", expired)
			}
			if tc.previous.Expiry().After(t0) {
				reqs := h.conn.sentOf(dhcpv4.MessageTypeRequest)
				if len(reqs) == 0 {
					t.Fatal("no REQUEST")
				}
				checkRequest(t, reqs[0], bcast, "0.0.0.0", "10.55.0.77", false)
			}
			if tc.silent && len(tc.bound) > 0 {
				h.clk.waitTimer(t, tc.bound[0].Renew())
			}
		})
	}
}

// TestShutdown: when Run stops, the lease is released if so configured, and the address
// removed.
func TestShutdown(t *testing.T) {
	for _, release := range []bool{true, false} {
		t.Run(map[bool]string{true: "release", false: "keep"}[release], func(t *testing.T) {
			h := start(t, func(_ *testServer, cfg *Config) { cfg.Release = release })
			h.rec.waitStates(t, StateSelecting, StateRequesting, StateBound)
			if err := h.shutdown(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if s := h.c.State(); s != StateStopped {
				t.Errorf("state %s after Run", s)
			}
			_, _, expired := h.rec.snapshot()
			checkLeases(t, "OnExpired", expired, leaseAt("10.55.0.100/24", t0))
			if _, ok := h.c.Lease(); ok {
				t.Error("Lease reports a lease after Run")
			}
			sent := h.conn.sentOf(dhcpv4.MessageTypeRelease)
			if !release {
				if len(sent) != 0 {
					t.Errorf("RELEASE sent: %v", sent)
				}
				return
			}
			if len(sent) != 1 || sent[0].to != "10.55.0.1:67" {
				t.Fatalf("RELEASEs %v", sent)
			}
			waitFor(t, "RELEASE at the server", func() bool { return len(h.srv.received(dhcpv4.MessageTypeRelease)) == 1 })
			m := h.srv.received(dhcpv4.MessageTypeRelease)[0]
			if m.ClientIPAddr.String() != "10.55.0.100" || !m.ServerIdentifier().Equal(testServerID.AsSlice()) {
				t.Errorf("RELEASE ciaddr %v server %v", m.ClientIPAddr, m.ServerIdentifier())
			}
		})
	}
}

// failing is a Transport whose Receive fails when told, as a raw socket does when its
// interface goes away.
type failing struct {
	Transport
	fail chan struct{}
}

func (f failing) Receive(ctx context.Context) (*dhcpv4.DHCPv4, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := make(chan struct{})
	go func() {
		select {
		case <-f.fail:
			close(failed)
			cancel()
		case <-ctx.Done():
		}
	}()
	m, err := f.Transport.Receive(ctx)
	select {
	case <-failed:
		return nil, errors.New("network is down")
	default:
		return m, err
	}
}

// TestRunAgain: a Run that fails keeps the address, and the next Run asks for the same lease
// (INIT-REBOOT) without applying it again.
func TestRunAgain(t *testing.T) {
	fail := make(chan struct{}, 1)
	h := start(t, func(_ *testServer, cfg *Config) { cfg.Transport = failing{cfg.Transport, fail} })
	h.rec.waitStates(t, StateSelecting, StateRequesting, StateBound)
	fail <- struct{}{}
	select {
	case err := <-h.done:
		if err == nil {
			t.Fatal("Run returned nil")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not fail")
	}
	if _, ok := h.c.Lease(); !ok {
		t.Error("address dropped on failure")
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go func() { h.done <- h.c.Run(ctx) }()
	h.rec.waitStates(t, StateSelecting, StateRequesting, StateBound, StateStopped, StateRebooting, StateBound)
	_, bound, expired := h.rec.snapshot()
	if len(bound) != 1 || len(expired) != 0 {
		t.Errorf("OnBound %v, OnExpired %v: want the address left alone", bound, expired)
	}
	reqs := h.conn.sentOf(dhcpv4.MessageTypeRequest)
	checkRequest(t, reqs[len(reqs)-1], bcast, "0.0.0.0", "10.55.0.100", false)
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without an interface succeeded")
	}
	c, err := New(Config{Interface: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.State(); s != StateInit {
		t.Errorf("state %s before Run", s)
	}
	if _, ok := c.Lease(); ok {
		t.Error("lease before Run")
	}
}
