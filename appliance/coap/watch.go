package coap

// Accessors for a status display (the appliance's web page): what changes, how much was asked,
// and what a resource holds besides its value.

// OnChange registers fn, called after any resource's value or details changed (nil for none).
// It runs on the goroutine that made the change: it must return quickly.
func (s *Server) OnChange(fn func(*Resource)) {
	if fn == nil {
		s.onChange.Store(nil)
		return
	}
	s.onChange.Store(&fn)
}

// Requests is the number of requests the server has answered or refused since it started
// (retransmissions answered from the cache not counted).
func (s *Server) Requests() uint64 { return s.requests.Load() }

// Observers is the number of observations registered now, over all resources.
func (s *Server) Observers() int { return s.notify.observers() }

// Hidden reports whether the resource is one of the appliance's own, left out of an
// unfiltered /.well-known/core.
func (r *Resource) Hidden() bool { return r.hidden }

// Failure is why GET answers 5.03 now, or "" when it serves the value.
func (r *Resource) Failure() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.failure
}
