package dtlspsk

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/pion/dtls/v3/pkg/protocol"
	"github.com/pion/dtls/v3/pkg/protocol/recordlayer"
)

type connState int

const (
	handshaking connState = iota
	established
	closed
)

// inboxSize bounds the datagrams waiting for Read; more are dropped, as a full socket would.
const inboxSize = 32

// outRecord is a record of a flight, kept to be sealed again with a new sequence number when
// the flight is retransmitted.
type outRecord struct {
	typ     byte
	epoch   uint16
	payload []byte
}

// Conn is one DTLS session. Its methods are safe for concurrent use.
type Conn struct {
	l               *Listener
	admitted        netip.Addr // the source counted against MaxPerAddress (see sourceOf)
	in              chan []byte
	done            chan struct{}
	deadlineChanged chan struct{}

	mu           sync.Mutex
	state        connState
	peer         netip.AddrPort
	suite        uint16
	clientRandom [32]byte
	serverRandom [32]byte
	ems          bool
	ownCID       []byte // the ID the client's records carry; nil without one
	peerCID      []byte // the ID the server's records carry; nil without one
	helloSeq     uint16
	sendSeq      uint16
	transcript   []byte
	master       []byte
	cipher       recordCipher
	identity     string
	// unknownIdentity marks a handshake going on with a random key: the client's identity
	// has none.
	unknownIdentity bool
	seq0, seq1      uint64 // the next record sequence numbers of epochs 0 and 1
	replay          replayWindow
	flight          []outRecord
	rto             time.Duration
	retransmit      *time.Timer
	deadline        *time.Timer
	readDeadline    time.Time
}

func newConn(l *Listener, peer netip.AddrPort, suite uint16) *Conn {
	return &Conn{
		l:               l,
		admitted:        sourceOf(peer.Addr()),
		peer:            peer,
		suite:           suite,
		in:              make(chan []byte, inboxSize),
		done:            make(chan struct{}),
		deadlineChanged: make(chan struct{}, 1),
	}
}

// isNewHello reports whether b starts a new handshake: a ClientHello other than the one this
// session's handshake answers.
func (c *Conn) isNewHello(b []byte) bool {
	if len(b) < recordHeaderLen+handshakeHeaderLen || b[0] != typeHandshake || b[3] != 0 || b[4] != 0 || b[recordHeaderLen] != msgClientHello {
		return false
	}
	var h hello
	if parseHello(b, &h) != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state != handshaking || [32]byte(h.random) != c.clientRandom
}

// input handles a datagram of this session's.
func (c *Conn) input(b []byte, from netip.AddrPort) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(b) > 0 && c.state != closed {
		hl := recordHeaderLen
		if b[0] == typeCID {
			hl += len(c.ownCID)
			if c.ownCID == nil {
				return
			}
		}
		if len(b) < hl {
			return
		}
		n := hl + int(binary.BigEndian.Uint16(b[hl-2:]))
		if n > len(b) {
			return
		}
		c.record(b[:n], from)
		b = b[n:]
	}
}

// record handles one record.
func (c *Conn) record(rec []byte, from netip.AddrPort) {
	typ := rec[0]
	switch binary.BigEndian.Uint16(rec[3:5]) {
	case 0:
		payload := rec[recordHeaderLen:]
		switch typ {
		case typeHandshake:
			c.plainHandshake(payload)
		case typeAlert:
			if len(payload) == 2 && payload[0] == 2 && c.state == handshaking {
				c.failLocked("the client sent a fatal alert", 0)
			}
		}
	case 1:
		c.sealedRecord(rec, from)
	}
}

// sealedRecord authenticates and handles a record of epoch 1.
func (c *Conn) sealedRecord(rec []byte, from netip.AddrPort) {
	typ := rec[0]
	seq := uint48(rec[5:11])
	if c.cipher == nil || !c.replay.fresh(seq) || (typ == typeCID) != (c.ownCID != nil) {
		return // RFC 9146 §3: once negotiated, the client's protected records carry the ID
	}
	var h recordlayer.Header
	if typ == typeCID {
		h.ConnectionID = c.ownCID[:len(c.ownCID):len(c.ownCID)]
	}
	out, err := c.cipher.Decrypt(h, rec)
	switch {
	case err != nil && c.state == handshaking:
		// Only the Finished is protected so far, and the peer proved its address: the
		// client's key is not the one of its identity.
		why := fmt.Sprintf("identity %q: the client's Finished does not authenticate (a wrong key)", c.identity)
		if c.unknownIdentity {
			why = fmt.Sprintf("identity %q: unknown", c.identity)
		}
		c.failLocked(why, alertBadRecordMAC)
		return
	case err != nil:
		c.l.cfg.Events.Malformed.Add(from, "record failed authentication")
		return
	}
	content := out[recordHeaderLen+len(h.ConnectionID):]
	if typ == typeCID {
		i := len(content) - 1
		for i >= 0 && content[i] == 0 {
			i--
		}
		if i < 0 {
			return
		}
		typ, content = content[i], content[:i]
	}
	if newest := c.replay.accept(seq); newest && h.ConnectionID != nil && from != c.peer {
		c.l.move(c, c.peer, from) // RFC 9146 §6: the peer's address follows its newest record
		c.peer = from
	}
	switch typ {
	case typeHandshake:
		c.sealedHandshake(content)
	case typeApplicationData:
		if c.state == established {
			select {
			case c.in <- append([]byte(nil), content...):
			default:
			}
		}
	case typeAlert:
		if len(content) == 2 && (content[0] == 2 || content[1] == alertCloseNotify) {
			c.closeLocked()
		}
	}
}

// seal appends a record of the server's to dst, with the epoch's next sequence number.
func (c *Conn) seal(dst []byte, typ byte, epoch uint16, payload []byte) []byte {
	if epoch == 0 {
		dst = append(dst, typ, versionDTLS12[0], versionDTLS12[1], 0, 0, 0, 0, 0, 0, 0, 0)
		putUint48(dst[len(dst)-6:], c.seq0)
		c.seq0++
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(payload)))
		return append(dst, payload...)
	}
	h := recordlayer.Header{
		ContentType:    protocol.ContentType(typ),
		Version:        protocol.Version1_2,
		Epoch:          epoch,
		SequenceNumber: c.seq1,
	}
	inner := payload
	if c.peerCID != nil {
		h.ContentType = typeCID
		h.ConnectionID = c.peerCID
		inner = append(append(make([]byte, 0, len(payload)+1), payload...), typ)
	}
	h.ContentLen = uint16(len(inner))
	raw, err := h.Marshal()
	if err != nil {
		return dst // the sequence number ran out: 2^48 records
	}
	enc, err := c.cipher.Encrypt(&recordlayer.RecordLayer{Header: h}, append(raw, inner...))
	if err != nil {
		return dst
	}
	c.seq1++
	return append(dst, enc...)
}

// sendFlight seals the flight's records afresh and sends them in one datagram.
func (c *Conn) sendFlight() {
	var b []byte
	for _, r := range c.flight {
		b = c.seal(b, r.typ, r.epoch, r.payload)
	}
	_, _ = c.l.conn.WriteToUDPAddrPort(b, c.peer)
}

// Read reads the next datagram of application data.
func (c *Conn) Read(b []byte) (int, error) {
	select {
	case <-c.deadlineChanged: // set before this Read: read below
	default:
	}
	for {
		c.mu.Lock()
		d := c.readDeadline
		c.mu.Unlock()
		if p, ok, err := c.next(d); ok || err != nil {
			return copy(b, p), err
		}
	}
}

// next waits for a datagram until d (zero: without limit); ok is false when the deadline was
// changed meanwhile.
func (c *Conn) next(d time.Time) (p []byte, ok bool, err error) {
	var expire <-chan time.Time
	if !d.IsZero() {
		wait := time.Until(d)
		if wait <= 0 {
			return nil, false, os.ErrDeadlineExceeded
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		expire = t.C
	}
	select {
	case p := <-c.in:
		return p, true, nil
	case <-c.done:
		return nil, false, net.ErrClosed
	case <-expire:
		return nil, false, os.ErrDeadlineExceeded
	case <-c.deadlineChanged:
		return nil, false, nil
	}
}

// Write sends b as one record of application data.
func (c *Conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != established {
		return 0, net.ErrClosed
	}
	rec := c.seal(nil, typeApplicationData, 1, b)
	if _, err := c.l.conn.WriteToUDPAddrPort(rec, c.peer); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close ends the session, with a close_notify alert when it was established.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == established {
		rec := c.seal(nil, typeAlert, 1, []byte{1, alertCloseNotify})
		_, _ = c.l.conn.WriteToUDPAddrPort(rec, c.peer)
	}
	c.closeLocked()
	return nil
}

// replaced ends the session because its peer started a new handshake from the same address:
// a handshake in progress counts as failed, an established session is closed.
func (c *Conn) replaced() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == handshaking {
		c.failLocked("a new handshake from its address", 0)
		return
	}
	c.closeLocked()
}

// fail ends a handshake, counted with why.
func (c *Conn) fail(why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failLocked(why, 0)
}

// failLocked ends a handshake, counted with why, telling the client with a fatal alert desc
// (0: no alert).
func (c *Conn) failLocked(why string, desc byte) {
	if c.state == closed {
		return
	}
	c.l.cfg.Events.Failed.Add(c.peer, why)
	if desc != 0 {
		_, _ = c.l.conn.WriteToUDPAddrPort(c.seal(nil, typeAlert, 0, []byte{2, desc}), c.peer)
	}
	c.closeLocked()
}

func (c *Conn) closeLocked() {
	if c.state == closed {
		return
	}
	c.state = closed
	if c.retransmit != nil {
		c.retransmit.Stop()
	}
	if c.deadline != nil {
		c.deadline.Stop()
	}
	close(c.done)
	c.l.remove(c, c.admitted)
}

// Identity is the PSK identity the client authenticated with.
func (c *Conn) Identity() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.identity
}

// Peer is the client's address: with a connection ID, the source of its newest record.
func (c *Conn) Peer() netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peer
}

// LocalAddr is the server's address.
func (c *Conn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.l.local) }

// RemoteAddr is Peer as a *net.UDPAddr.
func (c *Conn) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(c.Peer()) }

// SetReadDeadline bounds the wait of Read; the zero time waits for ever.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	select {
	case c.deadlineChanged <- struct{}{}:
	default:
	}
	return nil
}

// SetWriteDeadline does nothing: writes do not block.
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline sets the read deadline.
func (c *Conn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }
