package dtlspsk

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"
)

// nat forwards a client's datagrams to a server from a port it can change, as a NAT does when
// its mapping expires.
type nat struct {
	t      *testing.T
	front  *net.UDPConn
	server netip.AddrPort

	mu     sync.Mutex
	back   *net.UDPConn
	client netip.AddrPort
}

func newNAT(t *testing.T, server netip.AddrPort) *nat {
	t.Helper()
	front, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	n := &nat{t: t, front: front, server: server}
	n.rebind()
	go func() {
		buf := make([]byte, 2048)
		for {
			k, from, err := front.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.client = from
			back := n.back
			n.mu.Unlock()
			_, _ = back.WriteToUDPAddrPort(buf[:k], server)
		}
	}()
	t.Cleanup(func() {
		front.Close()
		n.mu.Lock()
		n.back.Close()
		n.mu.Unlock()
	})
	return n
}

// rebind moves the forwarding to a new port; the old one is closed.
func (n *nat) rebind() netip.AddrPort {
	back, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		n.t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			k, err := back.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			client := n.client
			n.mu.Unlock()
			_, _ = n.front.WriteToUDPAddrPort(buf[:k], client)
		}
	}()
	n.mu.Lock()
	old := n.back
	n.back = back
	n.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return back.LocalAddr().(*net.UDPAddr).AddrPort()
}

func TestConnectionIDKeepsSessionAcrossNATRebind(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cid   bool
		keeps bool
	}{
		{"with connection IDs", true, true},
		{"without", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, Config{ConnectionID: tc.cid})
			n := newNAT(t, ts.l.Addr())
			udp, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(n.front.LocalAddr().(*net.UDPAddr).AddrPort()))
			if err != nil {
				t.Fatal(err)
			}
			cfg := pionConfig("alice", "alicekey")
			cfg.ConnectionIDGenerator = dtls.OnlySendCIDGenerator()
			conn, err := dtls.Client(dtlsnet.PacketConnFromConn(udp), udp.RemoteAddr(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := conn.HandshakeContext(ctx); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if got := echo(t, conn, "before"); got != "alice:before" {
				t.Fatalf("echo = %q", got)
			}
			verifies := len(ts.verify.get())
			to := n.rebind()

			if _, err := conn.Write([]byte("after")); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(time.Second))
			buf := make([]byte, 100)
			k, err := conn.Read(buf)
			switch {
			case tc.keeps && err != nil:
				t.Fatalf("after the NAT moved to %s: %v", to, err)
			case tc.keeps && string(buf[:k]) != "alice:after":
				t.Fatalf("echo = %q", buf[:k])
			case !tc.keeps && err == nil:
				t.Fatalf("without connection IDs the session survived a new port: %q", buf[:k])
			}
			if !tc.keeps {
				return
			}
			if v := len(ts.verify.get()); v != verifies {
				t.Errorf("%d new cookie exchanges after the port change, want none", v-verifies)
			}
			if s := ts.l.Sessions(); s != 1 {
				t.Errorf("sessions = %d, want 1", s)
			}
			// The server now answers the new port, and the old one no longer reaches the session.
			ts.l.mu.Lock()
			c := ts.l.byAddr[to]
			ts.l.mu.Unlock()
			if c == nil || c.Peer() != to {
				t.Errorf("the session is not at the NAT's new address %s", to)
			}
		})
	}
}
