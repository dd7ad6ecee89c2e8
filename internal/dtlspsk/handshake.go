package dtlspsk

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// The server's side of the PSK handshake (RFC 6347 §4.2.4, RFC 4279 §2), from the ClientHello
// that returned a valid cookie:
//
//	ClientHello(cookie)        -->
//	                           <-- ServerHello, [ServerKeyExchange(hint)], ServerHelloDone
//	ClientKeyExchange(identity),
//	ChangeCipherSpec, Finished -->
//	                           <-- ChangeCipherSpec, Finished
//
// Message sequence numbers continue from the hello's (its ServerHello answers the hello's
// number, RFC 6347 erratum 5186), and the transcript starts at the hello with the cookie, as
// both pion and OpenSSL clients compute it. The server's records of epoch 0 continue from the
// hello's record sequence number, above that of the HelloVerifyRequest the client already saw.

const firstRetransmit = time.Second

// start answers the hello with the server's first flight.
func (c *Conn) start(h *hello) {
	c.mu.Lock()
	defer c.mu.Unlock()
	copy(c.clientRandom[:], h.random)
	_, _ = rand.Read(c.serverRandom[:])
	c.helloSeq = h.messageSeq
	c.sendSeq = h.messageSeq
	c.seq0 = h.recordSeq
	c.transcript = append(c.transcript, h.message...)
	_, c.ems = h.extension(extExtendedMasterSecret)
	_, ri := h.extension(extRenegotiationInfo)
	ri = ri || h.offers(suiteRenegotiationSCSV)
	if data, ok := h.extension(extConnectionID); ok && c.ownCID != nil {
		if len(data) >= 1 && len(data) == 1+int(data[0]) && data[0] > 0 {
			c.peerCID = append([]byte(nil), data[1:]...)
		}
	}

	// ServerHello: version, random, empty session_id, suite, null compression, extensions.
	sh := append([]byte(nil), versionDTLS12[0], versionDTLS12[1])
	sh = append(sh, c.serverRandom[:]...)
	sh = append(sh, 0, byte(c.suite>>8), byte(c.suite), 0)
	var ext []byte
	if c.ems {
		ext = append(ext, 0, extExtendedMasterSecret, 0, 0)
	}
	if ri {
		ext = append(ext, 0xff, 0x01, 0, 1, 0)
	}
	if c.ownCID != nil {
		ext = append(ext, 0, extConnectionID, 0, byte(1+len(c.ownCID)), byte(len(c.ownCID)))
		ext = append(ext, c.ownCID...)
	}
	if len(ext) > 0 {
		sh = append(binary.BigEndian.AppendUint16(sh, uint16(len(ext))), ext...)
	}
	c.flight = c.flight[:0]
	c.queueHandshake(0, msgServerHello, sh)
	if len(c.l.cfg.Hint) > 0 {
		ske := binary.BigEndian.AppendUint16(nil, uint16(len(c.l.cfg.Hint)))
		c.queueHandshake(0, msgServerKeyExchange, append(ske, c.l.cfg.Hint...))
	}
	c.queueHandshake(0, msgServerHelloDone, nil)
	c.sendFlight()
	c.rto = firstRetransmit
	c.retransmit = time.AfterFunc(c.rto, c.retransmitFlight)
	c.deadline = time.AfterFunc(c.l.cfg.HandshakeTimeout, func() {
		c.mu.Lock()
		done := c.state != handshaking
		c.mu.Unlock()
		if !done {
			c.fail(fmt.Sprintf("handshake not done within %s", c.l.cfg.HandshakeTimeout))
		}
	})
}

// queueHandshake adds a handshake message of the server's to the flight and the transcript.
func (c *Conn) queueHandshake(epoch uint16, typ byte, body []byte) {
	msg := handshakeHeader(nil, typ, c.sendSeq, len(body))
	msg = append(msg, body...)
	c.sendSeq++
	c.transcript = append(c.transcript, msg...)
	c.flight = append(c.flight, outRecord{typ: typeHandshake, epoch: epoch, payload: msg})
}

// retransmitFlight resends the first flight while the client's answer has not come (RFC 6347
// §4.2.4), doubling the wait each time; the handshake deadline ends it.
func (c *Conn) retransmitFlight() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != handshaking || c.cipher != nil {
		return
	}
	c.sendFlight()
	c.rto *= 2
	c.retransmit.Reset(c.rto)
}

// handshakeMessages calls fn for each whole handshake message in a record's content; fragments
// are ignored (the client's messages of a PSK handshake are far smaller than any MTU).
func handshakeMessages(b []byte, fn func(typ byte, seq uint16, msg []byte)) {
	for len(b) >= handshakeHeaderLen {
		length := uint24(b[1:4])
		if uint24(b[6:9]) != 0 || uint24(b[9:12]) != length || handshakeHeaderLen+length > len(b) {
			return
		}
		fn(b[0], binary.BigEndian.Uint16(b[4:6]), b[:handshakeHeaderLen+length])
		b = b[handshakeHeaderLen+length:]
	}
}

// plainHandshake handles handshake messages of epoch 0.
func (c *Conn) plainHandshake(b []byte) {
	handshakeMessages(b, func(typ byte, seq uint16, msg []byte) {
		switch {
		case c.state != handshaking:
		case typ == msgClientHello && seq == c.helloSeq && c.cipher == nil:
			c.sendFlight() // the client did not get the first flight
		case typ == msgClientKeyExchange && seq == c.helloSeq+1 && c.cipher == nil:
			c.keyExchange(msg)
		}
	})
}

// keyExchange takes the client's identity and derives the session's keys.
func (c *Conn) keyExchange(msg []byte) {
	body := msg[handshakeHeaderLen:]
	if len(body) < 2 || 2+int(binary.BigEndian.Uint16(body)) != len(body) {
		c.failLocked("malformed ClientKeyExchange", 0)
		return
	}
	identity := body[2:]
	psk, err := c.l.cfg.PSK(identity)
	if err != nil || len(psk) == 0 {
		// RFC 4279 §2: go on with a key nobody has, so that an unknown identity fails as a
		// wrong key does, and a client cannot probe which identities exist.
		c.unknownIdentity = true
		psk = make([]byte, 32)
		_, _ = rand.Read(psk)
	}
	c.transcript = append(c.transcript, msg...)
	var sessionHash []byte
	if c.ems {
		h := sha256.Sum256(c.transcript)
		sessionHash = h[:]
	}
	c.master, err = masterSecret(psk, c.clientRandom[:], c.serverRandom[:], sessionHash)
	if err == nil {
		c.cipher, err = newCipher(c.suite, c.master, c.clientRandom[:], c.serverRandom[:])
	}
	if err != nil {
		c.failLocked(err.Error(), 0)
		return
	}
	c.identity = string(identity)
	c.retransmit.Stop()
}

// sealedHandshake handles handshake messages of epoch 1: the client's Finished.
func (c *Conn) sealedHandshake(b []byte) {
	handshakeMessages(b, func(typ byte, seq uint16, msg []byte) {
		switch {
		case typ != msgFinished || seq != c.helloSeq+2:
		case c.state == established:
			c.sendFlight() // the client did not get the server's Finished
		case c.state == handshaking:
			c.finished(msg)
		}
	})
}

// finished checks the client's Finished and answers with the server's.
func (c *Conn) finished(msg []byte) {
	want, err := verifyData(c.master, c.transcript, true)
	if err != nil || !hmac.Equal(msg[handshakeHeaderLen:], want) {
		c.failLocked("the client's Finished does not verify", alertDecryptError)
		return
	}
	c.transcript = append(c.transcript, msg...)
	mine, err := verifyData(c.master, c.transcript, false)
	if err != nil {
		c.failLocked(err.Error(), 0)
		return
	}
	c.flight = append(c.flight[:0], outRecord{typ: typeChangeCipherSpec, epoch: 0, payload: []byte{1}})
	c.queueHandshake(1, msgFinished, mine)
	c.sendFlight()
	c.state = established
	c.transcript = nil
	c.deadline.Stop()
	if c.l.onEstablished != nil {
		c.l.onEstablished(c)
	}
}
