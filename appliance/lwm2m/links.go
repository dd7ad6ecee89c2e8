package lwm2m

import (
	"fmt"
	"strings"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// rootLink opens the Register payload: the root of the LwM2M objects (rt="oma.lwm2m") and the
// Content-Formats pigw reads and writes beyond the mandatory text/plain, opaque and
// link-format (LwM2M 1.1 Core §6.2.1, FLEET.md).
const rootLink = `</>;rt="oma.lwm2m";ct="110 112 11542"`

// Links is the payload of a Register (and of an Update after the objects changed), in CoRE
// link format: the root link, then for each object its link when it has a version other
// than 1.0 (</1>;ver=1.1: the version goes on the object, never on an instance) or no
// instances, and its instances' links. Object 0 is never in a tree.
func (t *Tree) Links() string {
	var b strings.Builder
	b.WriteString(rootLink)
	for _, o := range t.objs {
		if v := o.Version; v != "" && v != "1.0" {
			fmt.Fprintf(&b, ",</%d>;ver=%s", o.ID, v)
		} else if len(o.Instances) == 0 {
			fmt.Fprintf(&b, ",</%d>", o.ID)
		}
		for _, in := range o.Instances {
			fmt.Fprintf(&b, ",</%d/%d>", o.ID, in.ID)
		}
	}
	return b.String()
}

// discoverLocked is the answer to a Discover of p (LwM2M 1.1 Core §6.3.4): for an object, its
// link with its version and attributes, then the links of its instances and resources; for an
// instance, its link with its attributes, then its resources' links with theirs; for a
// resource, its link with the attributes that apply to it, its own and those it inherits.
// A multiple resource's link carries dim, its number of instances.
func (t *Tree) discoverLocked(p node.Path) string {
	var b strings.Builder
	o := t.object(p.ID(0))
	resLink := func(in *Instance, r *Resource, a attrs) {
		fmt.Fprintf(&b, "</%d/%d/%d>", o.ID, in.ID, r.ID)
		if r.Multiple && r.Ops&R != 0 {
			if vs, err := r.ReadAll(); err == nil {
				fmt.Fprintf(&b, ";dim=%d", len(vs))
			}
		}
		a.link(&b)
	}
	switch p.Depth() {
	case 1:
		fmt.Fprintf(&b, "</%d>", o.ID)
		if v := o.Version; v != "" && v != "1.0" {
			fmt.Fprintf(&b, ";ver=%s", v)
		}
		t.attrs[p].link(&b)
		for _, in := range o.Instances {
			fmt.Fprintf(&b, ",</%d/%d>", o.ID, in.ID)
			for i := range in.Resources {
				b.WriteByte(',')
				resLink(in, &in.Resources[i], nil)
			}
		}
	case 2:
		in := o.instance(p.ID(1))
		fmt.Fprintf(&b, "<%s>", p)
		t.attrs[p].link(&b)
		for i := range in.Resources {
			r := &in.Resources[i]
			b.WriteByte(',')
			resLink(in, r, t.attrs[node.Resource(o.ID, in.ID, r.ID)])
		}
	case 3:
		in := o.instance(p.ID(1))
		resLink(in, in.resource(p.ID(2)), t.effectiveLocked(p))
	}
	return b.String()
}
