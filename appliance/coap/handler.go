package coap

import (
	"net/netip"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// Incoming is a request as a resource's handler sees it.
type Incoming struct {
	Method        Method
	Peer          netip.AddrPort
	Identity      string // the client's DTLS PSK identity; "" over plain CoAP
	Secure        bool   // the request came over DTLS
	ContentFormat MediaType
	Payload       []byte
	Queries       []string
	Accept        MediaType // the Accept option, NoMediaType without one
	Observe       int       // the Observe option of a GET: 0 register, 1 deregister; -1 without one
}

// Answer is what a handler sends back.
type Answer struct {
	Code          Code
	ContentFormat MediaType // NoMediaType for none
	Payload       []byte
	Size1         int64 // with 4.13, the largest body the resource takes (RFC 7959 §4); 0 for none
	// Options are more options, sent as given: the Location-Path of what a POST created
	// (RFC 7252 §5.10.7), say.
	Options []Option
}

// Codes handlers answer with, named as in RFC 7252.
var (
	Changed      = Code(codes.Changed)
	Content      = Code(codes.Content)
	BadRequest   = Code(codes.BadRequest)
	Unauthorized = Code(codes.Unauthorized)
	Forbidden    = Code(codes.Forbidden)
	Unavailable  = Code(codes.ServiceUnavailable)

	Continue           = Code(codes.Continue)                // 2.31: send the next block
	Incomplete         = Code(codes.RequestEntityIncomplete) // 4.08: a block out of order
	PreconditionFailed = Code(codes.PreconditionFailed)      // 4.12
	TooLarge           = Code(codes.RequestEntityTooLarge)   // 4.13
)

// Handler answers the requests of one method on a resource, instead of the value semantics.
// It runs on one of the server's reading goroutines, so it must answer at once; slow work
// (a WiFi scan, say) belongs in a goroutine whose result a later request reads.
type Handler func(Incoming) Answer

// WithHandler makes fn answer method m on the resource (and enables m). Handlers are for
// actions such as a reboot; the resource's value still serves GET unless GET has a handler.
func WithHandler(m Method, fn Handler) ResourceOption {
	return func(r *Resource) error {
		if r.handlers == nil {
			r.handlers = map[Method]Handler{}
		}
		r.handlers[m] = fn
		r.methods |= m & AllMethods
		return nil
	}
}

// callHandler runs r's handler for the request's method, if it has one.
func (w *worker) callHandler(rq *request, r *Resource, m Method, rep *reply) bool {
	fn := r.handlers[m] // set at creation only, so read without the lock
	if fn == nil {
		return false
	}
	a := fn(w.incoming(rq, m))
	rep.code = codes.Code(a.Code)
	if a.ContentFormat != NoMediaType {
		rep.setUint(contentFormatOption, uint32(a.ContentFormat))
	}
	for _, o := range a.Options {
		rep.addBytes(message.OptionID(o.ID), o.Value)
	}
	rep.payload = a.Payload
	return true
}

// incoming is the request as a handler sees it, with a copy of its payload.
func (w *worker) incoming(rq *request, m Method) Incoming {
	return Incoming{Method: m, Peer: rq.peer, Identity: w.ep.identity, Secure: w.ep.secure != nil,
		ContentFormat: contentFormatOf(rq.msg), Payload: append([]byte(nil), rq.msg.Payload...), Queries: queries(rq.msg),
		Accept: acceptOnly(rq.msg), Observe: observeOf(rq.msg)}
}

func acceptOnly(m *message.Message) MediaType { a, _ := acceptOf(m); return a }

func observeOf(m *message.Message) int {
	v, err := m.Options.Observe()
	if err != nil {
		return -1
	}
	return int(v)
}

// Guard decides whether a request may reach a resource at all, before any method's work
// (observe registrations included): it returns false with the answer to refuse with, or to
// answer in the resource's place (with a Content-Format; a zero Answer's ContentFormat is
// text/plain, so set NoMediaType for none). Its Incoming carries no payload.
type Guard func(Incoming) (Answer, bool)

// WithGuard puts g in front of every method of the resource: for /sys resources that only
// admins may read, whose value is still served (and observed) by the value semantics.
func WithGuard(g Guard) ResourceOption {
	return func(r *Resource) error { r.guard = g; return nil }
}

// guarded answers a request the resource's guard refuses.
func (w *worker) guarded(rq *request, r *Resource, m Method, rep *reply) bool {
	if r.guard == nil {
		return false
	}
	in := Incoming{Method: m, Peer: rq.peer, Identity: w.ep.identity, Secure: w.ep.secure != nil,
		ContentFormat: contentFormatOf(rq.msg), Queries: queries(rq.msg), Accept: acceptOnly(rq.msg), Observe: observeOf(rq.msg)}
	a, ok := r.guard(in)
	if ok {
		return false
	}
	rep.fail(codes.Code(a.Code), string(a.Payload))
	if a.ContentFormat != NoMediaType {
		rep.setUint(contentFormatOption, uint32(a.ContentFormat))
	}
	return true
}
