package coap

import (
	"fmt"
	"time"
)

// What LwM2M's Write-Attributes need of observation: a resource's own notification periods
// (pmin, pmax) and updates that notify nobody, so that the LwM2M code can apply its value
// filters (gt, lt, st) and still have a Read, and pmax, see the latest value.

// SetObservePeriods sets the resource's own notification periods. pmin holds notifications
// back as the server's Observe.MinInterval does (the longer of the two applies, and the last
// value wins). pmax sends the current representation again, with a new sequence number, when
// nothing was sent for that long: the observer learns that the value still holds and the
// resource is still there. An observer's registration answer counts as a notification for
// both. Zero turns either off. The periods are the resource's, shared by its observers.
func (r *Resource) SetObservePeriods(pmin, pmax time.Duration) error {
	switch {
	case pmin < 0 || pmax < 0:
		return fmt.Errorf("observe periods of %s: pmin %s and pmax %s must not be negative", r.uri, pmin, pmax)
	case pmax > 0 && pmin > pmax:
		return fmt.Errorf("observe periods of %s: pmin %s is longer than pmax %s", r.uri, pmin, pmax)
	}
	r.obs.mu.Lock()
	defer r.obs.mu.Unlock()
	r.obs.pmin, r.obs.pmax = pmin, pmax
	r.srv.notify.armPeriodicLocked(r)
	return nil
}

// SetValueQuiet replaces the value as SetValue does but notifies nobody: a GET reads it, and
// the next notification (pmax, or one held back by pmin) carries it.
func (r *Resource) SetValueQuiet(v []byte) error { return r.setValue(v, false) }

// SetRepresentationsQuiet replaces the representations as SetRepresentations does but
// notifies nobody, as SetValueQuiet.
func (r *Resource) SetRepresentationsQuiet(reps []Representation) error {
	return r.setRepresentations(reps, false)
}

// observedLocked starts the periods for a new observer: its registration answer counts as a
// notification for pmin, and pmax runs from it unless it runs for others already.
func (n *notifier) observedLocked(r *Resource, now time.Time) {
	if r.obs.pmin > 0 {
		r.obs.last = now
	}
	if r.obs.periodic == nil {
		n.armPeriodicLocked(r)
	}
}

// armPeriodicLocked (re)starts the pmax timer after a notification, or stops it when there is
// no pmax or no observer. A timer that fires while being replaced finds its generation gone.
func (n *notifier) armPeriodicLocked(r *Resource) {
	if r.obs.periodic != nil {
		r.obs.periodic.Stop()
		r.obs.periodic = nil
	}
	r.obs.periodGen++
	if r.obs.pmax <= 0 || len(r.obs.m) == 0 {
		return
	}
	gen := r.obs.periodGen
	r.obs.periodic = time.AfterFunc(r.obs.pmax, func() {
		r.obs.mu.Lock()
		defer r.obs.mu.Unlock()
		if r.obs.periodGen != gen {
			return
		}
		r.obs.periodic = nil
		if p, _ := r.representation(); p.failure != "" {
			n.armPeriodicLocked(r) // a failing resource sends nothing (SetFailure); try again later
			return
		}
		n.changedLocked(r)
	})
}

// idleLocked stops the timers of a resource whose last observer went.
func (o *observerSet) idleLocked() {
	if len(o.m) > 0 {
		return
	}
	if o.periodic != nil {
		o.periodic.Stop()
		o.periodic = nil
	}
	o.periodGen++
	if o.delayed != nil {
		o.delayed.Stop()
		o.delayed = nil
	}
	o.held = false
}
