package coap

import (
	"bytes"
	"fmt"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// representation is a resource's state as one answer shows it.
type representation struct {
	value     []byte
	mediaType MediaType
	maxAge    int
	etagOn    bool
	etag      uint16
	failure   string
}

func (r *Resource) representation() (representation, bool) { return r.representationFor(NoMediaType) }

// representationFor picks, of a resource with several representations, the one in the
// accepted format (the first when accept is NoMediaType or none matches, which GET then
// answers with 4.06).
func (r *Resource) representationFor(accept MediaType) (representation, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p := representation{value: r.value, mediaType: r.mediaType, maxAge: r.maxAge, etagOn: r.etagOn, etag: r.etag, failure: r.failure}
	for _, a := range r.alts {
		if a.MediaType == accept {
			p.value, p.mediaType = a.Value, a.MediaType
			break
		}
	}
	return p, !r.removed
}

// blockRequest is what a request's Block2 option asks for.
type blockRequest struct {
	set      bool
	num      int64
	szx      blockwise.SZX
	wantSize bool // Size2 present: the client wants the total size
}

func block2Of(m *message.Message) (blockRequest, error) {
	br := blockRequest{szx: maxSZX}
	_, br.wantSize = sizeOption(m, message.Size2)
	v, err := m.Options.GetUint32(message.Block2)
	if err != nil {
		if m.Options.HasOption(message.Block2) {
			return br, fmt.Errorf("Block2 option is not a valid number")
		}
		return br, nil
	}
	szx, num, _, err := blockwise.DecodeBlockOption(v)
	if err != nil || szx > maxSZX {
		return br, fmt.Errorf("Block2 option %#x: block size must be 16..1024 bytes", v)
	}
	br.set, br.num, br.szx = true, num, szx
	return br, nil
}

func sizeOption(m *message.Message, id message.OptionID) (int, bool) {
	v, err := m.Options.GetUint32(id)
	if err != nil {
		return -1, m.Options.HasOption(id)
	}
	return int(v), true
}

// fill sets the options and payload of a 2.05 answer, cutting the block the client asked for
// or, for a representation larger than one block, the first block.
func (p representation) fill(rep *reply, br blockRequest) {
	rep.code = codes.Content
	if p.mediaType != NoMediaType {
		rep.setUint(message.ContentFormat, uint32(p.mediaType))
	}
	p.setCacheOptions(rep)
	if !br.set && len(p.value) <= maxBlockSize {
		rep.payload = p.value
		return
	}
	bs := int64(szxSize(br.szx))
	start := br.num * bs
	if start > int64(len(p.value)) || (start == int64(len(p.value)) && br.num > 0) {
		rep.fail(codes.BadOption, fmt.Sprintf("Block2 number %d is past the end of a %d-byte representation", br.num, len(p.value)))
		return
	}
	end := min(start+bs, int64(len(p.value)))
	v, _ := blockwise.EncodeBlockOption(br.szx, br.num, end < int64(len(p.value)))
	rep.setUint(message.Block2, v)
	if br.num == 0 || br.wantSize {
		rep.setUint(message.Size2, uint32(len(p.value)))
	}
	rep.payload = p.value[start:end]
}

func (p representation) setCacheOptions(rep *reply) {
	if p.maxAge != NoMaxAge {
		rep.setUint(message.MaxAge, uint32(p.maxAge))
	}
	if p.etagOn {
		rep.setUint(message.ETag, uint32(p.etag))
	}
}

// etagMatches reports whether the request carries the resource's current ETag.
func (p representation) etagMatches(m *message.Message) bool {
	if !p.etagOn {
		return false
	}
	var cur [4]byte
	n, _ := message.EncodeUint32(cur[:], uint32(p.etag))
	for _, o := range m.Options {
		if o.ID == message.ETag && bytes.Equal(o.Value, cur[:n]) {
			return true
		}
	}
	return false
}

func acceptOf(m *message.Message) (MediaType, bool) {
	v, err := m.Options.GetUint32(message.Accept)
	if err != nil {
		return NoMediaType, false
	}
	return MediaType(v), true
}

// get answers GET: Accept, observe registration, ETag validation, Block2.
func (w *worker) get(rq *request, r *Resource, rep *reply) {
	br, err := block2Of(rq.msg)
	if err != nil {
		rep.fail(codes.BadOption, err.Error())
		return
	}
	accept, hasAccept := acceptOf(rq.msg)
	p, ok := r.representationFor(accept)
	if !ok {
		rep.fail(codes.NotFound, "")
		return
	}
	if p.failure != "" {
		rep.fail(codes.ServiceUnavailable, p.failure)
		return
	}
	if hasAccept && p.mediaType != NoMediaType && accept != p.mediaType {
		rep.fail(codes.NotAcceptable, fmt.Sprintf("resource is %s; Accept asked for %s", p.mediaType, accept))
		return
	}
	seq, observing := w.observe(rq, r, br, accept, hasAccept)
	if observing {
		p, _ = r.representationFor(accept) // registered first, so no change falls between
	}
	if p.etagMatches(rq.msg) {
		rep.code = codes.Valid
		p.setCacheOptions(rep)
	} else {
		p.fill(rep, br)
	}
	if observing && rep.code>>5 == 2 {
		rep.setUint(message.Observe, seq)
	}
}

// observe registers or deregisters an observer as the request's Observe option says
// (RFC 7641 §2); it returns the sequence number to send when the client is now observing.
func (w *worker) observe(rq *request, r *Resource, br blockRequest, accept MediaType, hasAccept bool) (uint32, bool) {
	v, err := rq.msg.Options.Observe()
	if err != nil || rq.multicast || br.num > 0 {
		return 0, false
	}
	key := observerKey{peer: rq.peer, token: string(rq.msg.Token)}
	switch v {
	case 0:
		o := &observer{key: key, ep: w.ep, token: []byte(key.token), szx: br.szx, block: br.set}
		if hasAccept {
			o.accept = accept
		} else {
			o.accept = NoMediaType
		}
		return w.srv.notify.register(r, o)
	case 1:
		w.srv.notify.deregister(r, key)
	}
	return 0, false
}
