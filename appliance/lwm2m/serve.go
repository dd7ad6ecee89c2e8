package lwm2m

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m/node"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// The answers of LwM2M 1.1 Core §6 that coap does not name.
var (
	methodNotAllowed  = coap.Code(codes.MethodNotAllowed)     // 4.05
	unsupportedFormat = coap.Code(codes.UnsupportedMediaType) // 4.15
	internalError     = coap.Code(codes.InternalServerError)  // 5.00
	notFound          = coap.Code(codes.NotFound)             // 4.04
	answerChanged     = coap.Answer{Code: coap.Changed, ContentFormat: coap.NoMediaType}
)

// Why some requests are refused.
const (
	errDiscoverOrRead = "a Read of an executable resource: only Discover (Accept: application/link-format)"
	errCreate         = "Create: pigw's objects have the instances they have"
)

// NewServer makes the sessions-only CoAP server that serves the tree, every object, instance
// and resource as a resource ("3", "3/0", "3/0/0", ...) with its current value, sized for the
// tree. Whoever runs the registration runs it (its Serve, and coap.Session.Serve on the
// registration's session). A tree is served by one server.
//
// Notifications go non-confirmable, with one confirmable a day as RFC 7641 §4.5 asks: an
// LwM2M server observes its clients again after every Register, and lwm2m-node-lib never
// acknowledges a confirmable notification (its proxy drops the ACK), which would otherwise
// end an observation after four retransmissions.
func (t *Tree) NewServer(log *slog.Logger) (*coap.Server, error) {
	var paths []node.Path
	t.walk(func(p node.Path) { paths = append(paths, p) })
	limits := coap.DefaultLimits()
	limits.MaxResources = max(limits.MaxResources, len(paths)+1) // and /.well-known/core
	srv, err := coap.NewServer(coap.Config{SessionsOnly: true, Logger: log, Limits: limits,
		Observe: coap.ObserveConfig{NonConfirmable: true}})
	if err != nil {
		return nil, fmt.Errorf("lwm2m: %w", err)
	}
	all := map[node.Path]*served{}
	for _, p := range paths {
		s := &served{path: p}
		methods := coap.GET | coap.PUT // PUT: Write-Attributes on every level
		if p.Depth() > 1 {
			methods |= coap.POST
		}
		put := coap.WithHandler(coap.PUT, t.put(s))
		if r := t.resource(p); r != nil && r.Blocks != nil {
			put = coap.WithBlockHandler(coap.PUT, t.putBlocks(s, r.Blocks))
		}
		s.res, err = srv.AddResource(p.String()[1:], coap.WithMethods(methods), coap.WithGuard(t.guard(s)),
			put, coap.WithHandler(coap.POST, t.post(s)))
		if err != nil {
			return nil, fmt.Errorf("lwm2m: serve %s: %w", p, err)
		}
		all[p] = s
	}
	t.mu.Lock()
	if t.srv != nil {
		t.mu.Unlock()
		return nil, errors.New("lwm2m: the tree is served already")
	}
	t.srv, t.paths = srv, all
	t.mu.Unlock()
	for _, p := range paths {
		t.refresh(all[p])
		t.applyPeriods(all[p])
	}
	return srv, nil
}

func (t *Tree) served(p node.Path) *served {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.paths[p]
}

// changed refreshes a resource whose value changed and the instance and object around it.
func (t *Tree) changed(p node.Path) {
	for d := 3; d >= 1; d-- {
		if s := t.served(p.Prefix(d)); s != nil {
			t.refresh(s)
		}
	}
}

// guard answers a Discover, and lets a Read of a readable path through after reading its value
// again, so that it answers what is true now. It refuses a Read of an executable resource.
func (t *Tree) guard(s *served) coap.Guard {
	return func(in coap.Incoming) (coap.Answer, bool) {
		switch {
		case in.Method != coap.GET:
			return coap.Answer{}, true
		case in.Accept == coap.AppLinkFormat:
			t.mu.Lock()
			d := t.discoverLocked(s.path)
			t.mu.Unlock()
			return coap.Answer{Code: coap.Content, ContentFormat: coap.AppLinkFormat, Payload: []byte(d)}, false
		}
		if r := t.resource(s.path); r != nil && r.Ops&R == 0 {
			return fail(methodNotAllowed, errDiscoverOrRead), false
		}
		t.refresh(s)
		if in.Observe == 0 {
			s.observed()
		}
		return coap.Answer{}, true
	}
}

// put is Write (replace) or, with a query and no payload, Write-Attributes.
func (t *Tree) put(s *served) coap.Handler {
	return func(in coap.Incoming) coap.Answer {
		switch {
		case len(in.Queries) > 0 && len(in.Payload) == 0 && in.ContentFormat == coap.NoMediaType:
			return t.putAttributes(s.path, in.Queries)
		case len(in.Queries) > 0:
			return fail(coap.BadRequest, "a Write has no query, and a Write-Attributes no payload or Content-Format")
		case s.path.Depth() == 1:
			return fail(methodNotAllowed, "Write: name an instance or a resource of "+s.path.String())
		}
		return t.write(s.path, in)
	}
}

// putBlocks is a Write of a resource that takes its value block by block, or, with a query
// and no payload, Write-Attributes.
func (t *Tree) putBlocks(s *served, fn coap.BlockHandler) coap.BlockHandler {
	return func(b coap.Block) coap.Answer {
		switch {
		case b.Offset == 0 && len(b.Queries) > 0 && len(b.Payload) == 0 && b.ContentFormat == coap.NoMediaType:
			return t.putAttributes(s.path, b.Queries)
		case len(b.Queries) > 0:
			return fail(coap.BadRequest, "a Write has no query, and a Write-Attributes no payload or Content-Format")
		case b.ContentFormat != formatOpaque && b.ContentFormat != coap.NoMediaType:
			return fail(unsupportedFormat, fmt.Sprintf("Write of %s: %s takes application/octet-stream (42), not %s", s.path, t.resource(s.path).Name, b.ContentFormat))
		}
		return fn(b)
	}
}

// post is Create on an object (not offered), a partial Write on an instance, Execute on a
// resource.
func (t *Tree) post(s *served) coap.Handler {
	return func(in coap.Incoming) coap.Answer {
		switch s.path.Depth() {
		case 1:
			return fail(methodNotAllowed, errCreate)
		case 2:
			return t.write(s.path, in)
		}
		r := t.resource(s.path)
		if r.Ops&E == 0 {
			return fail(methodNotAllowed, fmt.Sprintf("Execute: %s (%s) is %s, not executable", s.path, r.Name, r.Ops))
		}
		if err := r.Execute(string(in.Payload)); err != nil {
			return callbackFailed("execute", s.path, err)
		}
		return answerChanged
	}
}

// write decodes a Write's payload and writes it, all resources checked before any is
// written. Replace and partial update differ only in what happens to resources the payload
// leaves out, and pigw's resources cannot be removed: both write what is given.
func (t *Tree) write(at node.Path, in coap.Incoming) coap.Answer {
	recs, err := t.decode(at, in.ContentFormat, in.Payload)
	switch {
	case errors.Is(err, errUnsupportedFormat):
		return fail(unsupportedFormat, err.Error())
	case err != nil:
		return fail(coap.BadRequest, err.Error())
	}
	var todo []node.Record
	for _, rec := range recs {
		if rec.Value.Type() == node.TypeNone {
			continue
		}
		r := t.resource(rec.Path)
		switch {
		case !rec.Path.Under(at) || rec.Path.Depth() != 3:
			return fail(methodNotAllowed, fmt.Sprintf("Write of %s: pigw writes single resources under %s", rec.Path, at))
		case r == nil:
			return fail(notFound, fmt.Sprintf("Write of %s: no such resource", rec.Path))
		case r.Ops&W == 0:
			return fail(methodNotAllowed, fmt.Sprintf("Write of %s (%s): the resource is %s, not writable", rec.Path, r.Name, r.Ops))
		case r.Blocks != nil:
			return fail(methodNotAllowed, fmt.Sprintf("Write of %s (%s): write it alone, with PUT %s as application/octet-stream", rec.Path, r.Name, rec.Path))
		}
		todo = append(todo, rec)
	}
	for _, rec := range todo {
		if err := t.resource(rec.Path).Write(rec.Value); err != nil {
			return callbackFailed("write", rec.Path, err)
		}
	}
	for _, rec := range todo {
		t.changed(rec.Path)
	}
	return answerChanged
}

// putAttributes is Write-Attributes: the attributes are stored at their level, and every path
// they apply to gets its new periods and Discover answer.
func (t *Tree) putAttributes(p node.Path, queries []string) coap.Answer {
	touched, err := t.writeAttributes(p, queries)
	if err != nil {
		return fail(coap.BadRequest, "Write-Attributes: "+err.Error())
	}
	for _, q := range touched {
		t.applyPeriods(t.served(q))
	}
	return answerChanged
}

// applyPeriods gives s's CoAP resource the pmin and pmax that apply at its path.
func (t *Tree) applyPeriods(s *served) {
	t.mu.Lock()
	pmin, pmax := t.effectiveLocked(s.path).periods()
	t.mu.Unlock()
	if err := s.res.SetObservePeriods(pmin, pmax); err != nil {
		t.log.Error("lwm2m: observe periods", "path", s.path.String(), "err", err) // checkAttrs ran
	}
}

func fail(code coap.Code, diag string) coap.Answer {
	return coap.Answer{Code: code, ContentFormat: coap.NoMediaType, Payload: []byte(diag)}
}

// callbackFailed answers a Write or Execute function's error: 4.00 for ErrBadValue, 4.05
// for ErrNotAllowed, 5.00 for the rest.
func callbackFailed(op string, p node.Path, err error) coap.Answer {
	switch {
	case errors.Is(err, ErrBadValue):
		return fail(coap.BadRequest, fmt.Sprintf("%s %s: %v", op, p, err))
	case errors.Is(err, ErrNotAllowed):
		return fail(methodNotAllowed, fmt.Sprintf("%s %s: %v", op, p, err))
	}
	return fail(internalError, fmt.Sprintf("%s %s: %v", op, p, err))
}
