package dtlspsk

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/dtls/v3/pkg/protocol"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/dtls/v3/pkg/protocol/recordlayer"
)

// rawClient sends hand-made ClientHellos from a socket of its own.
type rawClient struct {
	t      *testing.T
	conn   *net.UDPConn
	server netip.AddrPort
	random handshake.Random
	seq    uint64
}

func newRawClient(t *testing.T, server netip.AddrPort, ip string) *rawClient {
	t.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, conn: conn, server: server}
	if err := c.random.Populate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// hello sends a ClientHello with cookie and message sequence number msgSeq.
func (c *rawClient) hello(cookie []byte, msgSeq uint16) {
	c.t.Helper()
	rec := recordlayer.RecordLayer{
		Header: recordlayer.Header{Version: protocol.Version1_2, SequenceNumber: c.seq},
		Content: &handshake.Handshake{
			Header: handshake.Header{MessageSequence: msgSeq},
			Message: &handshake.MessageClientHello{
				Version:            protocol.Version1_2,
				Random:             c.random,
				Cookie:             cookie,
				CipherSuiteIDs:     []uint16{suitePSKCCM8},
				CompressionMethods: []*protocol.CompressionMethod{{}},
				Extensions:         []extension.Extension{&extension.UseExtendedMasterSecret{Supported: true}},
			},
		},
	}
	c.seq++
	b, err := rec.Marshal()
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.WriteToUDPAddrPort(b, c.server); err != nil {
		c.t.Fatal(err)
	}
}

// answer reads the server's answer: its first handshake message's type, message sequence
// number and body, and the record's sequence number.
func (c *rawClient) answer() (typ byte, msgSeq uint16, body []byte, recSeq uint64) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2048)
	n, err := c.conn.Read(buf)
	if err != nil {
		c.t.Fatalf("no answer: %v", err)
	}
	b := buf[:n]
	if n < recordHeaderLen+handshakeHeaderLen || b[0] != typeHandshake {
		c.t.Fatalf("answer is not a handshake record: % x", b)
	}
	h := b[recordHeaderLen:]
	return h[0], uint16(h[4])<<8 | uint16(h[5]), h[handshakeHeaderLen : handshakeHeaderLen+uint24(h[1:4])], uint48(b[5:11])
}

// cookie sends a hello without a cookie and returns the one the server answers with.
func (c *rawClient) cookie() []byte {
	c.t.Helper()
	c.hello(nil, 0)
	typ, seq, body, _ := c.answer()
	if typ != msgHelloVerifyRequest || seq != 0 || len(body) != 3+cookieLen || int(body[2]) != cookieLen {
		c.t.Fatalf("answer to a hello without cookie: type %d seq %d body % x; want a HelloVerifyRequest with a %d-byte cookie", typ, seq, body, cookieLen)
	}
	return slices.Clone(body[3:])
}

// clock is a test's time, moved by hand.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func TestCookies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tamper  func(cookie []byte, clk *clock) []byte
		from    string // another socket's IP sends the cookie'd hello; "" the same socket
		session bool
	}{
		{name: "valid", tamper: func(c []byte, _ *clock) []byte { return c }, session: true},
		{name: "valid into the next period", tamper: func(c []byte, clk *clock) []byte { clk.advance(cookiePeriod); return c }, session: true},
		{name: "wrong", tamper: func(c []byte, _ *clock) []byte { c[7] ^= 1; return c }},
		{name: "wrong period byte", tamper: func(c []byte, _ *clock) []byte { c[0] += 7; return c }},
		{name: "truncated", tamper: func(c []byte, _ *clock) []byte { return c[:20] }},
		{name: "stale", tamper: func(c []byte, clk *clock) []byte { clk.advance(2 * cookiePeriod); return c }},
		{name: "replayed from another port", tamper: func(c []byte, _ *clock) []byte { return c }, from: "127.0.0.1"},
		{name: "replayed from another address", tamper: func(c []byte, _ *clock) []byte { return c }, from: "127.0.0.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{}
			ts := startServer(t, Config{}, func(l *Listener) { l.jar = newCookieJar(cookiePeriod, clk.now) })
			c := newRawClient(t, ts.l.Addr(), "127.0.0.1")
			cookie := tc.tamper(c.cookie(), clk)
			sender := c
			if tc.from != "" {
				sender = newRawClient(t, ts.l.Addr(), tc.from)
				sender.random = c.random
			}
			sender.seq = 1
			sender.hello(cookie, 1)
			typ, seq, _, recSeq := sender.answer()
			if tc.session {
				if typ != msgServerHello || seq != 1 || recSeq != 1 {
					t.Fatalf("answer: type %d message seq %d record seq %d; want a ServerHello with 1 and 1", typ, seq, recSeq)
				}
				if n := ts.l.Sessions(); n != 1 {
					t.Errorf("sessions = %d, want 1", n)
				}
				return
			}
			if typ != msgHelloVerifyRequest || seq != 1 {
				t.Fatalf("answer: type %d message seq %d; want a new HelloVerifyRequest with 1", typ, seq)
			}
			if n := ts.l.Sessions(); n != 0 {
				t.Errorf("sessions = %d, want 0: a hello without a valid cookie got a session", n)
			}
		})
	}
}

func TestHandshakeDeadline(t *testing.T) {
	ts := startServer(t, Config{HandshakeTimeout: 200 * time.Millisecond})
	c := newRawClient(t, ts.l.Addr(), "127.0.0.1")
	cookie := c.cookie()
	c.hello(cookie, 1)
	if typ, _, _, _ := c.answer(); typ != msgServerHello {
		t.Fatalf("answer type %d, want ServerHello", typ)
	}
	if n := ts.l.Sessions(); n != 1 {
		t.Fatalf("sessions = %d, want 1", n)
	}
	waitFor(t, 3*time.Second, func() bool { return ts.l.Sessions() == 0 })
	if f := ts.failed.get(); len(f) != 1 || !strings.Contains(f[0], "handshake not done within 200ms") {
		t.Errorf("failed = %q, want one handshake not done within 200ms", f)
	}
}

func TestSessionLimits(t *testing.T) {
	ts := startServer(t, Config{MaxSessions: 3, MaxPerAddress: 2})
	for i, tc := range []struct {
		ip      string
		refused string
	}{
		{"127.0.0.1", ""},
		{"127.0.0.1", ""},
		{"127.0.0.1", "too many sessions from this address"},
		{"127.0.0.2", ""},
		{"127.0.0.3", "too many sessions"},
	} {
		c := newRawClient(t, ts.l.Addr(), tc.ip)
		before := len(ts.refused.get())
		c.hello(c.cookie(), 1)
		if tc.refused == "" {
			if typ, _, _, _ := c.answer(); typ != msgServerHello {
				t.Fatalf("hello %d from %s: answer type %d, want ServerHello", i, tc.ip, typ)
			}
			continue
		}
		waitFor(t, 2*time.Second, func() bool { return len(ts.refused.get()) > before })
		if r := ts.refused.get(); r[len(r)-1] != tc.refused {
			t.Errorf("hello %d from %s: refused %q, want %q", i, tc.ip, r[len(r)-1], tc.refused)
		}
	}
	if n := ts.l.Sessions(); n != 3 {
		t.Errorf("sessions = %d, want 3", n)
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("not within %s", d)
		}
	}
}

// TestFlightRetransmission: the server's first flight is sent again when the client's answer
// does not come (after 1 s), and at once when the client sends its hello again; each time with
// new record sequence numbers, so that the client's replay window takes it.
func TestFlightRetransmission(t *testing.T) {
	ts := startServer(t, Config{})
	c := newRawClient(t, ts.l.Addr(), "127.0.0.1")
	cookie := c.cookie()
	c.hello(cookie, 1)
	seen := map[uint64]bool{}
	for i, why := range []string{"first", "after the timer", "on the repeated hello"} {
		if i == 2 {
			c.hello(cookie, 1)
		}
		typ, seq, _, recSeq := c.answer()
		if typ != msgServerHello || seq != 1 || seen[recSeq] {
			t.Fatalf("%s: type %d message seq %d record seq %d (seen before: %v); want a ServerHello with message seq 1 and a new record seq", why, typ, seq, recSeq, seen[recSeq])
		}
		seen[recSeq] = true
	}
	if n := ts.l.Sessions(); n != 1 {
		t.Errorf("sessions = %d, want 1", n)
	}
}

func TestSourceOf(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.168.1.20", "192.168.1.20"},
		{"::ffff:192.168.1.20", "192.168.1.20"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"},
		{"2001:db8:1:2::1", "2001:db8:1:2::"},
		{"fe80::1234", "fe80::"},
	} {
		if got := sourceOf(netip.MustParseAddr(tc.addr)); got != netip.MustParseAddr(tc.want) {
			t.Errorf("sourceOf(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

// TestNewHandshakeReplacesOld: a client that starts over from the same address (it lost its
// state) gets a new session in place of the old one, not a second one.
func TestNewHandshakeReplacesOld(t *testing.T) {
	ts := startServer(t, Config{})
	c := newRawClient(t, ts.l.Addr(), "127.0.0.1")
	c.hello(c.cookie(), 1)
	if typ, _, _, _ := c.answer(); typ != msgServerHello {
		t.Fatalf("answer type %d, want ServerHello", typ)
	}
	if err := c.random.Populate(); err != nil { // a new client on the same port
		t.Fatal(err)
	}
	c.hello(c.cookie(), 1)
	if typ, _, _, _ := c.answer(); typ != msgServerHello {
		t.Fatalf("answer type %d, want ServerHello", typ)
	}
	if n := ts.l.Sessions(); n != 1 {
		t.Errorf("sessions = %d, want 1", n)
	}
	if f := ts.failed.get(); len(f) != 1 || f[0] != "a new handshake from its address" {
		t.Errorf("failed = %q, want the old handshake replaced", f)
	}
}
