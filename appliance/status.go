package appliance

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/supervisor"
	"github.com/pigw/pigw/appliance/web"
)

// maxPageResources bounds the resources the status page lists (the server may hold
// 100000): the page stays small, and says how many it left out.
const maxPageResources = 200

// statusSource gathers what the status page shows (a web.Source) from the appliance's parts,
// each read when the page asks, under that part's own lock. Changes reach the page through
// the CoAP server's OnChange: every value, the log (/sys/log), the subsystems' states
// (/sys/subsystems/...) and the WiFi's (/sys/wifi) are resources; the links' DHCP state and
// leases notify it themselves.
type statusSource struct {
	opts     Options
	started  time.Time
	srv      *coap.Server
	sup      atomic.Pointer[supervisor.Supervisor]
	sensors  *sensorResources
	gpio     []config.GPIO
	sessions *sessions
	links    *linkStates
	wifi     *wifiStatus
	lines    *lastLines
	regs     *registrations
	changes  web.Notifier
}

func (s *statusSource) Changed() <-chan struct{} { return s.changes.C() }

func (s *statusSource) LogAfter(seq uint64, most int) ([]web.LogLine, uint64) {
	if s.opts.Ring == nil {
		return nil, 0
	}
	lines, last := s.opts.Ring.After(seq, most)
	out := make([]web.LogLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, web.LogLine{Seq: l.Seq, Text: l.Text})
	}
	return out, last
}

func (s *statusSource) Snapshot() web.Snapshot {
	facts := readSysFacts()
	sn := web.Snapshot{
		System: web.System{Hostname: facts.Hostname, Version: s.opts.Version, Board: facts.Board, Kernel: facts.Kernel,
			UptimeSeconds: int64(time.Since(s.started).Seconds()), Memory: readMemory(), Storage: readStorage(s.opts.StateDir)},
		Subsystems: []web.Subsystem{},
		Sensors:    s.sensors.status(),
		GPIO:       s.pins(),
		Sessions:   s.sessions.status(),
	}
	sn.Registrations = s.regs.status()
	sn.Network.Links, _ = s.links.links() // none when the links cannot be listed
	sn.Network.Wifi = s.wifi.get()
	if sup := s.sup.Load(); sup != nil {
		for _, st := range sup.States() {
			sn.Subsystems = append(sn.Subsystems, web.Subsystem{Name: st.Name, State: st.State, Restarts: st.Restarts,
				LastError: st.LastError, Since: st.Since, LastLog: s.lines.line(st.Name)})
		}
	}
	sn.Resources, sn.ResourcesOmitted = s.resources()
	events := s.srv.Counters()
	sn.Counters = web.Counters{Requests: s.srv.Requests(), Observers: s.srv.Observers(), Rejected: events["rejected"], Events: events}
	return sn
}

// pins are the GPIO pins, as their resources show them.
func (s *statusSource) pins() []web.Pin {
	out := make([]web.Pin, 0, len(s.gpio))
	for _, g := range s.gpio {
		p := web.Pin{Name: g.Name, Direction: g.Direction}
		if r := s.srv.Resource("gpio/" + g.Name); r != nil {
			if p.Failure = r.Failure(); p.Failure == "" {
				p.Level = string(r.Value())
			}
		}
		out = append(out, p)
	}
	return out
}

// resources are the resources a user configured or a client created: not the appliance's
// own (hidden), nor the sensors' and pins' (listed apart).
func (s *statusSource) resources() ([]web.Resource, int) {
	out, omitted := []web.Resource{}, 0
	for _, r := range s.srv.Resources() {
		if r.Hidden() || s.apart(r.URI()) {
			continue
		}
		if len(out) == maxPageResources {
			omitted++
			continue
		}
		d := r.Details()
		wr := web.Resource{URI: r.URI(), Dynamic: r.Dynamic(), Failure: r.Failure()}
		if d.MediaType != coap.NoMediaType {
			wr.MediaType = d.MediaType.String()
		}
		if m := r.Methods(); m != 0 {
			wr.Methods = strings.ReplaceAll(m.String(), "|", " ")
		}
		v := r.Value()
		wr.Size = len(v)
		wr.Value, wr.Hex, wr.Truncated = shownValue(v)
		out = append(out, wr)
	}
	return out, omitted
}

// apart reports the resources of sensors and pins, which the page lists on their own.
func (s *statusSource) apart(uri string) bool {
	if name, ok := strings.CutPrefix(uri, "gpio/"); ok {
		for _, g := range s.gpio {
			if g.Name == name {
				return true
			}
		}
	}
	if rest, ok := strings.CutPrefix(uri, "sensors/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		for _, n := range s.sensors.names {
			if n == name {
				return true
			}
		}
	}
	return false
}

// newWeb returns the status page's server, or nil when web.listen turns it off. Its
// addresses default by mode: every address on port 80 as the system, this machine only on
// port 8080 under pigw run.
func newWeb(cfg *config.Config, opts Options, src web.Source, log *slog.Logger) (*web.Server, error) {
	addrs := cfg.Web.Addresses(opts.ManageNetwork)
	if len(addrs) == 0 {
		log.Info("status page off (web.listen is empty)")
		return nil, nil
	}
	ws, err := web.New(web.Config{Listen: addrs, Source: src, Log: log})
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	return ws, nil
}
