package dtlspsk

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Config is a server's keys and limits.
type Config struct {
	// PSK returns the key for a client's identity, or an error when the identity is unknown.
	PSK func(identity []byte) ([]byte, error)
	// Hint is the PSK identity hint sent to clients; empty sends none.
	Hint []byte
	// MaxSessions bounds the sessions at once, handshakes in progress included; default 64.
	MaxSessions int
	// MaxPerAddress bounds the sessions from one IPv4 address or IPv6 /64; default a quarter
	// of MaxSessions.
	MaxPerAddress int
	// HandshakeTimeout is how long a peer that returned a valid cookie has to finish its
	// handshake; default 5 s.
	HandshakeTimeout time.Duration
	// ConnectionID gives clients that offer the extension a connection ID (RFC 9146).
	ConnectionID bool
	// Events counts what peers make the server do; nil counters count nothing.
	Events Events
}

// CIDLength is the length of the connection IDs the server hands out.
const CIDLength = 8

// Counter counts an event caused by peer; *ratelog.Kind is one.
type Counter interface {
	Add(peer netip.AddrPort, why string)
}

// Events are the counters a server reports to. None of them is called with state kept for a
// peer that has not proved its address, and none allocates for a forged datagram.
type Events struct {
	Malformed   Counter // datagrams that are not DTLS this server can use
	HelloVerify Counter // ClientHellos answered with a cookie, nothing kept
	Refused     Counter // verified peers refused a session by the limits
	Failed      Counter // handshakes that failed or ran out of time
	ReadFailed  Counter // errors reading the socket
}

type nopCounter struct{}

func (nopCounter) Add(netip.AddrPort, string) {}

const cookiePeriod = 30 * time.Second

// Listener is a DTLS server on one UDP socket.
type Listener struct {
	cfg   Config
	conn  *net.UDPConn
	local netip.AddrPort
	jar   *cookieJar
	out   [recordHeaderLen + handshakeHeaderLen + 3 + cookieLen]byte // the read loop's HelloVerifyRequest

	onEstablished func(*Conn)

	mu     sync.Mutex
	byAddr map[netip.AddrPort]*Conn
	byCID  map[string]*Conn
	perIP  map[netip.Addr]int
	count  int
}

// New returns a server on conn, which it closes when Serve returns.
func New(conn *net.UDPConn, cfg Config) *Listener {
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 64
	}
	if cfg.MaxPerAddress <= 0 {
		cfg.MaxPerAddress = max(1, cfg.MaxSessions/4)
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 5 * time.Second
	}
	for _, c := range []*Counter{&cfg.Events.Malformed, &cfg.Events.HelloVerify, &cfg.Events.Refused, &cfg.Events.Failed, &cfg.Events.ReadFailed} {
		if *c == nil {
			*c = nopCounter{}
		}
	}
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return &Listener{
		cfg:    cfg,
		conn:   conn,
		local:  netip.AddrPortFrom(local.Addr().Unmap(), local.Port()),
		jar:    newCookieJar(cookiePeriod, time.Now),
		byAddr: make(map[netip.AddrPort]*Conn),
		byCID:  make(map[string]*Conn),
		perIP:  make(map[netip.Addr]int),
	}
}

// Addr is the address the server listens on.
func (l *Listener) Addr() netip.AddrPort { return l.local }

// Close closes the socket; a Serve running on it returns.
func (l *Listener) Close() error { return l.conn.Close() }

// Sessions is the number of sessions, handshakes in progress included.
func (l *Listener) Sessions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}

// Serve reads datagrams until ctx is done, and calls handle in a goroutine of its own for each
// session whose handshake completed; the session is closed when handle returns. Serve returns
// when every handle has.
func (l *Listener) Serve(ctx context.Context, handle func(context.Context, *Conn)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	l.onEstablished = func(c *Conn) {
		wg.Go(func() {
			defer c.Close()
			handle(ctx, c)
		})
	}
	stop := context.AfterFunc(ctx, func() { l.conn.Close() })
	defer stop()
	buf := make([]byte, 1<<16)
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				break
			}
			l.cfg.Events.ReadFailed.Add(l.local, err.Error())
			time.Sleep(10 * time.Millisecond)
			continue
		}
		l.datagram(buf[:n], netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
	}
	cancel()
	l.closeAll()
	wg.Wait()
}

// datagram routes one datagram: by connection ID, then by address, else to the cookie step.
func (l *Listener) datagram(b []byte, from netip.AddrPort) {
	if len(b) > 0 && b[0] == typeCID {
		var c *Conn
		if len(b) >= recordHeaderLen+CIDLength {
			l.mu.Lock()
			c = l.byCID[string(b[11:11+CIDLength])]
			l.mu.Unlock()
		}
		if c == nil {
			l.cfg.Events.Malformed.Add(from, "record with an unknown connection ID")
			return
		}
		c.input(b, from)
		return
	}
	l.mu.Lock()
	c := l.byAddr[from]
	l.mu.Unlock()
	if c != nil && !c.isNewHello(b) {
		c.input(b, from)
		return
	}
	l.hello(b, from, c)
}

// hello answers a ClientHello from a peer without a session (or starting over): a cookie if
// it has none valid, else a session if the limits allow.
func (l *Listener) hello(b []byte, from netip.AddrPort, old *Conn) {
	var h hello
	if err := parseHello(b, &h); err != nil {
		l.cfg.Events.Malformed.Add(from, err.Error())
		return
	}
	if !l.jar.valid(from, &h) {
		l.helloVerify(from, &h)
		return
	}
	if old != nil {
		old.replaced() // RFC 6347 §4.2.8: the client lost its state, or its port was reused
	}
	suite := chooseSuite(&h)
	if suite == 0 {
		l.cfg.Events.Failed.Add(from, "no cipher suite in common (the server has PSK with AES-128 CCM_8, GCM and CCM)")
		l.sendAlert(from, h.recordSeq, alertHandshakeFailure)
		return
	}
	l.mu.Lock()
	switch {
	case l.count >= l.cfg.MaxSessions:
		l.mu.Unlock()
		l.cfg.Events.Refused.Add(from, "too many sessions")
		return
	case l.perIP[sourceOf(from.Addr())] >= l.cfg.MaxPerAddress:
		l.mu.Unlock()
		l.cfg.Events.Refused.Add(from, "too many sessions from this address")
		return
	}
	c := newConn(l, from, suite)
	l.count++
	l.perIP[sourceOf(from.Addr())]++
	l.byAddr[from] = c
	if _, ok := h.extension(extConnectionID); ok && l.cfg.ConnectionID {
		c.ownCID = l.newCIDLocked(c)
	}
	l.mu.Unlock()
	c.start(&h)
}

// newCIDLocked draws a connection ID no session has and registers c under it.
func (l *Listener) newCIDLocked(c *Conn) []byte {
	cid := make([]byte, CIDLength)
	for {
		_, _ = rand.Read(cid)
		if _, taken := l.byCID[string(cid)]; !taken {
			l.byCID[string(cid)] = c
			return cid
		}
	}
}

// helloVerify sends the stateless HelloVerifyRequest (RFC 6347 §4.2.1): record version DTLS
// 1.0, the hello's record and message sequence numbers.
func (l *Listener) helloVerify(to netip.AddrPort, h *hello) {
	b := l.out[:0]
	b = append(b, typeHandshake, versionDTLS10[0], versionDTLS10[1], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	putUint48(b[5:11], h.recordSeq)
	binary.BigEndian.PutUint16(b[11:], handshakeHeaderLen+3+cookieLen)
	b = handshakeHeader(b, msgHelloVerifyRequest, h.messageSeq, 3+cookieLen)
	b = append(b, versionDTLS10[0], versionDTLS10[1], cookieLen)
	b = l.jar.mint(b, to, h)
	l.cfg.Events.HelloVerify.Add(to, "ClientHello without a valid cookie")
	_, _ = l.conn.WriteToUDPAddrPort(b, to)
}

// Alert descriptions sent (RFC 5246 §7.2, RFC 4279 §2).
const (
	alertCloseNotify      = 0
	alertBadRecordMAC     = 20
	alertHandshakeFailure = 40
	alertDecryptError     = 51
)

// sendAlert sends a fatal alert in epoch 0 to a peer without a session, with record sequence
// number seq.
func (l *Listener) sendAlert(to netip.AddrPort, seq uint64, desc byte) {
	b := []byte{typeAlert, versionDTLS12[0], versionDTLS12[1], 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, desc}
	putUint48(b[5:11], seq)
	_, _ = l.conn.WriteToUDPAddrPort(b, to)
}

// sourceOf is what MaxPerAddress counts sessions by: an IPv4 address, or an IPv6 address's
// /64, since one host picks addresses in its /64 at will (RFC 8981 temporary addresses).
func sourceOf(a netip.Addr) netip.Addr {
	if a.Is4() || a.Is4In6() {
		return a.Unmap()
	}
	p, _ := a.Prefix(64)
	return p.Addr()
}

// remove forgets c; admitted is the address it was admitted from.
func (l *Listener) remove(c *Conn, admitted netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[c.peer] == c {
		delete(l.byAddr, c.peer)
	}
	if c.ownCID != nil {
		delete(l.byCID, string(c.ownCID))
	}
	l.count--
	if l.perIP[admitted]--; l.perIP[admitted] <= 0 {
		delete(l.perIP, admitted)
	}
}

// move records that c's peer now sends from to.
func (l *Listener) move(c *Conn, from, to netip.AddrPort) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[from] == c {
		delete(l.byAddr, from)
	}
	l.byAddr[to] = c
}

func (l *Listener) closeAll() {
	l.mu.Lock()
	conns := make([]*Conn, 0, len(l.byAddr)+len(l.byCID))
	for _, c := range l.byAddr {
		conns = append(conns, c)
	}
	for _, c := range l.byCID {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}
