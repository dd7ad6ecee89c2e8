package appliance

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/pigw/pigw/appliance/boot"
	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/supervisor"
)

// Requests to stop the appliance, returned by Run.
var (
	ErrReboot   = errors.New("reboot requested")
	ErrPoweroff = errors.New("poweroff requested")
	ErrTryboot  = errors.New("reboot into tryboot requested") // an update's trial on a Pi 4 or 5
)

// answerGrace is how long a power action waits for its answer to be sent.
const answerGrace = 300 * time.Millisecond

// sysResources are the appliance's own resources under /sys: what it is, what it logs, its
// configuration, its subsystems, and the power actions.
type sysResources struct {
	srv     *coap.Server
	log     *slog.Logger
	opts    Options
	started time.Time
	logRes  *coap.Resource
	stop    chan error // a reboot or poweroff request, taken by Run
	dtls    bool       // the server has a DTLS endpoint: info reports its sessions
	update  *sysUpdate
}

func addSysResources(srv *coap.Server, cfg *config.Config, opts Options, log *slog.Logger) (*sysResources, error) {
	sr := &sysResources{srv: srv, log: log, opts: opts, started: time.Now(), stop: make(chan error, 1)}
	cfgText, err := cfg.Redacted() // secrets as "***"
	if err != nil {
		cfgText = []byte("# the configuration could not be shown: " + err.Error() + "\n")
	}
	var admins []string
	if cfg.CoAP.DTLS != nil {
		admins = cfg.CoAP.DTLS.Admins
		sr.dtls = true
	}
	for _, r := range []struct {
		uri  string
		opts []coap.ResourceOption
	}{
		{"sys/info", []coap.ResourceOption{coap.WithMediaType(coap.AppJSON), coap.WithHandler(coap.GET, sr.info), coap.WithAttribute("rt", "pigw.info"), coap.WithHidden()}},
		{"sys/log", []coap.ResourceOption{coap.WithMediaType(coap.TextPlain), coap.WithMethods(coap.GET), coap.WithAttribute("rt", "pigw.log"), coap.WithHidden()}},
		{"sys/counters", []coap.ResourceOption{coap.WithMediaType(coap.AppJSON), coap.WithHandler(coap.GET, sr.counters), coap.WithAttribute("rt", "pigw.counters"), coap.WithHidden()}},
		{"sys/config", []coap.ResourceOption{coap.WithMediaType(coap.TextPlain), coap.WithValue(cfgText), coap.WithMethods(coap.GET), coap.WithAttribute("rt", "pigw.config"), coap.WithHidden()}},
		{"sys/reboot", []coap.ResourceOption{coap.WithHandler(coap.POST, sr.power(ErrReboot)), coap.WithGuard(adminOnly(admins)), coap.WithAttribute("rt", "pigw.action"), coap.WithHidden()}},
		{"sys/poweroff", []coap.ResourceOption{coap.WithHandler(coap.POST, sr.power(ErrPoweroff)), coap.WithGuard(adminOnly(admins)), coap.WithAttribute("rt", "pigw.action"), coap.WithHidden()}},
	} {
		res, err := srv.AddResource(r.uri, r.opts...)
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", r.uri, err)
		}
		if r.uri == "sys/log" {
			sr.logRes = res
		}
	}
	sr.update = &sysUpdate{u: opts.Updater, policy: trialPolicy(cfg.Update, boardModel()), log: log, stop: sr.requestStop, init: opts.ManageNetwork}
	var why error
	if sr.update.u == nil {
		if sr.update.u, why = OpenUpdater(opts.StateDir, opts.UpdateRoot, opts.UpdateSlot, log); why != nil {
			log.Warn("updates unavailable", "err", why)
		}
	}
	if err := addUpdateResources(srv, sr.update, admins, why); err != nil {
		return nil, fmt.Errorf("/sys/update: %w", err)
	}
	if opts.Ring != nil {
		opts.Ring.OnAppend(sr.publishLog)
		sr.publishLog()
	}
	return sr, nil
}

// publishLog puts the last log lines in /sys/log, so observers see each new line.
func (sr *sysResources) publishLog() {
	_ = sr.logRes.SetValue([]byte(sr.opts.Ring.Tail(100, 8192)))
}

// info answers GET /sys/info: version, uptime, hostname, board, kernel.
func (sr *sysResources) info(coap.Incoming) coap.Answer {
	facts := readSysFacts()
	info := map[string]any{
		"version":        sr.opts.Version,
		"uptime_seconds": int(time.Since(sr.started).Seconds()),
		"hostname":       facts.Hostname,
		"board":          facts.Board,
		"kernel":         facts.Kernel,
		"arch":           runtime.GOARCH,
		"go":             runtime.Version(),
		"pid1":           os.Getpid() == 1,
		"state_dir":      sr.opts.StateDir,
	}
	if sr.dtls {
		info["dtls_sessions"] = sr.srv.DTLSSessions()
	}
	if wd, ok := boot.ReadWatchdogState("/sys"); ok {
		info["watchdog"] = wd
	}
	if b, err := os.ReadFile("/proc/uptime"); err == nil {
		var up float64
		if _, err := fmt.Sscan(string(b), &up); err == nil {
			info["system_uptime_seconds"] = int(up)
		}
	}
	return coap.Answer{Code: coap.Content, ContentFormat: coap.AppJSON, Payload: marshal(info)}
}

// counters answers GET /sys/counters: how many of each event peers can cause at any rate
// there have been since the start (the log has them once per interval).
func (sr *sysResources) counters(coap.Incoming) coap.Answer {
	return coap.Answer{Code: coap.Content, ContentFormat: coap.AppJSON, Payload: marshal(sr.srv.Counters())}
}

// adminOnly lets a request through only over DTLS (4.01 otherwise) and only from an admin
// identity (4.03 otherwise).
func adminOnly(admins []string) coap.Guard {
	return func(in coap.Incoming) (coap.Answer, bool) {
		switch {
		case !in.Secure:
			return coap.Answer{Code: coap.Unauthorized, ContentFormat: coap.NoMediaType, Payload: []byte("needs DTLS with an admin identity (coap.dtls.admins)")}, false
		case !slices.Contains(admins, in.Identity):
			return coap.Answer{Code: coap.Forbidden, ContentFormat: coap.NoMediaType, Payload: []byte(fmt.Sprintf("identity %q is not in coap.dtls.admins", in.Identity))}, false
		}
		return coap.Answer{}, true
	}
}

// power answers POST /sys/reboot and /sys/poweroff (admins only, by their guard).
func (sr *sysResources) power(action error) coap.Handler {
	return func(in coap.Incoming) coap.Answer {
		sr.log.Warn("power action requested", "action", action.Error(), "identity", in.Identity, "peer", in.Peer.String())
		sr.requestStop(action)
		return coap.Answer{Code: coap.Changed, ContentFormat: coap.TextPlain, Payload: []byte(action.Error())}
	}
}

// requestStop asks Run to stop with action (a reboot or a poweroff). The stop waits a moment,
// so that the answer to the request leaves before the connections close: an admin whose 2.04
// was lost would retransmit into a closed DTLS session.
func (sr *sysResources) requestStop(action error) {
	time.AfterFunc(answerGrace, func() {
		select {
		case sr.stop <- action:
		default:
		}
	})
}

// subsystemResources publishes each subsystem's state at /sys/subsystems/<name>.
func subsystemResources(srv *coap.Server, log *slog.Logger) func(supervisor.State) {
	return func(st supervisor.State) {
		uri := "sys/subsystems/" + st.Name
		r := srv.Resource(uri)
		if r == nil {
			var err error
			if r, err = srv.AddResource(uri, coap.WithMediaType(coap.AppJSON), coap.WithMethods(coap.GET), coap.WithAttribute("rt", "pigw.subsystem"), coap.WithHidden()); err != nil {
				log.Error("publish subsystem state", "subsystem", st.Name, "err", err)
				return
			}
		}
		_ = r.SetValue(marshal(st))
	}
}
