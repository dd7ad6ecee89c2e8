package dtlspsk

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/fuzzcheck"
	"github.com/pigw/pigw/internal/spoof"
)

// FuzzParseHello: any datagram either fails with a fixed reason or yields fields inside it,
// without allocating.
func FuzzParseHello(f *testing.F) {
	f.Add(spoof.DTLSClientHello())
	f.Add([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h hello
		var err error
		if a := testing.AllocsPerRun(1, func() { err = parseHello(b, &h) }); a != 0 {
			t.Fatalf("parseHello allocated %v times", a)
		}
		if err != nil {
			return
		}
		if len(h.random) != 32 || len(h.suites)%2 != 0 || len(h.cookie) > 255 {
			t.Fatalf("random %d bytes, suites %d, cookie %d", len(h.random), len(h.suites), len(h.cookie))
		}
		h.extension(extConnectionID)
		h.offers(suitePSKCCM8)
	})
}

// FuzzSession feeds a datagram to a server that has one session in its handshake (from the
// peer the datagram claims): records of any kind, with or without the session's connection
// ID. Nothing panics, allocations stay in proportion, and there is never more than the one
// session.
func FuzzSession(f *testing.F) {
	f.Add([]byte{typeHandshake, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 16, 0}, false)
	f.Add([]byte{typeCID, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0}, true)
	f.Add([]byte{typeApplicationData, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, viaCID bool) {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		l := New(conn, Config{PSK: func([]byte) ([]byte, error) { return []byte("k"), nil }, ConnectionID: true})
		peer := netip.MustParseAddrPort("127.0.0.1:9") // discard
		hello := withCookie(t, l, peer)
		l.datagram(hello, peer)
		if l.Sessions() != 1 {
			t.Fatal("no session from a hello with a valid cookie")
		}
		if viaCID && len(b) >= recordHeaderLen+CIDLength && b[0] == typeCID {
			for _, c := range l.byCID {
				copy(b[11:], c.ownCID)
			}
		}
		fuzzcheck.Bounded(t, len(b), 64, func() { l.datagram(b, peer) })
		if n := l.Sessions(); n > 1 {
			t.Fatalf("%d sessions", n)
		}
		l.closeAll()
		if n := l.Sessions(); n != 0 {
			t.Fatalf("%d sessions after closing all", n)
		}
	})
}

// withCookie returns spoof's ClientHello with the connection ID extension and l's cookie for
// peer, as the client's second hello (message 1, record 1).
func withCookie(t testing.TB, l *Listener, peer netip.AddrPort) []byte {
	base := spoof.DTLSClientHello()
	var h hello
	if err := parseHello(base, &h); err != nil {
		t.Fatal(err)
	}
	cookie := l.jar.mint(nil, peer, &h)
	// Rebuild the body: params, cookie, suites and compression, then extensions with CID.
	body := append([]byte(nil), h.params...)
	body = append(body, byte(len(cookie)))
	body = append(body, cookie...)
	body = append(body, h.suitesAndCompression...)
	ext := append([]byte(nil), h.extensions...)
	ext = append(ext, 0, extConnectionID, 0, 1, 0)
	body = append(body, byte(len(ext)>>8), byte(len(ext)))
	body = append(body, ext...)
	msg := handshakeHeader(nil, msgClientHello, 1, len(body))
	msg = append(msg, body...)
	rec := []byte{typeHandshake, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, byte(len(msg) >> 8), byte(len(msg))}
	return append(rec, msg...)
}

// BenchmarkCookieStep is the server's work for one forged hello, short of the socket calls:
// parse, check the cookie, make a new one.
func BenchmarkCookieStep(b *testing.B) {
	jar := newCookieJar(cookiePeriod, time.Now)
	datagram := spoof.DTLSClientHello()
	peer := netip.MustParseAddrPort("127.1.2.3:4567")
	out := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		var h hello
		if err := parseHello(datagram, &h); err != nil {
			b.Fatal(err)
		}
		if jar.valid(peer, &h) {
			b.Fatal("valid")
		}
		out = jar.mint(out[:0], peer, &h)
	}
}
