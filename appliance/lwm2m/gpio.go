package lwm2m

import (
	"fmt"
	"sync"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// The IPSO digital objects and their state resources.
const (
	DigitalInputObject  = 3200
	DigitalOutputObject = 3201
	DigitalInputState   = 5500
	DigitalOutputState  = 5550
)

// Pin is one configured GPIO pin.
type Pin struct {
	Name   string // as the config names it
	Output bool
	// Set drives an output to a level the server wrote, as a PUT of /gpio/<name> does; an
	// error refuses the Write (wrap ErrBadValue for 4.00).
	Set func(level bool) error
}

// GPIO are object 3200 (Digital Input) with an instance per input pin and 3201 (Digital
// Output) with one per output, numbered in the order given. The appliance reports every
// level it sees or sets (Level); a Write of 5550 goes through Set.
type GPIO struct {
	objs []*Object
	pins map[string]*pinInstance
}

type pinInstance struct {
	obj   *Object
	id    uint16
	state uint16

	mu    sync.Mutex
	level bool
	known bool
}

// NewGPIO makes the objects of the pins; an object without pins is left out.
func NewGPIO(pins []Pin) (*GPIO, error) {
	g := &GPIO{pins: map[string]*pinInstance{}}
	in, out := &Object{ID: DigitalInputObject}, &Object{ID: DigitalOutputObject}
	for _, p := range pins {
		if g.pins[p.Name] != nil {
			return nil, fmt.Errorf("lwm2m gpio: pin %q given twice", p.Name)
		}
		pi := &pinInstance{obj: in, state: DigitalInputState}
		if p.Output {
			if p.Set == nil {
				return nil, fmt.Errorf("lwm2m gpio: output %q without a Set function", p.Name)
			}
			pi.obj, pi.state = out, DigitalOutputState
		}
		pi.id = uint16(len(pi.obj.Instances))
		pi.obj.Instances = append(pi.obj.Instances, &Instance{ID: pi.id, Resources: pi.resources(p)})
		g.pins[p.Name] = pi
	}
	for _, o := range []*Object{in, out} {
		if len(o.Instances) > 0 {
			g.objs = append(g.objs, o)
		}
	}
	return g, nil
}

// Objects are the GPIO objects, for the Tree.
func (g *GPIO) Objects() []*Object { return g.objs }

func (pi *pinInstance) resources(p Pin) []Resource {
	read := func() (node.Value, error) {
		pi.mu.Lock()
		defer pi.mu.Unlock()
		if !pi.known {
			return node.Value{}, fmt.Errorf("%w: pin %s: no level yet", ErrUnavailable, p.Name)
		}
		return node.BoolValue(pi.level), nil
	}
	state := Resource{ID: DigitalInputState, Name: "Digital Input State", Type: node.TypeBoolean, Ops: R, Read: read}
	if p.Output {
		state = Resource{ID: DigitalOutputState, Name: "Digital Output State", Type: node.TypeBoolean, Ops: RW, Read: read,
			Write: func(v node.Value) error {
				if err := p.Set(v.Bool()); err != nil {
					return err
				}
				pi.set(v.Bool())
				return nil
			}}
	}
	return []Resource{state,
		{ID: ApplicationType, Name: "Application Type", Type: node.TypeString, Ops: R, Read: constant(node.StringValue(p.Name))}}
}

func (pi *pinInstance) set(level bool) {
	pi.mu.Lock()
	pi.level, pi.known = level, true
	pi.mu.Unlock()
}

// Level reports a pin's level (an input's edge, an output set through CoAP or LwM2M) and
// notifies its observers.
func (g *GPIO) Level(name string, level bool) error {
	pi := g.pins[name]
	if pi == nil {
		return fmt.Errorf("lwm2m gpio: no pin %q", name)
	}
	pi.set(level)
	pi.obj.Changed(pi.id, pi.state)
	return nil
}
