package senml

import (
	"fmt"
	"math"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// fields is one record as a format decoded it, before names and types are applied.
type fields struct {
	bn, n   *string
	bt, t   *float64
	v       *number
	vs, vlo *string
	vb      *bool
	vd      []byte
	hasVD   bool
	values  int // how many of v, vs, vb, vd, vlo
}

// unsupported says why a SenML label LwM2M does not use cannot be ignored, or "" when it can.
func unsupported(label string) string {
	switch label {
	case "bv", "bs", "s":
		return "a base value or sum would change the values, and LwM2M uses neither"
	}
	if len(label) > 0 && label[len(label)-1] == '_' {
		return "a label ending in _ must be understood (RFC 8428 §4.4), and this one is not"
	}
	return ""
}

// resolve applies base names, base times and the declared types to decoded records.
func resolve(fs []fields, at node.Path, typeOf node.TypeOf) (Pack, error) {
	p := Pack{Base: at, Records: make([]node.Record, 0, len(fs))}
	var bn string
	var bt float64
	for i, f := range fs {
		if f.bn != nil {
			bn = *f.bn
		}
		if f.bt != nil {
			bt = *f.bt
			if i == 0 {
				p.BaseTime = bt
			}
		}
		name := bn
		if f.n != nil {
			name += *f.n
		}
		path, err := node.ParsePath(name)
		if err != nil {
			return Pack{}, fmt.Errorf("record %d: name: %w", i, err)
		}
		if !path.Under(at) || path.Depth() < 3 {
			return Pack{}, fmt.Errorf("record %d: %s is not a resource or resource instance under %s", i, path, at)
		}
		v, err := value(f, typeOf(path.Prefix(3)))
		if err != nil {
			return Pack{}, fmt.Errorf("record %d: %s: %w", i, path, err)
		}
		r := node.Record{Path: path, Value: v}
		if f.t != nil || bt != 0 {
			var t float64
			if f.t != nil {
				t = *f.t
			}
			if r.Time = bt + t; math.IsInf(r.Time, 0) {
				return Pack{}, fmt.Errorf("record %d: %s: time %v + %v is not a finite number", i, path, bt, t)
			}
		}
		p.Records = append(p.Records, r)
	}
	if len(p.Records) == 0 {
		return Pack{}, fmt.Errorf("no records (a pack has at least one)")
	}
	return p, nil
}

// value is f's one value as type t.
func value(f fields, t node.Type) (node.Value, error) {
	if t == node.TypeNone {
		return node.Value{}, fmt.Errorf("no declared type (no such resource)")
	}
	if f.values != 1 {
		return node.Value{}, fmt.Errorf("%d values (v, vs, vb, vd, vlo), where a record has one", f.values)
	}
	want := func(label string, is node.Type) error {
		if t != is {
			return fmt.Errorf("%s (%s) where the resource is declared %s", label, is, t)
		}
		return nil
	}
	switch {
	case f.v != nil:
		return f.v.toValue(t)
	case f.vs != nil:
		return node.StringValue(*f.vs), want("vs", node.TypeString)
	case f.vb != nil:
		return node.BoolValue(*f.vb), want("vb", node.TypeBoolean)
	case f.hasVD:
		return node.OpaqueValue(f.vd), want("vd", node.TypeOpaque)
	}
	if err := want("vlo", node.TypeObjLink); err != nil {
		return node.Value{}, err
	}
	return parseLink(*f.vlo)
}
