package coap

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

const (
	wellKnownCore       = ".well-known/core"
	contentFormatOption = message.ContentFormat
)

// knownOption lists the options this server understands; an unknown critical (odd) one in a
// request gets 4.02 (RFC 7252 §5.4.1).
func knownOption(id message.OptionID) bool {
	switch id {
	case message.IfMatch, message.URIHost, message.ETag, message.IfNoneMatch, message.Observe,
		message.URIPort, message.URIPath, message.ContentFormat, message.MaxAge, message.URIQuery,
		message.Accept, message.Block2, message.Block1, message.Size2, message.Size1,
		message.NoResponse, message.ProxyURI, message.ProxyScheme:
		return true
	}
	return false
}

// serve fills rep with the answer to rq and returns work to do after it is sent.
func (w *worker) serve(rq *request, rep *reply) func() {
	s := w.srv
	s.requests.Add(1)
	if diag, code := w.checkOptions(rq); code != codes.Empty {
		rep.fail(code, diag)
		return nil
	}
	if len(rq.path) > s.cfg.Limits.MaxURILength {
		rep.fail(requestURITooLong, fmt.Sprintf("path of %d bytes exceeds the limit of %d bytes", len(rq.path), s.cfg.Limits.MaxURILength))
		return nil
	}
	code := rq.msg.Code
	if string(rq.path) == wellKnownCore {
		if code != codes.GET {
			rep.fail(codes.MethodNotAllowed, "/.well-known/core answers GET only")
			return nil
		}
		s.wellKnown(rq, rep)
		return nil
	}
	s.mu.RLock()
	r := s.resources[string(rq.path)]
	s.mu.RUnlock()
	if r == nil {
		if code == codes.PUT && s.cfg.DynamicResources && !rq.multicast {
			return w.create(rq, rep)
		}
		rep.fail(codes.NotFound, "")
		return nil
	}
	m := methodOf(code)
	if m == 0 || r.Methods()&m == 0 {
		rep.fail(codes.MethodNotAllowed, "")
		return nil
	}
	if w.guarded(rq, r, m, rep) || w.callBlockHandler(rq, r, m, rep) || w.callHandler(rq, r, m, rep) {
		return nil
	}
	switch m {
	case GET:
		w.get(rq, r, rep)
	case PUT, POST:
		w.write(rq, r, rep)
	case DELETE:
		w.delete(r, rep)
	}
	return nil
}

// checkOptions joins the Uri-Path into rq.path and rejects options the server cannot honour.
func (w *worker) checkOptions(rq *request) (string, codes.Code) {
	w.path = w.path[:0]
	first := true
	for _, o := range rq.msg.Options {
		switch {
		case o.ID == message.URIPath:
			if len(o.Value) == 0 || bytes.IndexByte(o.Value, '/') >= 0 || string(o.Value) == "." || string(o.Value) == ".." {
				return fmt.Sprintf("Uri-Path segment %q: must not be empty, '.', '..' or contain '/'", o.Value), codes.BadRequest
			}
			if !first {
				w.path = append(w.path, '/')
			}
			first = false
			w.path = append(w.path, o.Value...)
		case o.ID == message.ProxyURI || o.ID == message.ProxyScheme:
			return "this server is not a proxy", codes.ProxyingNotSupported
		case !knownOption(o.ID) && o.ID&1 == 1:
			return fmt.Sprintf("unrecognized critical option %d", o.ID), codes.BadOption
		}
	}
	rq.path = w.path
	return "", codes.Empty
}

// queries returns the request's Uri-Query values.
func queries(m *message.Message) []string {
	var qs []string
	for _, o := range m.Options {
		if o.ID == message.URIQuery {
			qs = append(qs, string(o.Value))
		}
	}
	return qs
}

func tooLargeDiag(max int) string {
	return fmt.Sprintf("value exceeds the limit of %d bytes", max)
}

func pathString(p []byte) string { return strings.Clone(string(p)) }

// requestURITooLong is 4.14 (RFC 7252 §5.9.2.9), which go-coap does not name.
const requestURITooLong codes.Code = 4<<5 | 14
