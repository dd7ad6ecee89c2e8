package coap

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pigw/pigw/internal/netnstest"
	"golang.org/x/sys/unix"
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
		v6        bool
		at        netip.AddrPort
		connected bool
	}{
		{false, plain4, false},
		{false, connected, true},
		{false, netip.AddrPortFrom(groupV4, group.Port()), false},
		{true, plain6, false},
	} {
		socks, err := readUDPTable(tt.v6)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(socks, func(s udpSocket) bool { return s.local == tt.at })
		switch {
		case i < 0:
			t.Errorf("v6=%v: no socket on %s among %d", tt.v6, tt.at, len(socks))
		case socks[i].connected != tt.connected:
			t.Errorf("%s connected %v, want %v", tt.at, socks[i].connected, tt.connected)
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

// The process's first thread may sit in another network namespace than the thread that opens
// the sockets: Go keeps its main thread, namespace and all, when a goroutine locked to it into
// a test namespace ends. With PIGW_LEADER_NETNS set, init puts the main thread in a namespace
// of its own before the tests run on other threads, and the table must still be the right one.
func init() {
	if os.Getenv("PIGW_LEADER_NETNS") != "1" {
		return
	}
	runtime.LockOSThread() // for good: the main goroutine never runs a test
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		panic(fmt.Sprintf("unshare the main thread's network namespace: %v", err))
	}
}

func TestParseUDPTableLeaderElsewhere(t *testing.T) {
	if os.Getenv("PIGW_LEADER_NETNS") == "1" {
		return
	}
	netnstest.RequireRoot(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestParseUDPTable$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PIGW_LEADER_NETNS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("with the main thread in another namespace: %v\n%s", err, out)
	}
}
