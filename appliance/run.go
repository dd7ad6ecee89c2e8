package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/logring"
	"github.com/pigw/pigw/appliance/network"
	"github.com/pigw/pigw/appliance/supervisor"
	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/sensors"
	sgpio "github.com/pigw/pigw/sensors/gpio"
	"github.com/pigw/pigw/wifi"
	"periph.io/x/conn/v3/gpio"
)

// Options are how the appliance is run.
type Options struct {
	StateDir string        // where written values and dynamic resources are kept; "" keeps them in memory
	Log      *slog.Logger  // the appliance's log
	Ring     *logring.Ring // the last log lines, served at /sys/log; may be nil
	Version  string
	Health   *Health // when not nil, tells the caller (the watchdog) whether the appliance lives
	// ManageNetwork applies the network section (as PID 1); a pigw run on a laptop leaves the
	// host's links alone.
	ManageNetwork bool
	// Subsystems are run by the supervisor beside the appliance's own (PID 1 adds the clock).
	Subsystems []supervisor.Subsystem
	// UpdateRoot is the running root whose release and trusted update keys apply ("/" when
	// empty), and UpdateSlot a file to take updates into instead of the card's other root
	// partition: both for tests of updates on a PC.
	UpdateRoot, UpdateSlot string
	// Updater, when set, is the updater PID 1 used at boot (else one is opened from the
	// fields above), and Trial says that this boot runs a trial root: its health is watched
	// until it is committed or given up.
	Updater *update.Updater
	Trial   bool
	// Track and Untrack tell PID 1's reaper about processes the appliance waits for itself.
	Track, Untrack func(pid int)
}

// Health reports whether the appliance's supervisor is alive, for the hardware watchdog.
type Health struct {
	sup atomic.Pointer[supervisor.Supervisor]
}

// OK reports a supervisor that showed life in the last few seconds; false before it started.
func (h *Health) OK() bool {
	s := h.sup.Load()
	return s != nil && s.Healthy(5*time.Second)
}

// Run runs the appliance on cfg until ctx is done, or until an admin asks for a reboot or a
// poweroff (then it returns ErrReboot or ErrPoweroff): the CoAP server and the client sessions,
// each a subsystem the supervisor restarts when it fails.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	log := opts.Log
	var store *resourceStore
	if opts.StateDir != "" {
		var err error
		if store, err = openResourceStore(opts.StateDir); err != nil {
			log.Error("state directory unusable: values written by clients last until the process ends", "dir", opts.StateDir, "err", err)
			store, opts.StateDir = nil, ""
		} else {
			log.Info("state directory", "dir", opts.StateDir)
		}
	} else {
		log.Warn("no state directory: values written by clients last until the process ends")
	}
	lines := newLastLines()
	srv, err := newCoAPServer(&cfg.CoAP, store, lines.logger(log, "coap"))
	if err != nil {
		return err
	}
	status := &statusSource{opts: opts, started: time.Now(), srv: srv, gpio: cfg.GPIO, wifi: &wifiStatus{}, lines: lines}
	srv.OnChange(func(*coap.Resource) { status.changes.Notify() })
	sys, err := addSysResources(srv, cfg, opts, log)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(cfg.Sensors))
	for _, sc := range cfg.Sensors {
		names = append(names, sc.Name)
	}
	sres, err := newSensorResources(srv, names, cfg.System.Hostname, log)
	if err != nil {
		return err
	}
	ss, err := newSessions(cfg.Sessions, srv, sres.Snapshot, lines.logger(log, "sessions"))
	if err != nil {
		return err
	}
	links := newLinkStates(status.changes.Notify)
	status.sensors, status.sessions, status.links = sres, ss, links
	status.regs = newRegistrations(status.changes.Notify)
	if _, err := srv.AddResource("sys/network", coap.WithHandler(coap.GET, links.netInfo), coap.WithAttribute("rt", "pigw.network"), coap.WithHidden()); err != nil {
		return err
	}
	specs, closeBuses := sensorSpecs(cfg.Sensors)
	defer closeBuses()
	pins, err := newGPIO(cfg.GPIO, srv, opts.StateDir, lines.logger(log, "gpio"), openPin)
	if err != nil {
		return err
	}
	var wm *wifi.Manager
	if opts.ManageNetwork && cfg.Wifi.Enabled() {
		if wm, err = newWifi(cfg.Wifi, srv, opts, status.wifi, lines.logger(log, "wifi")); err != nil {
			return fmt.Errorf("wifi: %w", err)
		}
	}
	ws, err := newWeb(cfg, opts, status, lines.logger(log, "web"))
	if err != nil {
		return err
	}
	httpPort := 0
	if ws != nil {
		httpPort = lanPort(cfg.Web.Addresses(opts.ManageNetwork))
	}
	responder, err := newMDNS(cfg, opts.Version, httpPort, log)
	if err != nil {
		return err
	}
	var rd *rdRegistrar
	if cfg.RD.Enabled() {
		if rd, err = newRDRegistrar(cfg, srv, status.regs, lines.logger(log, "rd")); err != nil {
			return fmt.Errorf("rd: %w", err)
		}
	}
	var lw *lwm2mClient
	if cfg.LwM2M.Enabled() {
		lw, err = newLwM2M(cfg, lwm2mDeps{srv: srv, pins: pins, version: opts.Version, regs: status.regs,
			reboot: func() { sys.requestStop(ErrReboot) }, update: sys.update}, lines.logger(log, "lwm2m"))
		if err != nil {
			return fmt.Errorf("lwm2m: %w", err)
		}
	}
	log.Info("appliance ready", "resources", len(srv.Resources()), "service_discovery", cfg.CoAP.ServiceDiscovery,
		"dynamic_resources", cfg.CoAP.DynamicResources, "dtls", cfg.CoAP.DTLS != nil, "sessions", len(cfg.Sessions))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	th := &trialHealth{srv: srv, dtls: cfg.CoAP.DTLS != nil, health: opts.Health, u: sys.update.u}
	sys.update.health = th.check
	sup := supervisor.New(lines.logger(log, ""), th.observe(subsystemResources(srv, log)))
	status.sup.Store(sup)
	if opts.Health != nil {
		opts.Health.sup.Store(sup)
	}
	if opts.Trial && sys.update.u != nil {
		go sys.update.u.Watch(ctx, th.check, func(reason string) {
			log.Error("update trial given up: rebooting to the committed root", "reason", reason)
			sys.requestStop(ErrReboot)
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		subs := []supervisor.Subsystem{coapSubsystem{srv}, supervisor.Func{N: "sessions", F: ss.Run}}
		if len(specs) > 0 {
			var pub sensors.Publisher = sres
			if lw != nil {
				pub = fanOut{sres, lw}
			}
			subs = append(subs, sensors.NewSampler(specs, pub, lines.logger(log, "sensors")))
		}
		if len(pins.inputs) > 0 {
			subs = append(subs, pins)
		}
		if opts.ManageNetwork {
			ncfg := networkConfig(cfg, opts.StateDir)
			ncfg.OnDHCP, ncfg.OnLease = links.set, links.setLease
			subs = append(subs, network.NewStatic(ncfg, lines.logger(log, "network")))
			if wm != nil {
				subs = append(subs, wm)
			}
		} else if len(cfg.Network.Interfaces) > 0 || len(cfg.Network.DNS) > 0 || cfg.Wifi.Enabled() {
			log.Warn("network and wifi sections ignored: pigw manages links only when it runs as init")
		}
		if ws != nil {
			subs = append(subs, ws)
		}
		if cfg.System.MDNSOn(opts.ManageNetwork) {
			subs = append(subs, responder)
		}
		if rd != nil {
			subs = append(subs, rd)
		}
		if lw != nil {
			subs = append(subs, lw)
		}
		sup.Run(ctx, append(subs, opts.Subsystems...)...)
	}()
	var stop error
	select {
	case <-ctx.Done():
	case stop = <-sys.stop:
	}
	cancel()
	<-done
	return stop
}

// openPin opens a real pin; outputs so that their level can be read back.
func openPin(name string, output bool) (gpio.PinIO, error) {
	if output {
		return sgpio.OpenOutput(name)
	}
	return sgpio.Open(name)
}

// networkConfig turns the validated network section into what the network subsystem applies.
// A WiFi link that no entry names or matches gets DHCP, which is what a user who only wrote a
// wifi section expects.
func networkConfig(cfg *config.Config, stateDir string) network.Config {
	c := network.Config{Hostname: cfg.System.Hostname, DNS: cfg.Network.Resolvers(), LeaseDir: stateDir}
	for _, i := range cfg.Network.Interfaces {
		ni := network.Interface{Name: i.Name, Up: i.Up == nil || *i.Up, Addresses: i.Prefixes(), MTU: i.MTU,
			Metric: i.EffectiveMetric(), DHCP: i.UsesDHCP()}
		if i.IsPattern() {
			ni.Metric = i.Metric // 0: each link's by its own name
		}
		ni.Gateway, _ = netip.ParseAddr(i.Gateway)
		ni.Gateway6, _ = netip.ParseAddr(i.Gateway6)
		for _, r := range i.Routes {
			to, err := netip.ParsePrefix(r.To)
			if err != nil {
				continue // validated before; not reached
			}
			via, _ := netip.ParseAddr(r.Via)
			ni.Routes = append(ni.Routes, network.Route{To: to, Via: via, Metric: r.Metric})
		}
		c.Interfaces = append(c.Interfaces, ni)
	}
	if cfg.Wifi.Enabled() && cfg.Network.EntryFor(cfg.Wifi.Interface) < 0 {
		c.Interfaces = append(c.Interfaces, network.Interface{Name: cfg.Wifi.Interface, Up: true, DHCP: true,
			Metric: (config.Interface{Name: cfg.Wifi.Interface}).EffectiveMetric()})
	}
	return c
}

// coapSubsystem serves the CoAP server; a failure to listen is an error the supervisor retries
// (an address that is not there yet, a port still taken).
type coapSubsystem struct{ srv *coap.Server }

func (c coapSubsystem) Name() string { return "coap" }

func (c coapSubsystem) Run(ctx context.Context) error {
	if err := c.srv.Listen(); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return c.srv.Serve(ctx)
}
