package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	sgpio "github.com/pigw/pigw/sensors/gpio"
	"periph.io/x/conn/v3/gpio"
)

// gpioPins serves the gpio section: each pin at /gpio/<name> as "0" or "1". An input's changes
// reach observers at once; an output takes PUT 0, 1 or toggle, and with restart: last keeps
// its level in the state directory for the next start. A pin this machine does not have
// answers 5.03 saying so.
type gpioPins struct {
	log      *slog.Logger
	stateDir string
	inputs   []*gpioInput
	outputs  map[string]*gpioOutput // by name

	onLevel atomic.Pointer[func(name string, level bool)] // also told every level (LwM2M)
}

// gpioOutput is an output in use; mu orders the PUTs and writes of its level.
type gpioOutput struct {
	pc  config.GPIO
	out *sgpio.Output
	res *coap.Resource
	mu  sync.Mutex
}

type gpioInput struct {
	name string
	in   *sgpio.Input
	res  *coap.Resource
}

func newGPIO(cfg []config.GPIO, srv *coap.Server, stateDir string, log *slog.Logger, open func(name string, output bool) (gpio.PinIO, error)) (*gpioPins, error) {
	g := &gpioPins{log: log, stateDir: stateDir, outputs: map[string]*gpioOutput{}}
	for _, pc := range cfg {
		opts := []coap.ResourceOption{coap.WithMediaType(coap.TextPlain), coap.WithMethods(coap.GET),
			coap.WithAttribute("rt", "pigw.gpio."+pc.Direction), coap.WithAttribute("if", "core.a")}
		pin, openErr := open(pc.Pin, !pc.Input())
		var out *sgpio.Output
		if openErr == nil && !pc.Input() {
			level := pc.Initial != nil && *pc.Initial == 1
			if pc.Restart == config.RestartLast {
				level = g.lastLevel(pc.Name, level)
			}
			var err error
			if out, err = sgpio.NewOutput(sgpio.Config{Name: pc.Name, Pin: pin, Output: true, Invert: pc.Invert}, level); err != nil {
				openErr = err
			} else {
				opts = append(opts, coap.WithHandler(coap.PUT, g.put(pc.Name)))
			}
		}
		res, err := srv.AddResource("gpio/"+pc.Name, opts...)
		if err != nil {
			return nil, fmt.Errorf("gpio %s: %w", pc.Name, err)
		}
		switch {
		case openErr != nil:
			log.Error("GPIO pin unusable", "pin", pc.Pin, "name", pc.Name, "err", openErr)
			res.SetFailure(openErr.Error())
		case out != nil:
			g.outputs[pc.Name] = &gpioOutput{pc: pc, out: out, res: res}
			_ = res.SetValue(levelText(out.Read()))
			log.Info("GPIO output", "name", pc.Name, "pin", fmt.Sprint(pin), "level", string(levelText(out.Read())))
		default:
			in, err := sgpio.NewInput(sgpio.Config{Name: pc.Name, Pin: pin, Pull: pulls[pc.Pull], Edge: edges[pc.Edge],
				Debounce: time.Duration(pc.Debounce), Invert: pc.Invert})
			if err != nil {
				log.Error("GPIO input unusable", "pin", pc.Pin, "err", err)
				res.SetFailure(err.Error())
				continue
			}
			_ = res.SetValue(levelText(in.Level())) // the level read at start, until Run watches it
			g.inputs = append(g.inputs, &gpioInput{name: pc.Name, in: in, res: res})
		}
	}
	return g, nil
}

var (
	pulls = map[string]gpio.Pull{config.PullUp: gpio.PullUp, config.PullDown: gpio.PullDown, config.PullNone: gpio.Float, "": gpio.Float}
	edges = map[string]gpio.Edge{config.EdgeBoth: gpio.BothEdges, config.EdgeRising: gpio.RisingEdge, config.EdgeFalling: gpio.FallingEdge, config.EdgeNone: gpio.NoEdge, "": gpio.BothEdges}
)

func levelText(l bool) []byte {
	if l {
		return []byte("1")
	}
	return []byte("0")
}

// put answers PUT on an output: 0, 1, on, off, true, false or toggle.
func (g *gpioPins) put(name string) coap.Handler {
	return func(in coap.Incoming) coap.Answer {
		level, toggle, err := sgpio.Parse(string(in.Payload))
		if err != nil {
			return coap.Answer{Code: coap.BadRequest, ContentFormat: coap.NoMediaType, Payload: []byte(err.Error())}
		}
		if level, err = g.set(name, level, toggle); err != nil {
			return coap.Answer{Code: coap.Unavailable, ContentFormat: coap.NoMediaType, Payload: []byte(err.Error())}
		}
		return coap.Answer{Code: coap.Changed, ContentFormat: coap.TextPlain, Payload: levelText(level)}
	}
}

// set drives the output name to level (or toggles it), as a PUT of /gpio/<name> and an
// LwM2M Write of its Digital Output State do, and returns the level the pin has then.
func (g *gpioPins) set(name string, level, toggle bool) (bool, error) {
	o := g.outputs[name]
	if o == nil {
		return false, fmt.Errorf("gpio %s: not an output in use", name)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var err error
	if toggle {
		level, err = o.out.Toggle()
	} else {
		err = o.out.Set(level)
	}
	if err != nil {
		return false, err
	}
	level = o.out.Read() // the level the pin has, read back where the pin can tell
	_ = o.res.SetValue(levelText(level))
	g.tell(name, level)
	if o.pc.Restart == config.RestartLast {
		if err := g.keepLevel(name, level); err != nil {
			g.log.Warn("GPIO level not kept", "name", name, "err", err)
		}
	}
	return level, nil
}

// watchLevels has fn told every level an input reads and an output is set to, from now on.
func (g *gpioPins) watchLevels(fn func(name string, level bool)) { g.onLevel.Store(&fn) }

func (g *gpioPins) tell(name string, level bool) {
	if fn := g.onLevel.Load(); fn != nil {
		(*fn)(name, level)
	}
}

// levels are the pins' levels now, by name, for those that can be read.
func (g *gpioPins) levels() map[string]bool {
	m := map[string]bool{}
	for name, o := range g.outputs {
		m[name] = o.out.Read()
	}
	for _, gi := range g.inputs {
		m[gi.name] = gi.in.Level()
	}
	return m
}

func (g *gpioPins) levelFile(name string) string { return filepath.Join(g.stateDir, "gpio-"+name) }

func (g *gpioPins) lastLevel(name string, def bool) bool {
	if g.stateDir == "" {
		return def
	}
	b, err := os.ReadFile(g.levelFile(name))
	if err != nil {
		return def
	}
	return strings.TrimSpace(string(b)) == "1"
}

func (g *gpioPins) keepLevel(name string, level bool) error {
	if g.stateDir == "" {
		return nil
	}
	tmp := g.levelFile(name) + ".tmp"
	if err := os.WriteFile(tmp, levelText(level), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, g.levelFile(name))
}

// Name is the subsystem's name.
func (g *gpioPins) Name() string { return "gpio" }

// Run watches the inputs until ctx ends.
func (g *gpioPins) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, gi := range g.inputs {
		wg.Go(func() {
			_ = gi.in.Run(ctx, func(level bool, _ time.Time) {
				_ = gi.res.SetValue(levelText(level))
				g.tell(gi.name, level)
			})
		})
	}
	wg.Wait()
	return nil
}
