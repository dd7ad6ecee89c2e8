package lwm2m

import (
	"bytes"
	"math"
	"sync"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// served is one path of the tree as a CoAP resource: its value in every format, kept current
// by refresh. Discover is answered by the guard, from the attributes as they are then.
type served struct {
	path node.Path
	res  *coap.Resource

	mu      sync.Mutex // one refresh at a time
	values  []coap.Representation
	failure string // why the value cannot be read now, "" when it can

	// The value filter's memory (gt, lt, st), for a single numeric resource.
	seen bool
	last float64 // the latest value
	sent float64 // the value of the latest notification
}

// refresh reads the value at s's path again and, when it changed, serves it: with a
// notification when the filter lets it through, quietly otherwise.
func (t *Tree) refresh(s *served) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := t.resource(s.path)
	if r != nil && r.Ops&R == 0 {
		return // only Discover reads it
	}
	recs, err := t.read(s.path)
	var reps []coap.Representation
	if err == nil {
		reps, err = encode(s.path, recs, r != nil && !r.Multiple)
	}
	if err != nil {
		if s.failure != err.Error() {
			s.failure, s.values = err.Error(), nil
			s.res.SetFailure(s.failure)
		}
		return
	}
	if s.failure == "" && sameReps(reps, s.values) {
		return
	}
	s.failure, s.values = "", reps
	notify := true
	if r != nil && !r.Multiple && numeric(r.Type) {
		notify = t.passes(s, number(recs[0].Value))
	}
	t.setLocked(s, notify)
}

// setLocked serves s's values, notifying the observers or not.
func (t *Tree) setLocked(s *served, notify bool) {
	var err error
	if notify {
		err = s.res.SetRepresentations(s.values)
	} else {
		err = s.res.SetRepresentationsQuiet(s.values)
	}
	if err != nil {
		t.log.Error("lwm2m: serve a value", "path", s.path.String(), "err", err)
	}
}

// passes is the value filter of LwM2M 1.1 Core §5.1.2 for a new value v of a numeric
// resource: with none of gt, lt and st every change notifies; with them a change notifies
// when v crosses gt or lt from the previous value, or moved by st or more from the value
// last notified. pmin and pmax are coap's (Resource.SetObservePeriods).
func (t *Tree) passes(s *served, v float64) bool {
	t.mu.Lock()
	a := t.effectiveLocked(s.path)
	t.mu.Unlock()
	prev := s.last
	s.last = v
	if !s.seen {
		s.seen, s.sent = true, v
		return true
	}
	if !a.has("gt") && !a.has("lt") && !a.has("st") {
		s.sent = v
		return true
	}
	pass := a.has("gt") && (prev > a["gt"]) != (v > a["gt"]) ||
		a.has("lt") && (prev < a["lt"]) != (v < a["lt"]) ||
		a.has("st") && math.Abs(v-s.sent) >= a["st"]
	if pass {
		s.sent = v
	}
	return pass
}

// observed is an observer's registration: its answer carries the current value, which is
// what st measures from now.
func (s *served) observed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = s.last
}

func sameReps(a, b []coap.Representation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].MediaType != b[i].MediaType || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}
