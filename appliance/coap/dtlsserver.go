package coap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pigw/pigw/internal/dtlspsk"
)

// DTLSConfig is the server's DTLS 1.2 endpoint with pre-shared keys (the original's psk and
// hint, and per-identity keys).
type DTLSConfig struct {
	Listen      []string          // default 0.0.0.0:5684 and [::]:5684
	PSK         []byte            // the key of any identity not in Keys; nil: only Keys
	Hint        string            // PSK identity hint sent to clients
	Keys        map[string][]byte // per identity
	MaxSessions int               // DTLS sessions at once; default 64
	IdleTimeout time.Duration     // a session without traffic is closed; default 30 min
}

const dtlsReadBuffer = 8192

// checkDTLS gives plain errors for a server DTLS set-up that cannot work.
func checkDTLS(d *DTLSConfig) error {
	if len(d.PSK) == 0 && len(d.Keys) == 0 {
		return errors.New("DTLS: needs a PSK or per-identity keys")
	}
	if d.PSK != nil && len(d.PSK) == 0 {
		return errors.New("DTLS: the PSK is empty")
	}
	for id, k := range d.Keys {
		if id == "" || len(k) == 0 {
			return fmt.Errorf("DTLS: identity %q: identities and their keys must not be empty", id)
		}
	}
	for _, a := range d.Listen {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return fmt.Errorf("DTLS listen address %q: must be IP:port, IPv6 in brackets: %w", a, err)
		}
		if ap.Port() == DefaultPort {
			return fmt.Errorf("DTLS listen address %q: port 5683 is plain CoAP; DTLS uses 5684 (coaps)", a)
		}
	}
	return nil
}

func fillDTLS(d *DTLSConfig) {
	if len(d.Listen) == 0 {
		d.Listen = []string{"0.0.0.0:5684", "[::]:5684"}
	}
	if d.MaxSessions <= 0 {
		d.MaxSessions = 64
	}
	if d.IdleTimeout <= 0 {
		d.IdleTimeout = 30 * time.Minute
	}
}

// dtlsListener serves DTLS sessions on one address. Its server (package dtlspsk) keeps no state
// for a peer before the peer returned a cookie, so forged hellos cost a HelloVerifyRequest and
// a count, not a session slot or a log line.
type dtlsListener struct {
	srv *Server
	ln  *dtlspsk.Listener
}

func (s *Server) listenDTLS(addr string) (*dtlsListener, error) {
	d := s.cfg.DTLS
	ap := netip.MustParseAddrPort(addr)
	network := "udp4"
	if ap.Addr().Is6() && !ap.Addr().Is4In6() {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, fmt.Errorf("listen DTLS on %s: %w", addr, err)
	}
	_ = conn.SetReadBuffer(1 << 20)
	ev := s.events
	ln := dtlspsk.New(conn, dtlspsk.Config{
		PSK: func(identity []byte) ([]byte, error) {
			if k, ok := d.Keys[string(identity)]; ok {
				return k, nil
			}
			if d.PSK != nil {
				return d.PSK, nil
			}
			return nil, fmt.Errorf("unknown PSK identity %q", identity)
		},
		Hint:             []byte(d.Hint),
		MaxSessions:      d.MaxSessions,
		HandshakeTimeout: dtlsHandshakeDeadline,
		ConnectionID:     true,
		Events: dtlspsk.Events{
			Malformed:   ev.malformed,
			HelloVerify: ev.dtlsCookies,
			Refused:     ev.dtlsRefused,
			Failed:      ev.dtlsFailed,
			ReadFailed:  ev.readFailures,
		},
	})
	return &dtlsListener{srv: s, ln: ln}, nil
}

// dtlsHandshakeDeadline is how long a peer that proved its address has to finish the handshake.
const dtlsHandshakeDeadline = 5 * time.Second

// serve runs sessions until ctx is done.
func (l *dtlsListener) serve(ctx context.Context) {
	l.ln.Serve(ctx, l.session)
}

// session answers the requests of one established session until it ends. With a connection
// ID the client's address can change, so each datagram is attributed to the session's
// address as of that datagram.
func (l *dtlsListener) session(ctx context.Context, conn *dtlspsk.Conn) {
	l.srv.log.Debug("DTLS session", "peer", conn.Peer().String(), "identity", conn.Identity())
	ep := &endpoint{srv: l.srv, local: l.ln.Addr(), secure: conn, identity: conn.Identity()}
	w := newWorkerSized(ep, dtlsReadBuffer)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	for {
		_ = conn.SetReadDeadline(time.Now().Add(l.srv.cfg.DTLS.IdleTimeout))
		n, err := conn.Read(w.rbuf)
		if err != nil {
			return
		}
		w.packet(w.rbuf[:n], conn.Peer(), pktinfo{})
	}
}

// udpAddrPort is a UDP peer's address, IPv4 unmapped.
func udpAddrPort(a net.Addr) netip.AddrPort {
	u, ok := a.(*net.UDPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ap := u.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
