package dtlspsk

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"

	"github.com/pigw/pigw/internal/udpnat"
)

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
			n, err := udpnat.New(t.Context(), ts.l.Addr())
			if err != nil {
				t.Fatal(err)
			}
			udp, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(n.Addr()))
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
			to, err := n.Rebind()
			if err != nil {
				t.Fatal(err)
			}

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
