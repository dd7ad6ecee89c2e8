package dhcp4

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/pigw/pigw/internal/fuzzcheck"
)

// dnsmasq's answers to a client with testHW, captured on a veth pair between two network
// namespaces from dnsmasq 2.90 (--dhcp-range=10.99.0.100,10.99.0.150,255.255.255.0,2m, a
// router and two DNS servers, domain pigw.test): an OFFER and an ACK of 10.99.0.145, and a
// NAK to a REQUEST for an address it does not give.
func capture(tb testing.TB, kind string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/dnsmasq-2.90-" + kind + ".bin")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseDnsmasqAck(t *testing.T) {
	m, err := dhcpv4.FromBytes(capture(t, "ack"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := parseLease(m, t0, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	want := Lease{Address: netip.MustParsePrefix("10.99.0.145/24"), Router: netip.MustParseAddr("10.99.0.1"),
		DNS: []netip.Addr{netip.MustParseAddr("10.99.0.1"), netip.MustParseAddr("10.99.0.2")}, Server: netip.MustParseAddr("10.99.0.1"),
		Duration: 2 * time.Minute, T1: time.Minute, T2: 105 * time.Second, Acquired: t0, Hostname: "pigw-test", Domain: "pigw.test"}
	checkLease(t, "dnsmasq's ACK", l, want)
}

// FuzzParseLease reads DHCPACKs: a lease taken from one is one Validate passes, made of what
// the ACK says (its address, a router and DNS servers it lists, its lease time, its server
// or the one asked), and parsing allocates in proportion to the packet.
func FuzzParseLease(f *testing.F) {
	for _, k := range []string{"offer", "ack", "nak"} {
		f.Add(capture(f, k))
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var m *dhcpv4.DHCPv4
		var err error
		fuzzcheck.Bounded(t, len(pkt), 64, func() { m, err = dhcpv4.FromBytes(pkt) })
		if err != nil {
			return
		}
		for _, server := range []netip.Addr{{}, testServerID} {
			l, err := parseLease(m, t0, server)
			if err != nil {
				continue
			}
			if err := l.Validate(); err != nil {
				t.Fatalf("lease %+v from %x: %v", l, pkt, err)
			}
			if yi, _ := addrFrom(m.YourIPAddr); l.Address.Addr() != yi || !l.Acquired.Equal(t0) {
				t.Fatalf("lease %+v, yiaddr %v", l, m.YourIPAddr)
			}
			if l.Duration != m.IPAddressLeaseTime(0) {
				t.Fatalf("lease %+v, lease time %v", l, m.IPAddressLeaseTime(0))
			}
			if sid, ok := addrFrom(m.ServerIdentifier()); ok && l.Server != sid && l.Server != server {
				t.Fatalf("lease %+v, server identifier %v, server asked %v", l, sid, server)
			}
			listed := func(a netip.Addr, ips []net.IP) bool {
				for _, ip := range ips {
					if b, ok := addrFrom(ip); ok && a == b {
						return true
					}
				}
				return false
			}
			if l.Router.IsValid() && !listed(l.Router, m.Router()) {
				t.Fatalf("lease %+v, routers %v", l, m.Router())
			}
			for _, d := range l.DNS {
				if !listed(d, m.DNS()) {
					t.Fatalf("lease %+v, DNS servers %v", l, m.DNS())
				}
			}
		}
	})
}

// recTransport records what the client sends.
type recTransport struct{ sent []*dhcpv4.DHCPv4 }

func (r *recTransport) Send(_ context.Context, m *dhcpv4.DHCPv4, _ *net.UDPAddr) error {
	r.sent = append(r.sent, m)
	return nil
}
func (r *recTransport) Receive(ctx context.Context) (*dhcpv4.DHCPv4, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (r *recTransport) Close() error { return nil }

// Steps of a FuzzClient script: a message from a server, made an answer to the client's
// transaction when the step says so; the client's timer firing; time passing without it.
const (
	stepPacket = iota // then a length byte and the message
	stepAnswer        // a packet with the client's xid, hardware address and BOOTREPLY
	stepTimer         // the clock goes to the timer's time and it fires
	stepWait          // then a byte: minutes pass, but not past the timer
	stepKinds
)

// script builds a FuzzClient script.
func script(steps ...any) []byte {
	var b []byte
	for _, s := range steps {
		switch s := s.(type) {
		case int:
			b = append(b, byte(s))
		case []byte:
			b = append(b, byte(len(s)), byte(len(s)>>8))
			b = append(b, s...)
		}
	}
	return b
}

// FuzzClient drives the client's state machine, as Run does, with messages from servers and
// the passing of time: from INIT, or from a previous lease as the lease file gives it. Each
// address applied is a valid lease's, removed before another is applied and when the client
// stops; Lease reports what is applied; the client never spins on its timer; what it sends
// encodes.
func FuzzClient(f *testing.F) {
	offer, ack, nak := capture(f, "offer"), capture(f, "ack"), capture(f, "nak")
	prev, err := json.Marshal(leaseAt("10.99.0.145/24", t0.Add(-time.Minute)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(nil), script(stepTimer, stepAnswer, offer, stepAnswer, ack, stepTimer, stepAnswer, ack, stepTimer, stepTimer, stepTimer, stepTimer))
	f.Add([]byte(nil), script(stepTimer, stepAnswer, offer, stepAnswer, nak, stepTimer, stepAnswer, offer, stepWait, 1, stepAnswer, ack))
	f.Add(prev, script(stepAnswer, ack, stepWait, 0, stepTimer, stepAnswer, nak))
	f.Add(prev, script(stepTimer, stepTimer, stepTimer, stepTimer, stepTimer))
	f.Add([]byte(`{"Address":"10.99.0.145/0","Duration":120000000000,"T1":1,"T2":2,"Server":"10.99.0.1","Acquired":"2026-03-01T11:59:00Z"}`), script(stepTimer, stepTimer, stepTimer, stepTimer))
	f.Fuzz(func(t *testing.T, previous, steps []byte) {
		clk := newFakeClock(t0)
		tr := &recTransport{}
		var applied *Lease
		cfg := Config{Interface: "fuzz0", HardwareAddr: testHW, Hostname: "pigw-test", Release: true, Clock: clk, Transport: tr}
		cfg.OnBound = func(l Lease) {
			if err := l.Validate(); err != nil {
				t.Fatalf("applied %+v: %v", l, err)
			}
			if applied != nil && applied.Address != l.Address {
				t.Fatalf("applied %s while %s is", l.Address, applied.Address)
			}
			applied = &l
		}
		cfg.OnExpired = func(l Lease) {
			if applied == nil || applied.Address != l.Address {
				t.Fatalf("removed %s, applied is %v", l.Address, applied)
			}
			applied = nil
		}
		var p Lease
		if json.Unmarshal(previous, &p) == nil {
			cfg.Previous = &p
		}
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.open(); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		c.start(ctx)
		spins := 0
		for len(steps) > 0 && len(tr.sent) < 1000 {
			kind := steps[0] % stepKinds
			steps = steps[1:]
			switch kind {
			case stepPacket, stepAnswer:
				if len(steps) < 2 {
					return
				}
				n := int(binary.LittleEndian.Uint16(steps))
				steps = steps[2:]
				n = min(n, len(steps))
				m, err := dhcpv4.FromBytes(steps[:n])
				steps = steps[n:]
				if err != nil {
					continue
				}
				if kind == stepAnswer {
					m.OpCode, m.TransactionID, m.ClientHWAddr = dhcpv4.OpcodeBootReply, c.xid, testHW
				}
				c.handle(ctx, m)
			case stepTimer:
				now := clk.Now()
				if c.next.After(now) {
					clk.advanceTo(c.next)
					spins = 0
				} else if spins++; spins > 2 {
					t.Fatalf("state %s: the timer fires again and again at %v", c.state, now)
				}
				c.timeout(ctx)
			case stepWait:
				if len(steps) == 0 {
					return
				}
				if to := clk.Now().Add(time.Duration(steps[0]) * time.Minute); to.Before(c.next) {
					clk.advanceTo(to)
				}
				steps = steps[1:]
			}
			check(t, c, applied)
		}
		for _, m := range tr.sent {
			if again, err := dhcpv4.FromBytes(m.ToBytes()); err != nil || !bytes.Equal(again.ClientHWAddr, testHW) {
				t.Fatalf("sent %v, which reads back as %v, %v", m, again, err)
			}
		}
		c.shutdown(ctx)
		if applied != nil {
			t.Fatalf("stopped with %s applied", applied.Address)
		}
	})
}

// check compares the client's view with what was applied.
func check(t *testing.T, c *Client, applied *Lease) {
	t.Helper()
	l, ok := c.Lease()
	if ok != (applied != nil) || ok && l.Address != applied.Address {
		t.Fatalf("Lease() = %v, %t; applied %v", l.Address, ok, applied)
	}
	switch c.state {
	case StateBound, StateRenewing, StateRebinding:
		if c.lease == nil || applied == nil || c.lease.Address != applied.Address {
			t.Fatalf("state %s with lease %v and %v applied", c.state, c.lease, applied)
		}
	}
}
