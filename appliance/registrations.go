package appliance

import (
	"slices"
	"strings"
	"sync"

	"github.com/pigw/pigw/appliance/registration"
	"github.com/pigw/pigw/appliance/web"
)

// registrations holds the state of pigw's registrations with servers that list it (an LwM2M
// server, a Resource Directory) for the status page.
type registrations struct {
	onChange func()

	mu sync.Mutex
	m  map[string]web.Registration // by kind
}

func newRegistrations(onChange func()) *registrations {
	return &registrations{onChange: onChange, m: map[string]web.Registration{}}
}

// set keeps st as the state of the registration of kind ("lwm2m", "rd").
func (r *registrations) set(kind string, st registration.State) {
	r.mu.Lock()
	r.m[kind] = web.Registration{Kind: kind, Server: st.Server, Endpoint: st.Endpoint, Registered: st.Registered,
		Location: st.Location, Lifetime: st.Lifetime, LastUpdate: st.LastUpdate, NextUpdate: st.NextUpdate, LastError: st.LastError}
	r.mu.Unlock()
	r.onChange()
}

// status lists the registrations by kind.
func (r *registrations) status() []web.Registration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]web.Registration, 0, len(r.m))
	for _, reg := range r.m {
		out = append(out, reg)
	}
	slices.SortFunc(out, func(a, b web.Registration) int { return strings.Compare(a.Kind, b.Kind) })
	return out
}
