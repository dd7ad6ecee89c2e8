package coap

import (
	"net/netip"
	"sync"
	"time"
)

// exchangeLifetime is RFC 7252's EXCHANGE_LIFETIME: how long a message ID stays in use.
const exchangeLifetime = 247 * time.Second

const (
	dedupShards = 16
	smallAnswer = 96 // answers up to this size live inside the entry, without an allocation
)

// dedupCache remembers recent requests by (peer, message ID) and the answer sent, so a
// retransmitted CON request gets the same answer without running its handler again
// (RFC 7252 §4.5). Each shard is a ring of fixed size with a map into it: a lookup, an insert
// and the eviction of the oldest entry are O(1), and memory is fixed at creation.
type dedupCache struct {
	lifetime int64
	shards   [dedupShards]dedupShard
}

type dedupKey struct {
	peer netip.AddrPort
	mid  uint16
}

type dedupShard struct {
	mu   sync.Mutex
	idx  map[dedupKey]int32
	ring []dedupEntry
	next int32
}

type dedupEntry struct {
	key      dedupKey
	at       int64 // unix nanoseconds of the first copy
	answered bool
	n        int
	small    [smallAnswer]byte
	big      []byte
}

// dedupState says what begin found.
type dedupState int

const (
	dedupNew        dedupState = iota // first copy: handle it
	dedupInProgress                   // a copy is being handled: drop this one
	dedupAnswered                     // answered before: resend the answer
)

func newDedupCache(entries int, lifetime time.Duration) *dedupCache {
	per := max(entries/dedupShards, 4)
	c := &dedupCache{lifetime: int64(lifetime)}
	for i := range c.shards {
		c.shards[i].idx = make(map[dedupKey]int32, per)
		c.shards[i].ring = make([]dedupEntry, per)
	}
	return c
}

func (c *dedupCache) shard(k dedupKey) *dedupShard {
	a := k.peer.Addr().As16()
	h := uint32(k.mid) ^ uint32(k.peer.Port())<<3 ^ uint32(a[15]) ^ uint32(a[14])<<8 ^ uint32(a[13])<<16
	h ^= h >> 7
	return &c.shards[h%dedupShards]
}

// begin records the first copy of a request, or reports a duplicate; for an answered one it
// copies the answer into dst and returns its length.
func (c *dedupCache) begin(k dedupKey, now time.Time, dst []byte) (dedupState, int) {
	sh := c.shard(k)
	t := now.UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, ok := sh.idx[k]; ok {
		e := &sh.ring[i]
		if t-e.at < c.lifetime {
			if !e.answered {
				return dedupInProgress, 0
			}
			if e.big != nil {
				return dedupAnswered, copy(dst, e.big)
			}
			return dedupAnswered, copy(dst, e.small[:e.n])
		}
		delete(sh.idx, k)
	}
	i := sh.next
	sh.next = (sh.next + 1) % int32(len(sh.ring))
	e := &sh.ring[i]
	if e.at != 0 {
		if j, ok := sh.idx[e.key]; ok && j == i {
			delete(sh.idx, e.key)
		}
	}
	*e = dedupEntry{key: k, at: t}
	sh.idx[k] = i
	return dedupNew, 0
}

// finish stores the answer sent for k (nil when nothing was sent).
func (c *dedupCache) finish(k dedupKey, answer []byte) {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.idx[k]
	if !ok {
		return
	}
	e := &sh.ring[i]
	e.answered = true
	if len(answer) <= smallAnswer {
		e.n = copy(e.small[:], answer)
		e.big = nil
	} else {
		e.big = append([]byte(nil), answer...)
	}
}

// len counts the entries held, for tests.
func (c *dedupCache) len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.Lock()
		n += len(c.shards[i].idx)
		c.shards[i].mu.Unlock()
	}
	return n
}
