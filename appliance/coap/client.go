package coap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client holds client sessions and the response handler they share (the original's client
// role: new_client_session, register_response_handler, get_client_sessions). Each session
// reads its own socket in its own goroutine, so sessions created at any time are served.
type Client struct {
	log     *slog.Logger
	handler atomic.Pointer[func(Response)]

	mu       sync.Mutex
	sessions []*Session
}

// NewClient returns a client with no sessions; log nil means slog.Default().
func NewClient(log *slog.Logger) *Client {
	if log == nil {
		log = slog.Default()
	}
	return &Client{log: log}
}

// OnResponse registers the handler called for every response of every session, and for every
// request that ended without one (Response.Err says why: timeout, RST or a transport error).
func (c *Client) OnResponse(fn func(Response)) {
	if fn == nil {
		c.handler.Store(nil)
		return
	}
	c.handler.Store(&fn)
}

func (c *Client) deliver(r Response) {
	if fn := c.handler.Load(); fn != nil {
		(*fn)(r)
	}
}

// SessionOptions tune one session. Zero values take RFC 7252's defaults.
type SessionOptions struct {
	// PSK and Identity make the session use DTLS 1.2 with a pre-shared key (coaps).
	PSK      []byte
	Identity string
	// Timeout bounds a request sent with SendRequest, from the first transmission to the
	// response (default MAX_TRANSMIT_WAIT, 93 s).
	Timeout       time.Duration
	AckTimeout    time.Duration // default 2 s
	MaxRetransmit int           // default 4; -1 for none
	MaxBody       int           // largest body reassembled from Block2 (default 1 MiB)
}

// Default ports (RFC 7252 §6.1, §6.2).
const (
	DefaultPort     = 5683
	DefaultDTLSPort = 5684
)

// NewSession opens a session towards addr: "host", "host:port", an IPv4 or IPv6 literal
// ("[::1]:5683", "::1"), or a host name, resolved now. Without a port it is 5683, or 5684 with
// a PSK.
func (c *Client) NewSession(addr string, opts SessionOptions) (*Session, error) {
	host, port, err := splitHostPort(addr, opts.PSK != nil)
	if err != nil {
		return nil, err
	}
	ip, err := netip.ParseAddr(host)
	uriHost := ""
	if err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
		if lerr != nil || len(ips) == 0 {
			return nil, fmt.Errorf("session to %s: resolve %q: %w", addr, host, errors.Join(lerr, errors.New("no address")))
		}
		ip, uriHost = ips[0].Unmap(), host
	}
	remote := netip.AddrPortFrom(ip, port)
	s, err := dialSession(c, remote, uriHost, opts)
	if err != nil {
		return nil, fmt.Errorf("session to %s: %w", addr, err)
	}
	c.mu.Lock()
	c.sessions = append(c.sessions, s)
	c.mu.Unlock()
	return s, nil
}

// splitHostPort reads the forms NewSession accepts; errors name the value and the rule.
func splitHostPort(addr string, dtls bool) (string, uint16, error) {
	port := uint16(DefaultPort)
	if dtls {
		port = DefaultDTLSPort
	}
	if addr == "" {
		return "", 0, errors.New(`address "": must be a host name or an IP address, with an optional :port`)
	}
	if ip, err := netip.ParseAddr(addr); err == nil { // a bare IPv6 literal such as ::1
		return ip.String(), port, nil
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return strings.Trim(addr, "[]"), port, nil
		}
		return "", 0, fmt.Errorf("address %q: must be host, host:port or [IPv6]:port: %w", addr, err)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("address %q: port %q must be 1..65535", addr, p)
	}
	if host == "" {
		return "", 0, fmt.Errorf("address %q: no host", addr)
	}
	return host, uint16(n), nil
}

// Sessions returns the open sessions.
func (c *Client) Sessions() []*Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sessions)
}

// RemoveSession closes s and forgets it; its pending requests end with ErrClosed.
func (c *Client) RemoveSession(s *Session) error {
	c.mu.Lock()
	i := slices.Index(c.sessions, s)
	if i >= 0 {
		c.sessions = slices.Delete(c.sessions, i, i+1)
	}
	c.mu.Unlock()
	if i < 0 {
		return errors.New("remove session: not a session of this client")
	}
	return s.Close()
}

// Close closes every session.
func (c *Client) Close() error {
	var errs []error
	for _, s := range c.Sessions() {
		errs = append(errs, c.RemoveSession(s))
	}
	return errors.Join(errs...)
}
