package coap

import (
	"fmt"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// Block is one piece of a request body, as a BlockHandler takes it: the server hands each
// Block1 block (RFC 7959) on as it arrives and keeps none, so a body may be far larger than
// memory: an update written to a partition where it lands.
type Block struct {
	Incoming       // Payload is this block's bytes only
	Offset   int64 // where Payload starts in the body: block number × block size
	More     bool  // more blocks follow; false for the last, and for a body sent in one message
	Size1    int64 // the whole body's size when the client announced it (Size1 option), else -1
}

// BlockHandler takes a request body block by block. It answers Continue to ask for the next
// block, and after the last one the request's answer. It decides which offsets it accepts: a
// handler that kept what it received can let a client resume above block 0.
type BlockHandler func(Block) Answer

// WithBlockHandler makes fn take method m's request bodies block by block (and enables m).
func WithBlockHandler(m Method, fn BlockHandler) ResourceOption {
	return func(r *Resource) error {
		if m != PUT && m != POST {
			return fmt.Errorf("block handler for %s: only PUT and POST carry bodies", m)
		}
		if r.blockHandlers == nil {
			r.blockHandlers = map[Method]BlockHandler{}
		}
		r.blockHandlers[m] = fn
		r.methods |= m
		return nil
	}
}

// callBlockHandler passes the request's block to r's block handler for m, if it has one.
func (w *worker) callBlockHandler(rq *request, r *Resource, m Method, rep *reply) bool {
	fn := r.blockHandlers[m] // set at creation only
	if fn == nil {
		return false
	}
	b := Block{Incoming: w.incoming(rq, m), Size1: -1}
	if size, ok := sizeOption(rq.msg, message.Size1); ok {
		b.Size1 = int64(size)
	}
	v, err := rq.msg.Options.GetUint32(message.Block1)
	hasBlock := err == nil
	if hasBlock {
		szx, num, more, err := blockwise.DecodeBlockOption(v)
		if err != nil || szx > maxSZX {
			rep.fail(codes.BadOption, fmt.Sprintf("Block1 option %#x: block size must be 16..1024 bytes", v))
			return true
		}
		if more && len(rq.msg.Payload) != szxSize(szx) {
			rep.fail(codes.BadRequest, "Block1: a block before the last must carry exactly the block size")
			return true
		}
		b.Offset, b.More = num*int64(szxSize(szx)), more
	} else if rq.msg.Options.HasOption(message.Block1) {
		rep.fail(codes.BadOption, "Block1 option is not a valid number")
		return true
	}
	a := fn(b)
	if a.Code == Continue && !b.More {
		rep.fail(codes.InternalServerError, "the handler asked for more blocks after the last")
		return true
	}
	rep.code = codes.Code(a.Code)
	if hasBlock && (a.Code == Continue || a.Code.Class() == 2) {
		rep.setUint(message.Block1, v)
	}
	if a.Size1 > 0 {
		rep.setUint(message.Size1, uint32(min(a.Size1, 0xffffffff)))
	}
	if a.ContentFormat != NoMediaType {
		rep.setUint(contentFormatOption, uint32(a.ContentFormat))
	}
	for _, o := range a.Options {
		rep.addBytes(message.OptionID(o.ID), o.Value)
	}
	rep.payload = a.Payload
	return true
}
