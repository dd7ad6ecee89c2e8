package dtlspsk

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/netip"
	"time"
)

// cookieLen is the length of the cookies the server hands out: a byte naming the secret's
// period, then 31 bytes of HMAC-SHA256.
const cookieLen = 32

// cookieJar makes and checks cookies (RFC 6347 §4.2.1: Cookie = HMAC(Secret, Client-IP,
// Client-Parameters)). The secret of each period is derived from a random master key, so a
// cookie is valid from its period into the next and no longer. A jar belongs to one socket's
// read loop and is not safe for concurrent use.
type cookieJar struct {
	master [32]byte
	period time.Duration
	now    func() time.Time

	epoch   int64 // the period the macs below are for
	current hash.Hash
	prev    hash.Hash
	sum     [sha256.Size]byte
	addr    [18]byte // the peer's IPv6 or IPv4-mapped address and port, the mac's first input
}

func newCookieJar(period time.Duration, now func() time.Time) *cookieJar {
	j := &cookieJar{period: period, now: now, epoch: -1}
	_, _ = rand.Read(j.master[:]) // crypto/rand does not fail on Linux
	return j
}

func (j *cookieJar) keyFor(epoch int64) hash.Hash {
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], uint64(epoch))
	m := hmac.New(sha256.New, j.master[:])
	m.Write(e[:])
	return hmac.New(sha256.New, m.Sum(nil))
}

// rotate brings the secrets up to the current period.
func (j *cookieJar) rotate() {
	e := j.now().UnixNano() / int64(j.period)
	switch {
	case e == j.epoch:
		return
	case e == j.epoch+1:
		j.prev, j.current = j.current, j.keyFor(e)
	default:
		j.prev, j.current = j.keyFor(e-1), j.keyFor(e)
	}
	j.epoch = e
}

// mint appends to dst the cookie for h sent from peer.
func (j *cookieJar) mint(dst []byte, peer netip.AddrPort, h *hello) []byte {
	j.rotate()
	return append(append(dst, byte(j.epoch)), j.mac(j.current, peer, h)[:cookieLen-1]...)
}

// valid reports whether h carries a cookie minted for peer in this period or the last.
func (j *cookieJar) valid(peer netip.AddrPort, h *hello) bool {
	if len(h.cookie) != cookieLen {
		return false
	}
	j.rotate()
	var m hash.Hash
	switch h.cookie[0] {
	case byte(j.epoch):
		m = j.current
	case byte(j.epoch - 1):
		m = j.prev
	default:
		return false
	}
	return hmac.Equal(h.cookie[1:], j.mac(m, peer, h)[:cookieLen-1])
}

func (j *cookieJar) mac(m hash.Hash, peer netip.AddrPort, h *hello) []byte {
	a := peer.Addr().As16()
	copy(j.addr[:], a[:])
	binary.BigEndian.PutUint16(j.addr[16:], peer.Port())
	m.Reset()
	m.Write(j.addr[:])
	m.Write(h.params)
	m.Write(h.suitesAndCompression)
	return m.Sum(j.sum[:0])
}
