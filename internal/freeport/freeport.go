// Package freeport finds loopback ports for tests that start servers which must be told
// their port before they run (a child process, a QEMU port forward), where listening on
// port 0 and asking afterwards is not possible. A port is only known to have been free a
// moment ago: a test that can retry on "address in use" should.
package freeport

import (
	"net"
	"testing"
)

// TCP returns a TCP port that was free on 127.0.0.1 a moment ago.
func TCP() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// UDP returns a UDP port that was free on 127.0.0.1 a moment ago.
func UDP() (int, error) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// MustTCP is TCP for a test, which fails when no port can be had.
func MustTCP(t testing.TB) int {
	t.Helper()
	return must(t, TCP)
}

// MustUDP is UDP for a test, which fails when no port can be had.
func MustUDP(t testing.TB) int {
	t.Helper()
	return must(t, UDP)
}

func must(t testing.TB, free func() (int, error)) int {
	t.Helper()
	port, err := free()
	if err != nil {
		t.Fatalf("a free port on 127.0.0.1: %v", err)
	}
	return port
}
