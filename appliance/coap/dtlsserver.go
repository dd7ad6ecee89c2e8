package coap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
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

// dtlsListener accepts DTLS sessions on one address.
type dtlsListener struct {
	srv   *Server
	ln    net.Listener
	local netip.AddrPort
	open  atomic.Int32
}

func (s *Server) listenDTLS(addr string) (*dtlsListener, error) {
	d := s.cfg.DTLS
	ap := netip.MustParseAddrPort(addr)
	network := "udp4"
	if ap.Addr().Is6() && !ap.Addr().Is4In6() {
		network = "udp6"
	}
	cfg := &dtls.Config{
		PSK: func(identity []byte) ([]byte, error) {
			if k, ok := d.Keys[string(identity)]; ok {
				return k, nil
			}
			if d.PSK != nil {
				return d.PSK, nil
			}
			return nil, fmt.Errorf("unknown PSK identity %q", identity)
		},
		PSKIdentityHint:      []byte(d.Hint),
		CipherSuites:         pskSuites,
		ExtendedMasterSecret: dtls.RequestExtendedMasterSecret,
	}
	ln, err := dtls.Listen(network, net.UDPAddrFromAddrPort(ap), cfg)
	if err != nil {
		return nil, fmt.Errorf("listen DTLS on %s: %w", addr, err)
	}
	local := ln.Addr().(*net.UDPAddr).AddrPort()
	return &dtlsListener{srv: s, ln: ln, local: netip.AddrPortFrom(local.Addr().Unmap(), local.Port())}, nil
}

// serve accepts sessions until ctx is done; each is read by a goroutine of its own.
func (l *dtlsListener) serve(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() { <-ctx.Done(); l.ln.Close() }()
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			l.srv.log.Debug("DTLS accept", "addr", l.local.String(), "err", err)
			continue
		}
		if int(l.open.Add(1)) > l.srv.cfg.DTLS.MaxSessions {
			l.open.Add(-1)
			l.srv.events.dtlsRefused.Add(udpAddrPort(conn.RemoteAddr()), "too many sessions")
			conn.Close()
			continue
		}
		wg.Go(func() {
			defer l.open.Add(-1)
			l.session(ctx, conn.(*dtls.Conn))
		})
	}
}

// session does the handshake and answers the session's requests until it ends.
func (l *dtlsListener) session(ctx context.Context, conn *dtls.Conn) {
	defer conn.Close()
	peer := udpAddrPort(conn.RemoteAddr())
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err := conn.HandshakeContext(hctx)
	cancel()
	if err != nil {
		l.srv.events.dtlsFailed.Add(peer, err.Error())
		return
	}
	identity := ""
	if st, ok := conn.ConnectionState(); ok {
		identity = string(st.IdentityHint)
	}
	l.srv.log.Debug("DTLS session", "peer", peer.String(), "identity", identity)
	ep := &endpoint{srv: l.srv, local: l.local, secure: conn, identity: identity}
	w := newWorkerSized(ep, dtlsReadBuffer)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	for {
		_ = conn.SetReadDeadline(time.Now().Add(l.srv.cfg.DTLS.IdleTimeout))
		n, err := conn.Read(w.rbuf)
		if err != nil {
			return
		}
		w.packet(w.rbuf[:n], peer, pktinfo{})
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
