package dtlspsk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"
)

// counter records events for tests.
type counter struct {
	mu   sync.Mutex
	whys []string
}

func (c *counter) Add(_ netip.AddrPort, why string) {
	c.mu.Lock()
	c.whys = append(c.whys, why)
	c.mu.Unlock()
}

func (c *counter) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.whys...)
}

type testServer struct {
	l                                  *Listener
	malformed, verify, refused, failed *counter
}

// startServer runs an echo server on loopback with identity "alice", key "alicekey".
func startServer(t *testing.T, cfg Config, opts ...func(*Listener)) *testServer {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{malformed: &counter{}, verify: &counter{}, refused: &counter{}, failed: &counter{}}
	if cfg.PSK == nil {
		cfg.PSK = func(id []byte) ([]byte, error) {
			if string(id) == "alice" {
				return []byte("alicekey"), nil
			}
			return nil, errors.New("unknown")
		}
	}
	cfg.Events = Events{Malformed: ts.malformed, HelloVerify: ts.verify, Refused: ts.refused, Failed: ts.failed}
	ts.l = New(conn, cfg)
	for _, o := range opts {
		o(ts.l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.l.Serve(ctx, func(ctx context.Context, c *Conn) {
			buf := make([]byte, 2048)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				reply := fmt.Appendf(nil, "%s:%s", c.Identity(), buf[:n])
				if _, err := c.Write(reply); err != nil {
					return
				}
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ts
}

// pionConfig is a pion client's configuration for identity and key.
func pionConfig(identity, key string, suites ...dtls.CipherSuiteID) *dtls.Config {
	if suites == nil {
		suites = []dtls.CipherSuiteID{dtls.TLS_PSK_WITH_AES_128_CCM_8}
	}
	return &dtls.Config{
		PSK:                  func([]byte) ([]byte, error) { return []byte(key), nil },
		PSKIdentityHint:      []byte(identity),
		CipherSuites:         suites,
		ExtendedMasterSecret: dtls.RequestExtendedMasterSecret,
	}
}

// dial runs a pion client's handshake with the server over a fresh socket.
func dial(t *testing.T, server netip.AddrPort, cfg *dtls.Config) (*dtls.Conn, error) {
	t.Helper()
	udp, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dtls.Client(dtlsnet.PacketConnFromConn(udp), net.UDPAddrFromAddrPort(server), cfg)
	if err != nil {
		udp.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := conn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	return conn, nil
}

func echo(t *testing.T, conn net.Conn, msg string) string {
	t.Helper()
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 2048)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(buf[:n])
}

func TestHandshakeWithPion(t *testing.T) {
	ts := startServer(t, Config{Hint: []byte("pigw")})
	for _, tc := range []struct {
		name  string
		suite dtls.CipherSuiteID
		ems   dtls.ExtendedMasterSecretType
	}{
		{"CCM_8", dtls.TLS_PSK_WITH_AES_128_CCM_8, dtls.RequestExtendedMasterSecret},
		{"GCM", dtls.TLS_PSK_WITH_AES_128_GCM_SHA256, dtls.RequestExtendedMasterSecret},
		{"CCM", dtls.TLS_PSK_WITH_AES_128_CCM, dtls.RequestExtendedMasterSecret},
		{"CCM_8 without EMS", dtls.TLS_PSK_WITH_AES_128_CCM_8, dtls.DisableExtendedMasterSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := pionConfig("alice", "alicekey", tc.suite)
			cfg.ExtendedMasterSecret = tc.ems
			conn, err := dial(t, ts.l.Addr(), cfg)
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if got := echo(t, conn, "hello"); got != "alice:hello" {
				t.Errorf("echo = %q, want alice:hello", got)
			}
		})
	}
	if f := ts.failed.get(); len(f) > 0 {
		t.Errorf("failed handshakes: %q", f)
	}
}

func TestWrongKeys(t *testing.T) {
	ts := startServer(t, Config{})
	for _, tc := range []struct {
		name, identity, key string
		failed              string
	}{
		{"wrong key", "alice", "notthekey", `identity "alice": the client's Finished does not authenticate (a wrong key)`},
		{"unknown identity", "mallory", "alicekey", `identity "mallory": unknown`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(ts.failed.get())
			_, err := dial(t, ts.l.Addr(), pionConfig(tc.identity, tc.key))
			if err == nil || !strings.Contains(err.Error(), "Alert Fatal: BadRecordMac") {
				t.Fatalf("handshake: %v, want the server's bad_record_mac alert", err)
			}
			waitFor(t, 2*time.Second, func() bool { return len(ts.failed.get()) > before })
			if f := ts.failed.get(); f[len(f)-1] != tc.failed {
				t.Errorf("failed = %q, want %q", f[len(f)-1], tc.failed)
			}
			waitFor(t, 2*time.Second, func() bool { return ts.l.Sessions() == 0 })
		})
	}
}
