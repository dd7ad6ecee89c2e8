package dhcp4

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
)

// The test network: what the server hands out. No packet goes there: the client's socket
// sends everything to the server on 127.0.0.1.
var (
	testServerID = netip.MustParseAddr("10.55.0.1")
	testRouter   = netip.MustParseAddr("10.55.0.1")
	testDNS      = []netip.Addr{netip.MustParseAddr("10.55.0.1"), netip.MustParseAddr("10.55.0.2")}
	testHW       = net.HardwareAddr{0x02, 0x00, 0x00, 0x55, 0x00, 0x01}
	t0           = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

const (
	testLease = 120 * time.Second
	testT1    = 60 * time.Second
	testT2    = 105 * time.Second
)

// Modes of the test server.
const (
	serve = "serve" // offers and acknowledges
	drop  = "drop"  // the server is away: nothing is answered
	nak   = "nak"   // every REQUEST is refused, DISCOVER is not answered
)

// testServer is a server4.Server with a tiny allocator: 10.55.0.100 and up in 10.55.0.0/24.
type testServer struct {
	srv  *server4.Server
	addr *net.UDPAddr

	mu     sync.Mutex
	mode   string
	leases map[string]netip.Addr // by hardware address
	next   netip.Addr
	got    []*dhcpv4.DHCPv4
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{
		addr:   conn.LocalAddr().(*net.UDPAddr),
		mode:   serve,
		leases: map[string]netip.Addr{},
		next:   netip.MustParseAddr("10.55.0.100"),
	}
	s.srv, err = server4.NewServer("", nil, s.handle, server4.WithConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.srv.Serve()
	}()
	t.Cleanup(func() {
		s.srv.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("server4 did not stop")
		}
	})
	return s
}

func (s *testServer) setMode(m string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// assign makes the server know hw with addr, as after an earlier lease.
func (s *testServer) assign(hw net.HardwareAddr, addr netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leases[hw.String()] = addr
}

// received is the messages of type typ the server got.
func (s *testServer) received(typ dhcpv4.MessageType) []*dhcpv4.DHCPv4 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ms []*dhcpv4.DHCPv4
	for _, m := range s.got {
		if m.MessageType() == typ {
			ms = append(ms, m)
		}
	}
	return ms
}

func (s *testServer) handle(conn net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4) {
	s.mu.Lock()
	s.got = append(s.got, m)
	mode := s.mode
	hw := m.ClientHWAddr.String()
	var reply *dhcpv4.DHCPv4
	switch m.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		if mode != serve {
			break
		}
		a, ok := s.leases[hw]
		if !ok {
			a, s.next = s.next, s.next.Next()
			s.leases[hw] = a
		}
		reply = s.reply(m, dhcpv4.MessageTypeOffer, a)
	case dhcpv4.MessageTypeRequest:
		if mode == drop {
			break
		}
		if sid := m.ServerIdentifier(); sid != nil && !sid.Equal(testServerID.AsSlice()) {
			break // for another server
		}
		want := m.RequestedIPAddress()
		if want == nil {
			want = m.ClientIPAddr
		}
		a, ok := s.leases[hw]
		if mode == nak || !ok || !want.Equal(a.AsSlice()) {
			reply = s.reply(m, dhcpv4.MessageTypeNak, netip.Addr{})
			break
		}
		reply = s.reply(m, dhcpv4.MessageTypeAck, a)
	case dhcpv4.MessageTypeRelease:
		delete(s.leases, hw)
	}
	s.mu.Unlock()
	if reply != nil {
		conn.WriteTo(reply.ToBytes(), peer)
	}
}

func (s *testServer) reply(req *dhcpv4.DHCPv4, typ dhcpv4.MessageType, a netip.Addr) *dhcpv4.DHCPv4 {
	mods := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(typ),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(testServerID.AsSlice())),
	}
	if typ != dhcpv4.MessageTypeNak {
		mods = append(mods,
			dhcpv4.WithYourIP(a.AsSlice()),
			dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
			dhcpv4.WithRouter(testRouter.AsSlice()),
			dhcpv4.WithDNS(testDNS[0].AsSlice(), testDNS[1].AsSlice()),
			dhcpv4.WithLeaseTime(uint32(testLease/time.Second)),
			dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(testT1)),
			dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(testT2)),
			dhcpv4.WithOption(dhcpv4.OptDomainName("pigw.test")),
		)
	}
	r, err := dhcpv4.NewReplyFromRequest(req, mods...)
	if err != nil {
		panic(err)
	}
	return r
}

// redirectConn is the client's UDP socket: whatever the client addresses (the broadcast
// address, the server identifier), the packet goes to the test server on 127.0.0.1, and the
// address meant is recorded.
type redirectConn struct {
	net.PacketConn
	server *net.UDPAddr

	mu   sync.Mutex
	sent []sent
}

type sent struct {
	m  *dhcpv4.DHCPv4
	to string
}

func (r *redirectConn) WriteTo(b []byte, to net.Addr) (int, error) {
	m, err := dhcpv4.FromBytes(b)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	r.sent = append(r.sent, sent{m, to.String()})
	r.mu.Unlock()
	return r.PacketConn.WriteTo(b, r.server)
}

// sentOf is what the client sent of type typ.
func (r *redirectConn) sentOf(typ dhcpv4.MessageType) []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []sent
	for _, x := range r.sent {
		if x.m.MessageType() == typ {
			s = append(s, x)
		}
	}
	return s
}

// recorder keeps what the client reported.
type recorder struct {
	clk     Clock
	mu      sync.Mutex
	states  []string
	bound   []Lease
	expired []Lease
	expAt   []time.Time
}

func (r *recorder) onState(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
}

func (r *recorder) onBound(l Lease) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bound = append(r.bound, l)
}

func (r *recorder) onExpired(l Lease) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expired = append(r.expired, l)
	r.expAt = append(r.expAt, r.clk.Now())
}

func (r *recorder) snapshot() (states []string, bound, expired []Lease) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.states), slices.Clone(r.bound), slices.Clone(r.expired)
}

// waitStates waits until the states reported so far are want.
func (r *recorder) waitStates(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _, _ := r.snapshot()
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("states %q, want %q", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// harness is a client talking to a testServer on a fake clock.
type harness struct {
	srv  *testServer
	conn *redirectConn
	clk  *fakeClock
	rec  *recorder
	c    *Client
	stop context.CancelFunc
	done chan error
}

// start runs a client against a new test server; change adjusts the server and the Config
// before the client starts.
func start(t *testing.T, change func(*testServer, *Config)) *harness {
	t.Helper()
	h := &harness{srv: startServer(t), clk: newFakeClock(t0)}
	h.rec = &recorder{clk: h.clk}
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.conn = &redirectConn{PacketConn: udp, server: h.srv.addr}
	tr := NewConnTransport(h.conn)
	t.Cleanup(func() { tr.Close() })
	cfg := Config{
		Interface:    "test0",
		HardwareAddr: testHW,
		Hostname:     "pigw-test",
		Clock:        h.clk,
		Logger:       testLogger(t),
		Transport:    tr,
		OnBound:      h.rec.onBound,
		OnExpired:    h.rec.onExpired,
		OnState:      h.rec.onState,
	}
	if change != nil {
		change(h.srv, &cfg)
	}
	h.c, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.c.Run(ctx) }()
	t.Cleanup(func() { h.shutdown(t) })
	return h
}

// shutdown stops Run and waits for it.
func (h *harness) shutdown(t *testing.T) error {
	t.Helper()
	h.stop()
	select {
	case err, ok := <-h.done:
		if ok {
			close(h.done)
		}
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}
