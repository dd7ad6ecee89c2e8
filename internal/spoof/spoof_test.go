package spoof

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("forged datagrams need a raw socket: run the tests as root")
		}
		t.Skip("forged datagrams need a raw socket (root)")
	}
}

func TestFloodArrivesFromForgedSources(t *testing.T) {
	needRoot(t)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadBuffer(1 << 20)
	to := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	const n = 2000
	res, err := Send(context.Background(), Flood{To: to, Payload: []byte("forged"), Rate: 20000, Count: n, Sources: 500})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n {
		t.Fatalf("sent %d, want %d", res.Sent, n)
	}
	sources := map[netip.Addr]bool{}
	buf := make([]byte, 100)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		k, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			break
		}
		if string(buf[:k]) != "forged" || !from.Addr().IsLoopback() || from.Addr() == netip.MustParseAddr("127.0.0.1") {
			t.Fatalf("datagram %q from %s", buf[:k], from)
		}
		sources[from.Addr()] = true
	}
	if len(sources) != 500 {
		t.Errorf("%d distinct sources, want 500", len(sources))
	}
}

func TestFloodRefusesOtherDestinations(t *testing.T) {
	for _, to := range []string{"192.168.1.1:5684", "[::1]:5684", "10.0.0.1:5683"} {
		_, err := Send(context.Background(), Flood{To: netip.MustParseAddrPort(to), Payload: []byte("x"), Rate: 1, Count: 1, Sources: 1})
		if err == nil || !strings.Contains(err.Error(), "only 127.0.0.0/8") {
			t.Errorf("flood to %s: err %v, want a refusal", to, err)
		}
	}
}
