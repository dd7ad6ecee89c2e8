package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/lwm2m"
	"github.com/pigw/pigw/appliance/registration"
	"github.com/pigw/pigw/sensors"
)

// lwm2mClient is pigw as an OMA LwM2M 1.1 client of one server (Leshan, ThingsBoard, ...): it
// registers its objects and keeps the registration (package registration), and answers the
// server's Read, Write, Execute and Observe on the socket it registered from (package lwm2m,
// coap.Session.Serve), since a server reaches a client behind a NAT nowhere else. The
// objects show what the appliance has: the device, the sensors' readings from the one
// sampler, the GPIO pins. A server that is down is retried and shown in /sys/lwm2m, never
// returned to the supervisor: it must not count against an update's trial health.
type lwm2mClient struct {
	cfg      config.LwM2M
	endpoint string
	tree     *lwm2m.Tree
	srv      *coap.Server // sessions-only: the tree, served on the registration's session
	client   *coap.Client
	sensors  *lwm2m.Sensors
	gpio     *lwm2m.GPIO
	firmware *lwm2mFirmware // nil when not asked for, or when this pigw takes no updates
	res      *coap.Resource // /sys/lwm2m
	regs     *registrations
	log      *slog.Logger
	reg      atomic.Pointer[registration.Client] // while registering
}

// lwm2mDeps are the parts of the appliance the objects show and act on.
type lwm2mDeps struct {
	srv     *coap.Server // the appliance's, for /sys/lwm2m
	pins    *gpioPins
	version string
	reboot  func()
	regs    *registrations
	update  *sysUpdate // /sys/update, whose mechanism object 5 uses
}

func newLwM2M(cfg *config.Config, d lwm2mDeps, log *slog.Logger) (*lwm2mClient, error) {
	c := &lwm2mClient{cfg: cfg.LwM2M, endpoint: cfg.LwM2M.EndpointName(cfg.System.Hostname), client: coap.NewClient(log),
		regs: d.regs, log: log}
	objs, err := c.objects(cfg, d)
	if err != nil {
		return nil, err
	}
	if c.tree, err = lwm2m.NewTree(log, objs...); err != nil {
		return nil, err
	}
	if c.srv, err = c.tree.NewServer(log); err != nil {
		return nil, err
	}
	c.res, err = d.srv.AddResource("sys/lwm2m", coap.WithMediaType(coap.AppJSON), coap.WithMethods(coap.GET), coap.WithETag(),
		coap.WithAttribute("rt", "pigw.lwm2m"), coap.WithHidden())
	if err != nil {
		return nil, err
	}
	c.publish(idleState(c.cfg.Server, c.endpoint, c.cfg.Lifetime))
	return c, nil
}

// objects makes the objects lwm2m.objects asks for. Object 5 (Firmware Update) needs the
// updater: a pigw without one (no state directory, a root that is not an image's) leaves
// it out and the log says why.
func (c *lwm2mClient) objects(cfg *config.Config, d lwm2mDeps) ([]*lwm2m.Object, error) {
	want := func(group string) bool { return slices.Contains(c.cfg.Objects, group) }
	var objs []*lwm2m.Object
	server, err := lwm2m.NewServerObject(lwm2m.ServerFacts{
		ShortServerID: uint16(c.cfg.ShortServerID), Lifetime: int64(time.Duration(c.cfg.Lifetime) / time.Second),
		OnLifetime: func(seconds int64) error {
			reg := c.reg.Load()
			if reg == nil {
				return fmt.Errorf("not registered")
			}
			return reg.SetLifetime(time.Duration(seconds) * time.Second)
		},
		OnUpdateTrigger: func() error {
			if reg := c.reg.Load(); reg != nil {
				reg.UpdateNow()
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	device, err := lwm2m.NewDeviceObject(lwm2m.DeviceFacts{Manufacturer: manufacturer(), Model: boardModel(), Serial: boardSerial(),
		FirmwareVersion: d.version, Reboot: func() error { d.reboot(); return nil }})
	if err != nil {
		return nil, err
	}
	objs = append(objs, server, device) // both required: config refuses a list without them
	if want(config.LwM2MObjectSensors) {
		var qs []lwm2m.Quantity
		for _, sc := range cfg.Sensors {
			drv, err := sensors.Lookup(sc.Kind)
			if err != nil {
				return nil, err
			}
			for _, q := range drv.Quantities {
				if _, ok := lwm2m.IPSOObject(q.Name); ok {
					qs = append(qs, lwm2m.Quantity{Sensor: sc.Name, Name: q.Name, Unit: q.Unit})
				}
			}
		}
		if c.sensors, err = lwm2m.NewSensors(qs); err != nil {
			return nil, err
		}
		objs = append(objs, c.sensors.Objects()...)
	}
	if want(config.LwM2MObjectGPIO) && d.pins != nil {
		var pins []lwm2m.Pin
		for _, g := range cfg.GPIO {
			p := lwm2m.Pin{Name: g.Name, Output: !g.Input()}
			if p.Output {
				p.Set = func(level bool) error { _, err := d.pins.set(g.Name, level, false); return err }
			}
			pins = append(pins, p)
		}
		if c.gpio, err = lwm2m.NewGPIO(pins); err != nil {
			return nil, err
		}
		for name, level := range d.pins.levels() {
			_ = c.gpio.Level(name, level)
		}
		d.pins.watchLevels(func(name string, level bool) { _ = c.gpio.Level(name, level) })
		objs = append(objs, c.gpio.Objects()...)
	}
	if want(config.LwM2MObjectFirmware) {
		if d.update == nil || d.update.u == nil {
			c.log.Warn("lwm2m: object 5 (Firmware Update) left out: this pigw takes no updates (see /sys/update)")
		} else {
			if c.firmware, err = newLwM2MFirmware(d.update, c.log); err != nil {
				return nil, err
			}
			objs = append(objs, c.firmware.obj.Object())
		}
	}
	return objs, nil
}

func (c *lwm2mClient) Name() string { return "lwm2m" }

func (c *lwm2mClient) publish(st registration.State) {
	_ = c.res.SetValue(marshal(st))
	c.regs.set("lwm2m", st)
}

// Publish gives the IPSO objects a sample, beside /sensors (see fanOut).
func (c *lwm2mClient) Publish(name string, s sensors.Sample) {
	if c.sensors == nil {
		return
	}
	for _, rd := range s.Readings {
		_ = c.sensors.Reading(name, rd.Name, rd.Value)
	}
}

// Fail marks the sensor's IPSO instances unreadable.
func (c *lwm2mClient) Fail(name string, err error, _ time.Time) {
	if c.sensors != nil {
		c.sensors.Fail(name, err.Error())
	}
}

// Run registers and keeps the registration until ctx is done.
func (c *lwm2mClient) Run(ctx context.Context) error {
	go func() { _ = c.srv.Serve(ctx) }() // Block1 expiry and the event log of the tree's server
	if c.firmware != nil {
		go c.firmware.run(ctx)
	}
	return keepRegistered(ctx, c.log, idleState(c.cfg.Server, c.endpoint, c.cfg.Lifetime), c.publish, c.register)
}

func (c *lwm2mClient) register(ctx context.Context) error {
	s, err := c.dial()
	if err != nil {
		return err
	}
	keep := &sessionKeeper{client: c.client, dial: c.dial, s: s}
	defer keep.close()
	reg, err := registration.New(registration.Config{
		Conn: s, Reconnect: keep.reconnect, Server: c.cfg.Server, Path: "rd", Endpoint: c.endpoint,
		Params:   []string{"lwm2m=1.1", "b=" + c.cfg.Binding},
		Lifetime: time.Duration(c.cfg.Lifetime),
		Links:    func() []byte { return []byte(c.tree.Links()) },
		Logger:   c.log, OnChange: c.publish,
	})
	if err != nil {
		return err
	}
	c.reg.Store(reg)
	defer c.reg.Store(nil)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A new address: an Update at once, from it, so that the server's requests reach pigw.
	go followAddresses(ctx, c.log, reg.UpdateNow)
	c.log.Info("registering with the LwM2M server", "server", c.cfg.Server, "endpoint", c.endpoint)
	return reg.Run(ctx)
}

// dial opens a session to the server, over DTLS for coaps, that serves the objects.
func (c *lwm2mClient) dial() (*coap.Session, error) {
	_, host, port := c.cfg.Parsed()
	s, err := dialServer(c.client, host, port, c.cfg.Identity, c.cfg.PSK)
	if err != nil {
		return nil, err
	}
	if err := s.Serve(c.srv); err != nil {
		c.client.RemoveSession(s)
		return nil, err
	}
	return s, nil
}

// manufacturer is the board's maker as the device tree names it ("raspberrypi" for a Pi),
// or "unknown".
func manufacturer() string {
	b, err := os.ReadFile("/proc/device-tree/compatible")
	if err != nil {
		return "unknown"
	}
	vendor, _, _ := strings.Cut(string(b), ",")
	if vendor == "raspberrypi" {
		return "Raspberry Pi Ltd"
	}
	return vendor
}

// fanOut gives every sample to each publisher: the one sampler feeds /sensors and LwM2M.
type fanOut []sensors.Publisher

func (f fanOut) Publish(name string, s sensors.Sample) {
	for _, p := range f {
		p.Publish(name, s)
	}
}

func (f fanOut) Fail(name string, err error, lastGood time.Time) {
	for _, p := range f {
		p.Fail(name, err, lastGood)
	}
}
