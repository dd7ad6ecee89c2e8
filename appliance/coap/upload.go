package coap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// Upload sends size bytes read from body as req's payload, in Block1 blocks of
// req.BlockSize (1024 when 0), starting at byte from: 0 for a new upload, or where an earlier
// one stopped, which must be a multiple of the block size. Unlike Do it never holds the body
// in memory, so it suits bodies of any size: an update bundle.
//
// After each block the server acknowledged, progress (when not nil) gets the bytes it holds.
// Upload returns the answer to the last block, or the first answer that is not 2.31 Continue
// (an error code ends the upload early); the error is for a transport failure only. Without a
// deadline in ctx each block gets the session's Timeout.
func (s *Session) Upload(ctx context.Context, req Request, body io.ReaderAt, size, from int64, progress func(int64)) (Response, error) {
	if err := req.check(); err != nil {
		return Response{}, err
	}
	if req.NoOptions {
		return Response{}, errors.New("upload: a block-wise upload needs options")
	}
	bs := int64(cmp.Or(req.BlockSize, maxBlockSize))
	szx, _ := szxOf(int(bs))
	if from < 0 || from > size || from%bs != 0 || (from == size && size > 0) {
		return Response{}, fmt.Errorf("upload: start at byte %d: must be a multiple of the block size %d below the size %d", from, bs, size)
	}
	token := req.Token
	if len(token) == 0 {
		token = randomToken()
	}
	buf := make([]byte, bs)
	first := true
	var resp Response
	for off := from; ; {
		end := min(off+bs, size)
		chunk := buf[:end-off]
		if _, err := body.ReadAt(chunk, off); err != nil && !(errors.Is(err, io.EOF) && end == size) {
			return Response{}, fmt.Errorf("upload: read bytes %d..%d: %w", off, end, err)
		}
		more := end < size
		v, _ := blockwise.EncodeBlockOption(szx, off/bs, more)
		w := wire{mid: s.nextMID(), payload: chunk, block1: v, hasB1: true, observe: -1}
		if first {
			w.size1, first = int(min(size, 0xffffffff)), false
		}
		next := s.blockTrip(ctx, &req, token, w)
		next.tally(resp)
		resp = next
		if resp.Err != nil {
			return resp, resp.Err
		}
		if !more || resp.Code != Continue {
			break
		}
		if progress != nil {
			progress(end)
		}
		if v, ok := resp.uintOption(message.Block1); ok { // the server may ask for smaller blocks
			if rszx, _, _, err := blockwise.DecodeBlockOption(v); err == nil && rszx < szx {
				szx, bs = rszx, int64(szxSize(rszx))
				buf = buf[:bs]
			}
		}
		off = end
	}
	if resp.Code.Class() == 2 && progress != nil {
		progress(size)
	}
	s.c.deliver(resp)
	return resp, nil
}

// blockTrip is one round trip of an upload, within the session's Timeout unless ctx has a
// deadline.
func (s *Session) blockTrip(ctx context.Context, req *Request, token []byte, w wire) Response {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
	}
	return s.roundTrip(ctx, req, token, w)
}
