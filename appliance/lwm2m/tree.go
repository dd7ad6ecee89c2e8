package lwm2m

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// Tree is the objects one LwM2M client offers its server, and their attributes.
type Tree struct {
	objs []*Object // by id
	log  *slog.Logger

	mu    sync.Mutex
	attrs map[node.Path]attrs   // Write-Attributes, per level
	paths map[node.Path]*served // every object, instance and resource, once NewServer ran
	srv   *coap.Server          // where they are served
}

// NewTree checks the objects and makes a tree of them, in the order of their ids. An object
// belongs to one tree. log nil means slog.Default().
func NewTree(log *slog.Logger, objs ...*Object) (*Tree, error) {
	if log == nil {
		log = slog.Default()
	}
	t := &Tree{log: log, attrs: map[node.Path]attrs{}, paths: map[node.Path]*served{}}
	for _, o := range objs {
		if err := o.check(); err != nil {
			return nil, fmt.Errorf("lwm2m object %d: %w", o.ID, err)
		}
		if t.object(o.ID) != nil {
			return nil, fmt.Errorf("lwm2m object %d: given twice", o.ID)
		}
		t.objs = append(t.objs, o)
	}
	slices.SortFunc(t.objs, func(a, b *Object) int { return int(a.ID) - int(b.ID) })
	for _, o := range t.objs {
		slices.SortFunc(o.Instances, func(a, b *Instance) int { return int(a.ID) - int(b.ID) })
		fn := t.changed
		if !o.changed.CompareAndSwap(nil, &fn) {
			return nil, fmt.Errorf("lwm2m object %d: in another tree already", o.ID)
		}
	}
	return t, nil
}

func (t *Tree) object(id uint16) *Object {
	for _, o := range t.objs {
		if o.ID == id {
			return o
		}
	}
	return nil
}

func (o *Object) instance(id uint16) *Instance {
	for _, in := range o.Instances {
		if in.ID == id {
			return in
		}
	}
	return nil
}

func (in *Instance) resource(id uint16) *Resource {
	for i := range in.Resources {
		if in.Resources[i].ID == id {
			return &in.Resources[i]
		}
	}
	return nil
}

// resource is the resource at /O/I/R (or the resource of /O/I/R/RI), nil when there is none.
func (t *Tree) resource(p node.Path) *Resource {
	if p.Depth() < 3 {
		return nil
	}
	o := t.object(p.ID(0))
	if o == nil {
		return nil
	}
	in := o.instance(p.ID(1))
	if in == nil {
		return nil
	}
	return in.resource(p.ID(2))
}

// typeOf is the declared type of a resource, for the decoders.
func (t *Tree) typeOf(p node.Path) node.Type {
	if r := t.resource(p); r != nil && r.Ops != E {
		return r.Type
	}
	return node.TypeNone
}

// read returns the readable values at or under p. A resource's read error is returned; an
// instance or object leaves a resource that cannot be read now out, and an object shows an
// instance with nothing readable as an empty one.
func (t *Tree) read(p node.Path) ([]node.Record, error) {
	o := t.object(p.ID(0))
	switch p.Depth() {
	case 1:
		var recs []node.Record
		for _, in := range o.Instances {
			rs := readInstance(o.ID, in)
			if len(rs) == 0 {
				rs = []node.Record{{Path: node.Instance(o.ID, in.ID)}}
			}
			recs = append(recs, rs...)
		}
		return recs, nil
	case 2:
		return readInstance(o.ID, o.instance(p.ID(1))), nil
	}
	r := t.resource(p)
	return readResource(p, r)
}

func readInstance(o uint16, in *Instance) []node.Record {
	var recs []node.Record
	for i := range in.Resources {
		r := &in.Resources[i]
		if r.Ops&R == 0 {
			continue
		}
		rs, err := readResource(node.Resource(o, in.ID, r.ID), r)
		if err == nil {
			recs = append(recs, rs...)
		}
	}
	return recs
}

func readResource(p node.Path, r *Resource) ([]node.Record, error) {
	if !r.Multiple {
		v, err := r.Read()
		if err != nil {
			return nil, err
		}
		if v.Type() != r.Type {
			return nil, fmt.Errorf("%s: read a %s, declared %s", p, v.Type(), r.Type)
		}
		return []node.Record{{Path: p, Value: v}}, nil
	}
	vs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return []node.Record{{Path: p}}, nil // an empty multiple resource
	}
	recs := make([]node.Record, len(vs))
	for i, v := range vs {
		if v.Type() != r.Type {
			return nil, fmt.Errorf("%s/%d: read a %s, declared %s", p, i, v.Type(), r.Type)
		}
		ri, _ := p.Child(uint16(i))
		recs[i] = node.Record{Path: ri, Value: v}
	}
	return recs, nil
}

// exists tells whether p names an object, instance or resource of the tree.
func (t *Tree) exists(p node.Path) bool {
	o := t.object(p.ID(0))
	switch {
	case p.Depth() == 0 || p.Depth() > 3 || o == nil:
		return false
	case p.Depth() == 1:
		return true
	case p.Depth() == 2:
		return o.instance(p.ID(1)) != nil
	}
	return t.resource(p) != nil
}

// walk calls fn for every object, instance and resource path, parents before children.
func (t *Tree) walk(fn func(node.Path)) {
	for _, o := range t.objs {
		fn(node.Object(o.ID))
		for _, in := range o.Instances {
			fn(node.Instance(o.ID, in.ID))
			for _, r := range in.Resources {
				fn(node.Resource(o.ID, in.ID, r.ID))
			}
		}
	}
}
