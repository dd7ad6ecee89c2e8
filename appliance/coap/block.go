package coap

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// Block-wise transfers (RFC 7959). Block2 is stateless: every block of a GET is cut from the
// current representation. Block1 uploads are assembled here, per peer and path, bounded in
// number, size and age.

const (
	maxSZX       = blockwise.SZX1024
	maxBlockSize = 1024
	uploadTTL    = 60 * time.Second
)

func szxSize(szx blockwise.SZX) int { return 1 << (uint(szx) + 4) }

// szxOf gives the SZX of a block size of 16..1024 bytes.
func szxOf(size int) (blockwise.SZX, error) {
	for szx := blockwise.SZX16; szx <= maxSZX; szx++ {
		if szxSize(szx) == size {
			return szx, nil
		}
	}
	return 0, fmt.Errorf("block size %d: must be 16, 32, 64, 128, 256, 512 or 1024", size)
}

type uploadKey struct {
	peer netip.AddrPort
	uri  string
}

type upload struct {
	body    []byte
	next    int64 // number of the block expected next
	started time.Time
}

type blockStore struct {
	mu      sync.Mutex
	m       map[uploadKey]*upload
	max     int
	maxSize int
}

func newBlockStore(maxUploads, maxSize int) *blockStore {
	return &blockStore{m: make(map[uploadKey]*upload), max: maxUploads, maxSize: maxSize}
}

// blockOutcome is what one Block1 request leads to.
type blockOutcome struct {
	code codes.Code // codes.Continue, codes.Empty when the body is complete, or an error code
	body []byte     // the whole body when complete
	diag string     // diagnostic payload for an error
}

// add takes block num of an upload; size is the announced total (Size1) or -1.
func (b *blockStore) add(k uploadKey, num int64, szx blockwise.SZX, more bool, payload []byte, size int, now time.Time) blockOutcome {
	bs := szxSize(szx)
	if size > b.maxSize || int64(num)*int64(bs)+int64(len(payload)) > int64(b.maxSize) {
		b.drop(k)
		return blockOutcome{code: codes.RequestEntityTooLarge, diag: tooLargeDiag(b.maxSize)}
	}
	if more && len(payload) != bs {
		b.drop(k)
		return blockOutcome{code: codes.BadRequest, diag: "Block1: a block before the last must carry exactly the block size"}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.m[k]
	if num == 0 {
		if u == nil && len(b.m) >= b.max {
			return blockOutcome{code: codes.ServiceUnavailable, diag: "too many block-wise uploads in progress; retry later"}
		}
		u = &upload{started: now}
		b.m[k] = u
		u.body = u.body[:0]
	} else if u == nil || u.next != num || int64(len(u.body)) != num*int64(bs) {
		delete(b.m, k)
		return blockOutcome{code: codes.RequestEntityIncomplete, diag: "Block1: blocks missing or out of order; start again at block 0"}
	}
	u.body = append(u.body, payload...)
	u.next = num + 1
	if more {
		return blockOutcome{code: codes.Continue}
	}
	delete(b.m, k)
	return blockOutcome{code: codes.Empty, body: u.body}
}

func (b *blockStore) drop(k uploadKey) {
	b.mu.Lock()
	delete(b.m, k)
	b.mu.Unlock()
}

func (b *blockStore) expire(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, u := range b.m {
		if now.Sub(u.started) > uploadTTL {
			delete(b.m, k)
		}
	}
}

func (b *blockStore) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}
