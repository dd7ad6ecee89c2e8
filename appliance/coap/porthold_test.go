package coap

import (
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestParseUDPTable reads the kernel's own tables with sockets of known addresses open: an
// unconnected and a connected IPv4 socket, an IPv6 one and one bound to a group, which
// portHolder must tell apart; and it checks that the process's own sockets never count.
func TestParseUDPTable(t *testing.T) {
	open := func(network, addr string) netip.AddrPort {
		t.Helper()
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	plain4 := open("udp4", "127.0.0.1:0")
	plain6 := open("udp6", "[::1]:0")
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(plain4))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	connected := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	gs, err := listenGroup(&Server{}, groupV4, 0, 0) // bound only; it joins nothing
	if err != nil {
		t.Fatal(err)
	}
	defer gs.close()
	group := gs.conn.LocalAddr().(*net.UDPAddr).AddrPort()

	for _, tt := range []struct {
		table     string
		at        netip.AddrPort
		connected bool
	}{
		{"/proc/net/udp", plain4, false},
		{"/proc/net/udp", connected, true},
		{"/proc/net/udp", netip.AddrPortFrom(groupV4, group.Port()), false},
		{"/proc/net/udp6", plain6, false},
	} {
		f, err := os.Open(tt.table)
		if err != nil {
			t.Fatal(err)
		}
		socks, err := parseUDPTable(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", tt.table, err)
		}
		i := slices.IndexFunc(socks, func(s udpSocket) bool { return s.local == tt.at })
		switch {
		case i < 0:
			t.Errorf("%s: no socket on %s among %d", tt.table, tt.at, len(socks))
		case socks[i].connected != tt.connected:
			t.Errorf("%s: %s connected %v, want %v", tt.table, tt.at, socks[i].connected, tt.connected)
		}
		if holder, err := portHolder(tt.at); err != nil || holder != "" {
			t.Errorf("portHolder(%s) = %q, %v; want none: the socket is this process's own", tt.at, holder, err)
		}
	}
}

func TestParseUDPTableErrors(t *testing.T) {
	for _, line := range []string{
		"  1: 0000000G:163F 00000000:0000 07 0:0 00:0 0 0 0 1 2 0 0",
		"  1: 00000000 00000000:0000 07 0:0 00:0 0 0 0 1 2 0 0",
		"  1: 00000000:163F 00000000:0000 07 0:0 00:0 0 0 0 x 2 0 0",
		"  1: 000000:163F 00000000:0000 07 0:0 00:0 0 0 0 1 2 0 0",
	} {
		if _, err := parseUDPTable(strings.NewReader("header\n" + line)); err == nil {
			t.Errorf("%q: no error", line)
		}
	}
}
