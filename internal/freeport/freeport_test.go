package freeport

import (
	"fmt"
	"net"
	"testing"
)

// Each port returned can be listened on right away.
func TestPortsListen(t *testing.T) {
	for _, tt := range []struct {
		network string
		free    func(testing.TB) int
		listen  func(addr string) (interface{ Close() error }, error)
	}{
		{"tcp", MustTCP, func(a string) (interface{ Close() error }, error) { return net.Listen("tcp4", a) }},
		{"udp", MustUDP, func(a string) (interface{ Close() error }, error) { return net.ListenPacket("udp4", a) }},
	} {
		port := tt.free(t)
		if port <= 0 || port > 65535 {
			t.Fatalf("%s: port %d", tt.network, port)
		}
		l, err := tt.listen(fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatalf("%s port %d: %v", tt.network, port, err)
		}
		l.Close()
	}
}
