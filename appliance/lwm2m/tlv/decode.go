package tlv

import (
	"fmt"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// Decode decodes a TLV payload sent to path at (a Write or a Create names it; a Read's answer
// is for it) into records, with the types typeOf declares. What the payload may hold depends
// on at's depth:
//
//   - an object (/3): object instance TLVs;
//   - an object instance (/3/0): resource and multiple resource TLVs, or one object instance
//     TLV of that instance around them;
//   - a resource (/3/0/6): its resource or multiple resource TLV, or the resource instance TLVs
//     of a multiple resource without it;
//   - a resource instance (/3/0/6/1): its resource instance TLV.
//
// A multiple resource or object instance TLV with nothing in it decodes to one record of its
// path with no value (node.TypeNone). An empty payload decodes to no records.
func Decode(b []byte, at node.Path, typeOf node.TypeOf) ([]node.Record, error) {
	d := decoder{b: b, typeOf: typeOf}
	if err := d.top(at); err != nil {
		return nil, fmt.Errorf("tlv: %s: %w", at, err)
	}
	return d.recs, nil
}

type decoder struct {
	b      []byte
	typeOf node.TypeOf
	recs   []node.Record
}

func (d *decoder) top(at node.Path) error {
	items, err := readItems(d.b, 0, len(d.b))
	if err != nil {
		return err
	}
	switch at.Depth() {
	case 1:
		for _, it := range items {
			if err := d.expect(it, objectInstance); err != nil {
				return err
			}
			if err := d.instance(it, at); err != nil {
				return err
			}
		}
		return nil
	case 2:
		if len(items) == 1 && items[0].kind == objectInstance {
			if err := d.sameID(items[0], at); err != nil {
				return err
			}
			return d.instance(items[0], at.Prefix(1))
		}
		return d.resources(items, at)
	case 3:
		if len(items) > 0 && items[0].kind == resourceInstance {
			return d.resourceInstances(items, at)
		}
		if len(items) > 1 {
			return fmt.Errorf("offset %d: a second TLV, where one resource is expected", items[1].off)
		}
		if len(items) == 1 {
			if err := d.sameID(items[0], at); err != nil {
				return err
			}
		}
		return d.resources(items, at.Prefix(2))
	case 4:
		if len(items) > 1 {
			return fmt.Errorf("offset %d: a second TLV, where one resource instance is expected", items[1].off)
		}
		if len(items) == 1 {
			if err := d.sameID(items[0], at); err != nil {
				return err
			}
		}
		return d.resourceInstances(items, at.Prefix(3))
	}
	return fmt.Errorf("a TLV payload is for an object or a node below one, not the root")
}

// expect fails unless it is of kind k.
func (d *decoder) expect(it item, k kind) error {
	if it.kind != k {
		return fmt.Errorf("offset %d: %s TLV where a %s TLV is expected", it.off, it.kind, k)
	}
	return nil
}

// sameID fails unless it is for the last id of at.
func (d *decoder) sameID(it item, at node.Path) error {
	if want := at.ID(at.Depth() - 1); it.id != want {
		return fmt.Errorf("offset %d: %s TLV for id %d, where the path names %d", it.off, it.kind, it.id, want)
	}
	return nil
}

// instance decodes an object instance TLV of object obj.
func (d *decoder) instance(it item, obj node.Path) error {
	p, _ := obj.Child(it.id)
	items, err := readItems(d.b, it.voff, it.voff+len(it.value))
	if err != nil {
		return err
	}
	if len(items) == 0 {
		d.recs = append(d.recs, node.Record{Path: p})
		return nil
	}
	return d.resources(items, p)
}

// resources decodes the resource and multiple resource TLVs of object instance inst.
func (d *decoder) resources(items []item, inst node.Path) error {
	for _, it := range items {
		p, _ := inst.Child(it.id)
		switch it.kind {
		case resourceValue:
			if err := d.value(it, p); err != nil {
				return err
			}
		case multipleResource:
			sub, err := readItems(d.b, it.voff, it.voff+len(it.value))
			if err != nil {
				return err
			}
			if len(sub) == 0 {
				d.recs = append(d.recs, node.Record{Path: p})
				continue
			}
			if err := d.resourceInstances(sub, p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("offset %d: %s TLV inside %s, where resources are expected (TLV nests object instance, multiple resource, resource instance, in that order)", it.off, it.kind, inst)
		}
	}
	return nil
}

// resourceInstances decodes the resource instance TLVs of multiple resource res.
func (d *decoder) resourceInstances(items []item, res node.Path) error {
	for _, it := range items {
		if err := d.expect(it, resourceInstance); err != nil {
			return fmt.Errorf("%w inside multiple resource %s", err, res)
		}
		p, _ := res.Child(it.id)
		if err := d.value(it, p); err != nil {
			return err
		}
	}
	return nil
}

// value decodes the value of resource or resource instance p.
func (d *decoder) value(it item, p node.Path) error {
	t := d.typeOf(p.Prefix(3))
	if t == node.TypeNone {
		return fmt.Errorf("offset %d: %s has no declared type (no such resource)", it.off, p.Prefix(3))
	}
	v, err := decodeValue(t, it.value)
	if err != nil {
		return fmt.Errorf("offset %d: %s: %w", it.voff, p, err)
	}
	d.recs = append(d.recs, node.Record{Path: p, Value: v})
	return nil
}
