package coap

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// body returns the request's whole payload, assembling Block1 uploads; done is false when
// rep already holds the answer (2.31 Continue or an error).
func (w *worker) body(rq *request, rep *reply) (body []byte, done bool) {
	limit := w.srv.cfg.Limits.MaxValueSize
	v, err := rq.msg.Options.GetUint32(message.Block1)
	if err != nil {
		if rq.msg.Options.HasOption(message.Block1) {
			rep.fail(codes.BadOption, "Block1 option is not a valid number")
			return nil, false
		}
		if len(rq.msg.Payload) > limit {
			rep.fail(codes.RequestEntityTooLarge, tooLargeDiag(limit))
			rep.setUint(message.Size1, uint32(limit))
			return nil, false
		}
		return rq.msg.Payload, true
	}
	szx, num, more, err := blockwise.DecodeBlockOption(v)
	if err != nil || szx > maxSZX {
		rep.fail(codes.BadOption, fmt.Sprintf("Block1 option %#x: block size must be 16..1024 bytes", v))
		return nil, false
	}
	size, _ := sizeOption(rq.msg, message.Size1)
	out := w.srv.blocks.add(uploadKey{peer: rq.peer, uri: string(rq.path)}, num, szx, more, rq.msg.Payload, size, time.Now())
	switch out.code {
	case codes.Continue:
		rep.code = codes.Continue
		rep.setUint(message.Block1, v)
		return nil, false
	case codes.Empty:
		rep.setUint(message.Block1, v)
		return out.body, true
	}
	rep.fail(out.code, out.diag)
	if out.code == codes.RequestEntityTooLarge {
		rep.setUint(message.Size1, uint32(limit))
	}
	return nil, false
}

func contentFormatOf(m *message.Message) MediaType {
	v, err := m.Options.ContentFormat()
	if err != nil {
		return NoMediaType
	}
	return MediaType(v)
}

// ifMatch checks PUT's preconditions (RFC 7252 §5.10.8): If-None-Match fails on an existing
// resource; If-Match, when present, needs the current ETag or an empty value.
func ifMatch(m *message.Message, p representation) bool {
	if m.Options.HasOption(message.IfNoneMatch) {
		return false
	}
	if !m.Options.HasOption(message.IfMatch) {
		return true
	}
	var cur [4]byte
	n, _ := message.EncodeUint32(cur[:], uint32(p.etag))
	for _, o := range m.Options {
		if o.ID != message.IfMatch {
			continue
		}
		if len(o.Value) == 0 || (p.etagOn && string(o.Value) == string(cur[:n])) {
			return true
		}
	}
	return false
}

// write answers PUT and POST on an existing resource: the value and media type are replaced,
// stored, and observers notified.
func (w *worker) write(rq *request, r *Resource, rep *reply) {
	if body, ok := w.body(rq, rep); ok {
		w.writeBody(rq, r, body, rep)
	}
}

func (w *worker) writeBody(rq *request, r *Resource, body []byte, rep *reply) {
	mt := contentFormatOf(rq.msg)
	r.mu.Lock()
	if r.removed {
		r.mu.Unlock()
		rep.fail(codes.NotFound, "")
		return
	}
	if rq.msg.Code == codes.PUT && !ifMatch(rq.msg, representation{etagOn: r.etagOn, etag: r.etag}) {
		r.mu.Unlock()
		rep.fail(codes.PreconditionFailed, "")
		return
	}
	oldValue, oldMT, oldETag := r.value, r.mediaType, r.etag
	oldAlts := r.alts
	r.value, r.mediaType, r.alts = slices.Clone(body), mt, nil
	r.bumpETagLocked()
	if err := w.srv.store(r.snapshotLocked()); err != nil {
		r.value, r.mediaType, r.etag, r.alts = oldValue, oldMT, oldETag, oldAlts
		r.mu.Unlock()
		w.srv.log.Error("write not stored", "uri", r.uri, "err", err)
		rep.fail(codes.InternalServerError, "could not store the value")
		return
	}
	etagOn, etag := r.etagOn, r.etag
	r.mu.Unlock()
	r.changed()
	rep.code = codes.Changed // options set so far (Block1) stay
	if etagOn {
		rep.setUint(message.ETag, uint32(etag))
	}
}

// delete answers DELETE: the resource goes, durably, and its observers get 4.04.
func (w *worker) delete(r *Resource, rep *reply) {
	s := w.srv
	r.mu.Lock()
	if r.removed {
		r.mu.Unlock()
		rep.fail(codes.NotFound, "")
		return
	}
	var err error
	if r.dynamic {
		err = s.forget(r.uri)
	} else {
		err = s.store(Snapshot{URI: r.uri, Deleted: true})
	}
	if err != nil {
		r.mu.Unlock()
		s.log.Error("delete not stored", "uri", r.uri, "err", err)
		rep.fail(codes.InternalServerError, "could not store the deletion")
		return
	}
	r.removed = true
	r.mu.Unlock()
	s.mu.Lock()
	if s.resources[r.uri] == r {
		s.removeLocked(r.uri)
	}
	s.mu.Unlock()
	s.notify.terminate(r)
	rep.code = codes.Deleted
}

// create answers a PUT to an unknown path with dynamic resources on: a new resource with the
// whole path, the payload, the request's Content-Format and every method (2.01). The
// new-resource handler runs after the answer is sent.
func (w *worker) create(rq *request, rep *reply) func() {
	s := w.srv
	if len(rq.path) == 0 {
		rep.fail(codes.BadRequest, "PUT needs a Uri-Path to create a resource")
		return nil
	}
	if rq.msg.Options.HasOption(message.IfMatch) {
		rep.fail(codes.PreconditionFailed, "")
		return nil
	}
	for _, p := range s.cfg.Reserved {
		if string(rq.path) == p || strings.HasPrefix(string(rq.path), p+"/") {
			rep.fail(codes.Forbidden, fmt.Sprintf("/%s/ belongs to the appliance; resources cannot be created there", p))
			return nil
		}
	}
	body, ok := w.body(rq, rep)
	if !ok {
		return nil
	}
	r, err := s.newResource(pathString(rq.path), WithValue(body), WithMediaType(contentFormatOf(rq.msg)), WithMethods(AllMethods))
	if err != nil {
		rep.fail(codes.BadRequest, err.Error())
		return nil
	}
	r.dynamic = true
	r.mu.Lock() // readers that find it wait until it is stored
	if err := s.insert(r); err != nil {
		r.mu.Unlock()
		if errors.Is(err, errExists) { // created by a concurrent request: now a plain PUT
			if existing := s.Resource(r.uri); existing != nil {
				w.writeBody(rq, existing, body, rep)
				return nil
			}
		}
		rep.fail(codes.ServiceUnavailable, fmt.Sprintf("cannot create %s: the server holds its limit of %d resources", r.uri, s.cfg.Limits.MaxResources))
		return nil
	}
	if err := s.store(r.snapshotLocked()); err != nil {
		r.removed = true
		r.mu.Unlock()
		s.mu.Lock()
		s.removeLocked(r.uri)
		s.mu.Unlock()
		s.log.Error("new resource not stored", "uri", r.uri, "err", err)
		rep.fail(codes.InternalServerError, "could not store the new resource")
		return nil
	}
	r.mu.Unlock()
	rep.code = codes.Created // options set so far (Block1) stay
	fn := s.onNew.Load()
	if fn == nil {
		return nil
	}
	return func() { (*fn)(r) }
}
