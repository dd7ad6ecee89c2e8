package lwm2m

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// Op is what the server may do with a resource, as the object tables of the specification
// write it.
type Op uint8

const (
	R  Op = 1 << iota // Read (and Observe)
	W                 // Write
	E                 // Execute
	RW = R | W
)

func (o Op) String() string {
	s := ""
	for _, c := range []struct {
		op   Op
		name string
	}{{R, "R"}, {W, "W"}, {E, "E"}} {
		if o&c.op != 0 {
			s += c.name
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

// ErrBadValue marks an error of a Write or Execute function that is the request's fault (a
// lifetime out of range, arguments that make no sense): the server gets 4.00 with its text.
// Other errors answer 5.00.
var ErrBadValue = errors.New("bad value")

// ErrNotAllowed marks an error of a Write or Execute function that the object's state
// refuses now (Firmware Update's Update with no package downloaded): 4.05 with its text.
var ErrNotAllowed = errors.New("not allowed now")

// ErrUnavailable marks a Read function's error for a value that does not exist now (a sensor
// with no reading yet or failing): 5.03 with its text. Any Read error answers so.
var ErrUnavailable = errors.New("unavailable")

// Resource is one resource of an instance. A single resource has Read, a multiple resource
// ReadAll; Write and Execute go with W and E. The functions run on the goroutine that serves
// the request, so they answer at once. A Read function must not call Changed; Write and
// Execute functions may (Reset Min/Max changes two other resources).
type Resource struct {
	ID       uint16
	Name     string // as the object's table names it, for errors and the README
	Type     node.Type
	Ops      Op
	Multiple bool

	Read    func() (node.Value, error)
	ReadAll func() ([]node.Value, error) // a multiple resource: element i is resource instance i
	Write   func(node.Value) error
	Execute func(args string) error
	// Blocks takes a write-only opaque resource's Write block by block, as the blocks arrive
	// (Firmware Update's Package: a bundle larger than memory). It replaces Write; such a
	// resource is written alone, as application/octet-stream.
	Blocks coap.BlockHandler
}

// Instance is one instance of an object.
type Instance struct {
	ID        uint16
	Resources []Resource
}

// Object is an object with its instances, fixed once it is in a Tree: LwM2M's Create and
// Delete are not offered.
type Object struct {
	ID uint16
	// Version is the object's version when it is not 1.0, as the Register's object link
	// carries it ("1.1").
	Version   string
	Instances []*Instance

	changed atomic.Pointer[func(node.Path)] // set by the Tree that holds the object
}

// Changed tells the Tree holding o that a resource's value changed outside a Write (a new
// reading): its observers, and those of its instance and object, are notified as their
// attributes say. Before o is in a Tree it does nothing.
func (o *Object) Changed(instance, resource uint16) {
	if fn := o.changed.Load(); fn != nil {
		(*fn)(node.Resource(o.ID, instance, resource))
	}
}

// check reports what is missing or contradictory in o.
func (o *Object) check() error {
	if o.ID == 0 {
		return errors.New("object 0 (Security) is the bootstrap's, never served")
	}
	if o.ID == 65535 {
		return errors.New("object 65535 is reserved")
	}
	seen := map[uint16]bool{}
	for _, in := range o.Instances {
		if seen[in.ID] || in.ID == 65535 {
			return fmt.Errorf("instance %d: a second one, or the reserved 65535", in.ID)
		}
		seen[in.ID] = true
		rs := map[uint16]bool{}
		for _, r := range in.Resources {
			if rs[r.ID] {
				return fmt.Errorf("/%d/%d/%d: a second resource %d", o.ID, in.ID, r.ID, r.ID)
			}
			rs[r.ID] = true
			if err := r.check(); err != nil {
				return fmt.Errorf("/%d/%d/%d (%s): %w", o.ID, in.ID, r.ID, r.Name, err)
			}
		}
	}
	return nil
}

func (r *Resource) check() error {
	switch {
	case r.Ops == 0 || r.Ops&^(R|W|E) != 0:
		return fmt.Errorf("operations %s: want R, W, E or a mix", r.Ops)
	case r.Ops&E != 0 && r.Ops != E:
		return fmt.Errorf("operations %s: an executable resource has no value", r.Ops)
	case r.Ops&E != 0 && r.Execute == nil:
		return errors.New("E without an Execute function")
	case r.Ops == E:
		return nil
	case r.Type == node.TypeNone || r.Type > node.TypeObjLink:
		return fmt.Errorf("type %s: a resource with a value needs one", r.Type)
	case r.Ops&R != 0 && !r.Multiple && r.Read == nil, r.Ops&R != 0 && r.Multiple && r.ReadAll == nil:
		return errors.New("R without its Read (single) or ReadAll (multiple) function")
	case r.Ops&W != 0 && r.Multiple:
		return errors.New("W on a multiple resource: not offered")
	case r.Blocks != nil && (r.Ops != W || r.Type != node.TypeOpaque || r.Write != nil):
		return errors.New("Blocks: only for a write-only opaque resource, instead of Write")
	case r.Ops&W != 0 && r.Write == nil && r.Blocks == nil:
		return errors.New("W without a Write or Blocks function")
	}
	return nil
}

// numeric tells whether gt, lt and st apply to values of type t.
func numeric(t node.Type) bool {
	return t == node.TypeInteger || t == node.TypeUnsigned || t == node.TypeFloat
}

// number is v as a float for the gt, lt and st comparisons.
func number(v node.Value) float64 {
	switch v.Type() {
	case node.TypeInteger:
		return float64(v.Int())
	case node.TypeUnsigned:
		return float64(v.Uint())
	}
	return v.Float()
}
