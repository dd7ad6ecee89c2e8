package coap

import (
	"cmp"
	"context"
	"fmt"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// Do sends req and waits for its response, reassembling Block2 answers and splitting payloads
// larger than a block into Block1 requests. The client's response handler sees the response
// too. Without a deadline in ctx the session's Timeout applies.
func (s *Session) Do(ctx context.Context, req Request) (Response, error) {
	if err := req.check(); err != nil {
		return Response{}, err
	}
	r := s.do(ctx, req, s.nextMID())
	s.c.deliver(r)
	return r, r.Err
}

// SendRequest sends req and returns at once with its message ID; the response, or the reason
// there is none, reaches the client's response handler with that ID in RequestMID.
func (s *Session) SendRequest(req Request) (uint16, error) {
	if err := req.check(); err != nil {
		return 0, err
	}
	mid := s.nextMID()
	go func() { s.c.deliver(s.do(s.ctx, req, mid)) }()
	return mid, nil
}

// wire is what varies between the messages of one request: block options and observe.
type wire struct {
	mid     uint16
	payload []byte
	block1  uint32
	size1   int
	block2  uint32
	hasB1   bool
	hasB2   bool
	observe int // -1: no Observe option
}

func (s *Session) do(ctx context.Context, req Request, firstMID uint16) Response {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
	}
	token := req.Token
	if len(token) == 0 {
		token = randomToken()
	}
	bs := cmp.Or(req.BlockSize, maxBlockSize)
	szx, _ := szxOf(bs)
	w := wire{mid: firstMID, payload: req.Payload, observe: -1}
	var resp Response
	if req.NoOptions || len(req.Payload) <= bs {
		resp = s.roundTrip(ctx, &req, token, w)
	} else {
		for off, num := 0, 0; ; num = off / bs {
			end := min(off+bs, len(req.Payload))
			more := end < len(req.Payload)
			v, _ := blockwise.EncodeBlockOption(szx, int64(num), more)
			w.payload, w.block1, w.hasB1, w.size1 = req.Payload[off:end], v, true, 0
			if num == 0 {
				w.size1 = len(req.Payload)
			}
			next := s.roundTrip(ctx, &req, token, w)
			next.tally(resp)
			resp = next
			if resp.Err != nil || !more || resp.Code != Code(codes.Continue) {
				break
			}
			if v, ok := resp.uintOption(message.Block1); ok { // the server may ask for smaller blocks
				if rszx, _, _, err := blockwise.DecodeBlockOption(v); err == nil && rszx < szx {
					szx, bs = rszx, szxSize(rszx)
				}
			}
			off = end
			w.mid = s.nextMID()
		}
	}
	if !req.NoOptions {
		resp = s.rest(ctx, &req, token, resp)
	}
	resp.RequestMID = firstMID
	return resp
}

// rest fetches the remaining blocks of a Block2 answer and returns the whole body. A
// representation that changes during the transfer (its ETag moves, RFC 7959 §2.4) is fetched
// again from block 0, a few times at most.
func (s *Session) rest(ctx context.Context, req *Request, token []byte, resp Response) Response {
	for range 3 {
		r, changed := s.blocks(ctx, req, token, resp)
		if !changed {
			return r
		}
		first := *req
		if req.Method != GET && req.Method != FETCH {
			first.Method, first.Payload = GET, nil
		}
		v, _ := blockwise.EncodeBlockOption(maxSZX, 0, false)
		next := s.roundTrip(ctx, &first, token, wire{mid: s.nextMID(), payload: first.Payload, block2: v, hasB2: true, observe: -1})
		next.tally(r)
		resp = next
	}
	resp.Err = fmt.Errorf("the representation from %s changed during each of 3 block-wise transfers", s.peer)
	return resp
}

// blocks fetches the blocks after resp; changed reports an ETag that moved between blocks.
func (s *Session) blocks(ctx context.Context, req *Request, token []byte, resp Response) (Response, bool) {
	var body []byte
	etag, tagged := resp.option(message.ETag)
	for resp.Err == nil && resp.Code.Class() == 2 {
		v, ok := resp.uintOption(message.Block2)
		if !ok {
			break
		}
		szx, num, more, err := blockwise.DecodeBlockOption(v)
		if err != nil || !more {
			break
		}
		body = append(body, resp.Payload...)
		if len(body) > s.opts.MaxBody {
			return s.bodyTooLarge(resp), false
		}
		next, _ := blockwise.EncodeBlockOption(szx, num+1, false)
		follow := *req
		if req.Method != GET && req.Method != FETCH {
			follow.Method, follow.Payload = GET, nil
		}
		earlier := resp
		resp = s.roundTrip(ctx, &follow, token, wire{mid: s.nextMID(), payload: follow.Payload, block2: next, hasB2: true, observe: -1})
		resp.tally(earlier)
		if e, ok := resp.option(message.ETag); resp.Err == nil && resp.Code.Class() == 2 && tagged && (!ok || string(e) != string(etag)) {
			return resp, true
		}
	}
	if body != nil && resp.Err == nil {
		if len(body)+len(resp.Payload) > s.opts.MaxBody {
			return s.bodyTooLarge(resp), false
		}
		resp.Payload = append(body, resp.Payload...)
	}
	return resp, false
}

// bodyTooLarge ends a Block2 transfer whose body passes MaxBody.
func (s *Session) bodyTooLarge(resp Response) Response {
	resp.Err = fmt.Errorf("response body from %s larger than %d bytes", s.peer, s.opts.MaxBody)
	return resp
}

// roundTrip sends one message of req and waits for its answer.
func (s *Session) roundTrip(ctx context.Context, req *Request, token []byte, w wire) Response {
	msg, err := s.build(req, token, w)
	if err != nil {
		return Response{Err: err}
	}
	ex := &exchange{mid: w.mid, token: string(token), msg: msg, con: !req.NonConfirmable, done: make(chan Response, 1)}
	if err := s.transmit(ex); err != nil {
		return Response{Err: err}
	}
	select {
	case r := <-ex.done:
		return r
	case <-ctx.Done():
		if s.ctx.Err() != nil { // the request's context comes from the session's: closed, not late
			s.finish(ex, Response{Err: ErrClosed})
			break
		}
		why := "in time"
		if ctx.Err() == context.Canceled {
			why = "before the request was cancelled"
		}
		s.finish(ex, Response{Err: fmt.Errorf("%w: no response from %s %s", ErrTimeout, s.peer, why)})
	case <-s.ctx.Done():
		s.finish(ex, Response{Err: ErrClosed})
	}
	return <-ex.done
}

// build encodes one request message; with NoOptions it carries header, token and payload only.
func (s *Session) build(req *Request, token []byte, w wire) ([]byte, error) {
	typ := message.Confirmable
	if req.NonConfirmable {
		typ = message.NonConfirmable
	}
	m := message.Message{Type: typ, Code: requestCodes[req.Method], Token: token, MessageID: int32(w.mid), Payload: w.payload}
	if !req.NoOptions {
		add := func(id message.OptionID, v []byte) { m.Options = m.Options.Add(message.Option{ID: id, Value: v}) }
		addUint := func(id message.OptionID, v uint32) {
			b := make([]byte, 4)
			n, _ := message.EncodeUint32(b, v)
			add(id, b[:n])
		}
		if s.uriHost != "" {
			add(message.URIHost, []byte(s.uriHost))
		}
		segs, queries, err := splitPath(req.Path)
		if err != nil {
			return nil, err
		}
		for _, seg := range segs {
			add(message.URIPath, []byte(seg))
		}
		if req.ContentFormat != NoMediaType {
			addUint(message.ContentFormat, uint32(req.ContentFormat))
		}
		for _, q := range queries {
			add(message.URIQuery, []byte(q))
		}
		if req.Accept != NoMediaType {
			addUint(message.Accept, uint32(req.Accept))
		}
		if w.observe >= 0 {
			addUint(message.Observe, uint32(w.observe))
		}
		if w.hasB2 {
			addUint(message.Block2, w.block2)
		}
		if w.hasB1 {
			addUint(message.Block1, w.block1)
			if w.size1 > 0 {
				addUint(message.Size1, uint32(w.size1))
			}
		}
		for _, o := range req.Options {
			add(message.OptionID(o.ID), o.Value)
		}
	}
	size, err := coder.DefaultCoder.Size(m)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	buf := make([]byte, size)
	if _, err := coder.DefaultCoder.Encode(m, buf); err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return buf, nil
}
