package coap

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// maxTransmitWait is RFC 7252's MAX_TRANSMIT_WAIT: the longest a CON request waits.
const maxTransmitWait = 93 * time.Second

// Session is a peer and a socket of its own (a connected UDP socket, or a DTLS connection).
type Session struct {
	c       *Client
	peer    netip.AddrPort
	uriHost string // the host name the session was made with, sent as Uri-Host
	conn    net.Conn
	opts    SessionOptions
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	serving atomic.Pointer[sessionServer] // set by Serve

	mu        sync.Mutex
	mid       uint16
	byMID     map[uint16]*exchange // CON requests waiting for their ACK
	byToken   map[string]*exchange // requests waiting for their response
	observing map[string]*Observation
	seenCON   [32]uint16 // MIDs of recent CON responses taken, to ACK duplicates without delivering them
	seenN     int
}

// exchange is one request message in flight.
type exchange struct {
	mid      uint16
	token    string
	msg      []byte
	con      bool
	sent     time.Time
	timeout  time.Duration
	tries    int
	timer    *time.Timer
	acked    bool
	finished bool
	sentB    int // bytes sent and received for this message, see Response.Sent
	recvB    int
	done     chan Response
}

func dialSession(c *Client, remote netip.AddrPort, uriHost string, opts SessionOptions) (*Session, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = maxTransmitWait
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = ackTimeout
	}
	if opts.MaxRetransmit == 0 {
		opts.MaxRetransmit = maxRetransmit
	} else if opts.MaxRetransmit < 0 {
		opts.MaxRetransmit = 0
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	var conn net.Conn
	if opts.PSK != nil || opts.Identity != "" {
		// DTLS keeps a connected socket: after an address change its handshake must be
		// done again anyway, which a new session does.
		udp, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(remote))
		if err != nil {
			return nil, err
		}
		if conn, err = dialDTLS(udp, remote, opts); err != nil {
			udp.Close()
			return nil, err
		}
	} else {
		pc, err := listenPeer(remote)
		if err != nil {
			return nil, err
		}
		conn = pc
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		c: c, peer: remote, uriHost: uriHost, conn: conn, opts: opts, ctx: ctx, cancel: cancel,
		done: make(chan struct{}), mid: uint16(rand.Uint32()),
		byMID: map[uint16]*exchange{}, byToken: map[string]*exchange{}, observing: map[string]*Observation{},
	}
	go s.read()
	return s, nil
}

// Peer is the session's peer address.
func (s *Session) Peer() netip.AddrPort { return s.peer }

// String names the peer as the user gave it where that was a host name.
func (s *Session) String() string {
	if s.uriHost != "" {
		return fmt.Sprintf("%s (%s)", s.uriHost, s.peer)
	}
	return s.peer.String()
}

// Close ends the session: observations are cancelled, pending requests end with ErrClosed.
func (s *Session) Close() error {
	s.mu.Lock()
	obs := make([]*Observation, 0, len(s.observing))
	for _, o := range s.observing {
		obs = append(obs, o)
	}
	s.mu.Unlock()
	for _, o := range obs {
		o.Cancel()
	}
	s.cancel()
	err := s.conn.Close()
	<-s.done
	s.mu.Lock()
	pending := make([]*exchange, 0, len(s.byToken))
	for _, ex := range s.byToken {
		pending = append(pending, ex)
	}
	s.mu.Unlock()
	for _, ex := range pending {
		s.finish(ex, Response{Err: ErrClosed})
	}
	s.stopServing()
	return err
}

func (s *Session) nextMID() uint16 {
	if ss := s.serving.Load(); ss != nil {
		return ss.srv.nextMID() // one message-ID space per socket (Serve)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mid++
	return s.mid
}

// transmit sends a message and keeps it in flight until finish.
func (s *Session) transmit(ex *exchange) error {
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return ErrClosed
	}
	if old, ok := s.byToken[ex.token]; ok && !old.finished {
		s.mu.Unlock()
		return fmt.Errorf("token %x is in use by a request in flight", ex.token)
	}
	if ex.con {
		s.byMID[ex.mid] = ex
		ex.timeout = s.opts.AckTimeout + rand.N(s.opts.AckTimeout/2)
		ex.timer = time.AfterFunc(ex.timeout, func() { s.retransmit(ex) })
	}
	s.byToken[ex.token] = ex
	ex.sent = time.Now()
	ex.sentB += len(ex.msg)
	s.mu.Unlock()
	if _, err := s.conn.Write(ex.msg); err != nil {
		s.finish(ex, Response{Err: fmt.Errorf("send to %s: %w", s.peer, err)})
		return err
	}
	return nil
}

// retransmit resends a CON request that got no ACK, with exponential back-off (RFC 7252
// §4.2), and gives up with ErrTimeout after MAX_RETRANSMIT resends.
func (s *Session) retransmit(ex *exchange) {
	s.mu.Lock()
	if ex.finished || ex.acked {
		s.mu.Unlock()
		return
	}
	if ex.tries >= s.opts.MaxRetransmit {
		s.mu.Unlock()
		s.finish(ex, Response{Err: fmt.Errorf("%w: no answer from %s after %d transmissions", ErrTimeout, s.peer, ex.tries+1)})
		return
	}
	ex.tries++
	ex.sentB += len(ex.msg)
	ex.timeout *= 2
	ex.timer = time.AfterFunc(ex.timeout, func() { s.retransmit(ex) })
	s.mu.Unlock()
	_, _ = s.conn.Write(ex.msg)
}

// finish ends an exchange with r, once.
func (s *Session) finish(ex *exchange, r Response) {
	s.mu.Lock()
	if ex.finished {
		s.mu.Unlock()
		return
	}
	ex.finished = true
	if ex.timer != nil {
		ex.timer.Stop()
	}
	if s.byMID[ex.mid] == ex {
		delete(s.byMID, ex.mid)
	}
	if s.byToken[ex.token] == ex {
		delete(s.byToken, ex.token)
	}
	r.Sent, r.Received = ex.sentB, ex.recvB
	s.mu.Unlock()
	r.RTT = time.Since(ex.sent)
	r.Peer = s.String()
	ex.done <- r
}

// read receives until the session closes.
func (s *Session) read() {
	defer close(s.done)
	buf := make([]byte, maxDatagram)
	for {
		n, err := s.conn.Read(buf)
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// ICMP port unreachable shows up as a read error on a connected socket: the
			// retransmissions go on until the peer answers or the request times out.
			s.c.log.Debug("session read", "peer", s.peer.String(), "err", err)
			time.Sleep(5 * time.Millisecond)
			continue
		}
		s.datagram(buf[:n])
	}
}

// datagram takes one datagram from the peer: a response, a notification, or something a
// client rejects unless the session serves (Serve).
func (s *Session) datagram(b []byte) {
	if ss := s.serving.Load(); ss != nil && s.forServer(b) {
		ss.w.packet(b, s.peer, pktinfo{})
		return
	}
	var m message.Message
	m.Options = make(message.Options, 0, 16)
	if _, err := coder.DefaultCoder.Decode(b, &m); err != nil {
		if len(b) >= 4 && message.Type(b[0]>>4&3) == message.Confirmable {
			_, _ = s.conn.Write(emptyMessage(message.Reset, uint16(b[2])<<8|uint16(b[3]), make([]byte, 4)))
		}
		return
	}
	s.receive(&m, len(b))
}

// receive takes a decoded message of n bytes.
func (s *Session) receive(m *message.Message, n int) {
	mid := uint16(m.MessageID)
	switch m.Type {
	case message.Acknowledgement, message.Reset:
		if m.Code != codes.Empty && !isResponse(m.Code) { // a format error: ignored (RFC 7252 §4.2)
			return
		}
		s.mu.Lock()
		ex := s.byMID[mid]
		if ex != nil {
			ex.recvB += n
		}
		if ex != nil && m.Code == codes.Empty && m.Type == message.Acknowledgement {
			ex.acked = true // a separate response follows (RFC 7252 §5.2.2)
			if ex.timer != nil {
				ex.timer.Stop()
			}
		}
		s.mu.Unlock()
		switch {
		case ex == nil:
		case m.Type == message.Reset:
			s.finish(ex, Response{Code: Code(m.Code), MessageID: mid, Type: RST, Err: fmt.Errorf("%w: %s rejected the request", ErrReset, s.peer)})
		case m.Code != codes.Empty && string(m.Token) == ex.token:
			s.deliver(ex, m)
		}
		return
	}
	if !isResponse(m.Code) { // a ping, a request or a reserved class: a client rejects them
		if m.Type == message.Confirmable {
			_, _ = s.conn.Write(emptyMessage(message.Reset, mid, make([]byte, 4)))
		}
		return
	}
	// A separate response or a notification, CON or NON.
	s.mu.Lock()
	ex := s.byToken[string(m.Token)]
	obs := s.observing[string(m.Token)]
	known := ex != nil || obs != nil
	duplicate := m.Type == message.Confirmable && s.seen(mid)
	if m.Type == message.Confirmable && known && !duplicate {
		s.remember(mid)
	}
	if ex != nil && !duplicate {
		ex.recvB += n
		if m.Type == message.Confirmable {
			ex.sentB += 4 // the empty ACK sent below
		}
	}
	s.mu.Unlock()
	switch {
	case duplicate: // our ACK was lost: acknowledge again, deliver once (RFC 7252 §4.5)
		_, _ = s.conn.Write(emptyMessage(message.Acknowledgement, mid, make([]byte, 4)))
		return
	case !known: // no request of ours: reject; for a notification this ends a stale observation
		_, _ = s.conn.Write(emptyMessage(message.Reset, mid, make([]byte, 4)))
		return
	case m.Type == message.Confirmable:
		_, _ = s.conn.Write(emptyMessage(message.Acknowledgement, mid, make([]byte, 4)))
	}
	if ex != nil {
		s.deliver(ex, m)
	} else {
		obs.notify(responseOf(m))
	}
}

// isResponse reports whether c is of a response class: 2 success, 4 client error or 5 server
// error (RFC 7252 §3); 1, 3, 6 and 7 are reserved.
func isResponse(c codes.Code) bool {
	class := c >> 5
	return class == 2 || class == 4 || class == 5
}

// seen reports whether a CON response with this MID was taken before.
func (s *Session) seen(mid uint16) bool {
	for _, v := range s.seenCON[:min(s.seenN, len(s.seenCON))] {
		if v == mid {
			return true
		}
	}
	return false
}

// remember records the MID of a CON response taken, to acknowledge its duplicates.
func (s *Session) remember(mid uint16) {
	s.seenCON[s.seenN%len(s.seenCON)] = mid
	s.seenN++
}

func (s *Session) deliver(ex *exchange, m *message.Message) {
	s.finish(ex, responseOf(m))
}

// responseOf copies a decoded message, whose buffers are reused, into a Response.
func responseOf(m *message.Message) Response {
	r := Response{Code: Code(m.Code), MessageID: uint16(m.MessageID), Type: Type(m.Type),
		Token: append([]byte(nil), m.Token...), Payload: append([]byte{}, m.Payload...)}
	for _, o := range m.Options {
		r.Options = append(r.Options, Option{ID: uint16(o.ID), Value: append([]byte(nil), o.Value...)})
	}
	return r
}
