package appliance

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/supervisor"
	"github.com/pigw/pigw/appliance/update"
)

// trialHealth is what a trial root must show before it is committed: a supervisor alive with
// no subsystem in a restart loop, the CoAP listeners bound, /perm taking synced writes, and
// every link that had an address before the update with one again. Gokrazy issue 130 is the
// lesson: a device that boots but cannot be reached must not be committed.
type trialHealth struct {
	srv    *coap.Server
	dtls   bool
	health *Health // nil on a PC
	u      *update.Updater

	mu     sync.Mutex
	states map[string]supervisor.State
}

// observe keeps the subsystems' states; it is the supervisor's onChange, with next.
func (h *trialHealth) observe(next func(supervisor.State)) func(supervisor.State) {
	return func(st supervisor.State) {
		h.mu.Lock()
		if h.states == nil {
			h.states = map[string]supervisor.State{}
		}
		h.states[st.Name] = st
		h.mu.Unlock()
		next(st)
	}
}

func (h *trialHealth) check(links []string) error {
	var missing []string
	if h.health != nil && !h.health.OK() {
		missing = append(missing, "the supervisor shows no life")
	}
	h.mu.Lock()
	for _, st := range h.states {
		if st.State == supervisor.Restarting {
			missing = append(missing, fmt.Sprintf("subsystem %s restarting after %d failures (%s)", st.Name, st.Restarts, st.LastError))
		}
	}
	h.mu.Unlock()
	if len(h.srv.Addrs()) == 0 {
		missing = append(missing, "CoAP listens on no address")
	}
	if h.dtls && len(h.srv.DTLSAddrs()) == 0 {
		missing = append(missing, "DTLS listens on no address")
	}
	have := addressedLinks()
	for _, l := range links {
		if !slices.Contains(have, l) {
			missing = append(missing, fmt.Sprintf("link %s has no address (it had one before the update)", l))
		}
	}
	if len(missing) == 0 { // the synced probe write last: /perm is not worn while other checks fail
		if err := h.u.Probe(); err != nil {
			missing = append(missing, "/perm: "+err.Error())
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return errors.New(strings.Join(missing, "; "))
}

// addressedLinks are the links up with a global unicast address, sorted.
func addressedLinks() []string {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var names []string
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().IsGlobalUnicast() {
				names = append(names, ifc.Name)
				break
			}
		}
	}
	slices.Sort(names)
	return names
}
