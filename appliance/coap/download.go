package coap

import (
	"context"
	"fmt"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// AnswerError is a server's answer that is not the one asked for, such as 4.04 to a GET.
type AnswerError struct {
	Code       Code
	Diagnostic string // the answer's payload, as text
}

func (e *AnswerError) Error() string {
	return fmt.Sprintf("the server answered %s %s", e.Code, e.Diagnostic)
}

// Download fetches path with GET block by block (Block2, RFC 7959) and hands each block to
// fn as it arrives, keeping none: a body far larger than memory (an update bundle) goes
// where fn puts it. fn's error ends the transfer. Without a deadline in ctx, each block has
// the session's Timeout. A representation whose ETag changes during the transfer is an
// error: the blocks no longer belong together.
func (s *Session) Download(ctx context.Context, path string, fn func(offset int64, data []byte, more bool) error) error {
	req := NewRequest(GET, path)
	if err := req.check(); err != nil {
		return err
	}
	token := randomToken()
	szx := maxSZX
	var etag []byte
	for offset, num := int64(0), int64(0); ; {
		v, _ := blockwise.EncodeBlockOption(szx, num, false)
		bctx, cancel := ctx, context.CancelFunc(func() {})
		if _, ok := ctx.Deadline(); !ok {
			bctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
		}
		r := s.roundTrip(bctx, &req, token, wire{mid: s.nextMID(), block2: v, hasB2: true, observe: -1})
		cancel()
		switch {
		case r.Err != nil:
			return fmt.Errorf("GET %s from %s, byte %d: %w", path, s.peer, offset, r.Err)
		case r.Code != Content:
			return fmt.Errorf("GET %s from %s, byte %d: %w", path, s.peer, offset, &AnswerError{Code: r.Code, Diagnostic: string(r.Payload)})
		}
		if tag, ok := r.option(message.ETag); ok {
			if num > 0 && string(tag) != string(etag) {
				return fmt.Errorf("GET %s from %s: the representation changed at byte %d (ETag %x, then %x)", path, s.peer, offset, etag, tag)
			}
			etag = tag
		}
		more := false
		if v, ok := r.uintOption(message.Block2); ok {
			rszx, rnum, rmore, err := blockwise.DecodeBlockOption(v)
			if err != nil || rszx > maxSZX || rnum*int64(szxSize(rszx)) != offset {
				return fmt.Errorf("GET %s from %s: Block2 %#x does not answer for byte %d", path, s.peer, v, offset)
			}
			more, szx = rmore, rszx // the server may give smaller blocks than asked
			if more && len(r.Payload) != szxSize(rszx) {
				return fmt.Errorf("GET %s from %s: block %d holds %d bytes, its size is %d", path, s.peer, rnum, len(r.Payload), szxSize(rszx))
			}
		} else if num > 0 {
			return fmt.Errorf("GET %s from %s: an answer without Block2 for byte %d", path, s.peer, offset)
		}
		if err := fn(offset, r.Payload, more); err != nil {
			return err
		}
		if !more {
			return nil
		}
		offset += int64(len(r.Payload))
		num = offset / int64(szxSize(szx))
	}
}
