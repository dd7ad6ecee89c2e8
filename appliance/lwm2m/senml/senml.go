// Package senml encodes and decodes LwM2M's SenML payloads: SenML JSON
// (application/senml+json, CoAP Content-Format 110) and SenML CBOR (application/senml+cbor,
// 112), the formats LwM2M 1.1 added for reads, writes, observations and Send (LwM2M 1.1 Core
// §7.4.4, on RFC 8428). Unlike TLV they name each value by its path as text, so a server can
// read them without an object model, and they carry a time per value.
//
// LwM2M uses SenML in a particular way, and servers compare bytes: the first record's base
// name ("bn") is the path the request named, with a "/" after it ("/3/0/"), and each record's
// name ("n") is the rest of its path ("6/1"); a Read of a single resource has bn "/3/0/0" and
// no name. Numbers go in "v" (integers as integers), strings in "vs", booleans in "vb",
// opaque bytes in "vd", object links in "vlo" ("66:0"). In CBOR the labels are written in the
// order bn, bt, n, the value, t, as the specification's tables show, which is not RFC 8949's
// sorted order: this package writes CBOR itself, and pigw's sensors/senml (sorted, integers
// as half floats) is not used for LwM2M.
//
// SenML has numbers but not integer and float types, so the decoders, like TLV's, are told
// the path the request named and each resource's declared type (a node.TypeOf). They take any
// label order and any JSON or CBOR form of a number that holds a value of the declared type.
package senml

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// Pack is a SenML payload of LwM2M records.
type Pack struct {
	// Base is the path the request named; the records are at or under it. The root means
	// records from anywhere (a composite operation): no base name, whole paths as names.
	Base node.Path
	// BaseTime, when not 0, is written as the first record's "bt", and the records' times
	// relative to it. Decoding sets it from the first record's "bt".
	BaseTime float64
	Records  []node.Record
}

// entry is one record as the formats write it, in their order: bn, bt, n, value, t.
type entry struct {
	bn, n       string
	hasBN, hasN bool
	bt, t       float64
	hasBT, hasT bool
	value       node.Value
}

// entries turns p into what the formats write.
func entries(p Pack) ([]entry, error) {
	if len(p.Records) == 0 {
		return nil, fmt.Errorf("%s: no records (a pack has at least one)", p.Base)
	}
	es := make([]entry, len(p.Records))
	base := p.Base.String()
	single := len(p.Records) == 1 && p.Records[0].Path == p.Base && p.Base.Depth() > 0
	for i, r := range p.Records {
		e := &es[i]
		if err := checkValue(r.Value); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Path, err)
		}
		if !r.Path.Under(p.Base) || r.Path.Depth() < 3 {
			return nil, fmt.Errorf("%s: record %s is not a resource or resource instance under it", p.Base, r.Path)
		}
		e.value = r.Value
		switch {
		case single:
		case p.Base.Depth() == 0:
			e.n, e.hasN = r.Path.String(), true
		case r.Path == p.Base:
			return nil, fmt.Errorf("%s: a record at the base path and others under it", p.Base)
		default:
			e.n, e.hasN = strings.TrimPrefix(r.Path.String(), base+"/"), true
		}
		if math.IsNaN(r.Time) || math.IsInf(r.Time, 0) {
			return nil, fmt.Errorf("%s: time %v is not a finite number", r.Path, r.Time)
		}
		if t := r.Time - p.BaseTime; t != 0 {
			e.t, e.hasT = t, true
		}
	}
	if p.Base.Depth() > 0 {
		es[0].bn, es[0].hasBN = base, true
		if !single {
			es[0].bn += "/"
		}
	}
	if p.BaseTime != 0 {
		if math.IsNaN(p.BaseTime) || math.IsInf(p.BaseTime, 0) {
			return nil, fmt.Errorf("%s: base time %v is not a finite number", p.Base, p.BaseTime)
		}
		es[0].bt, es[0].hasBT = p.BaseTime, true
	}
	return es, nil
}

// checkValue refuses what SenML cannot carry.
func checkValue(v node.Value) error {
	switch v.Type() {
	case node.TypeNone:
		return fmt.Errorf("no value (an empty instance or multiple resource has no SenML form)")
	case node.TypeFloat:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("float %v is not a finite number", f)
		}
	}
	return nil
}

// number is a SenML "v" as a format decoded it.
type number struct {
	isInt bool   // an integer: neg and mag
	neg   bool   // negative: the value is -1 - mag (CBOR's form, so -2^64 fits)
	mag   uint64 // magnitude
	f     float64
}

// toValue gives n the declared type t.
func (n number) toValue(t node.Type) (node.Value, error) {
	switch t {
	case node.TypeFloat:
		if !n.isInt {
			if math.IsNaN(n.f) || math.IsInf(n.f, 0) {
				return node.Value{}, fmt.Errorf("float %v is not a finite number", n.f)
			}
			return node.FloatValue(n.f), nil
		}
		if n.neg {
			return node.FloatValue(-1 - float64(n.mag)), nil
		}
		return node.FloatValue(float64(n.mag)), nil
	case node.TypeInteger, node.TypeTime, node.TypeUnsigned:
		if !n.isInt {
			// 1.0, 1e3 or a CBOR half float 1: an integer in another form.
			if n.f != math.Trunc(n.f) || n.f < -(1<<63) || n.f >= 1<<64 || math.IsNaN(n.f) {
				return node.Value{}, fmt.Errorf("number %v is not a whole %s", n.f, t)
			}
			n.isInt, n.neg = true, n.f < 0
			if n.neg {
				n.mag = uint64(-n.f) - 1 // -n.f is exact; -1-n.f could round
			} else {
				n.mag = uint64(n.f)
			}
		}
		if t == node.TypeUnsigned {
			if n.neg {
				return node.Value{}, fmt.Errorf("number -1-%d is below 0, where an unsigned integer is declared", n.mag)
			}
			return node.UintValue(n.mag), nil
		}
		if n.mag > math.MaxInt64 {
			return node.Value{}, fmt.Errorf("number %s is out of the range of a 64-bit %s", n, t)
		}
		i := int64(n.mag)
		if n.neg {
			i = -1 - i
		}
		if t == node.TypeTime {
			return node.UnixTimeValue(i), nil
		}
		return node.IntValue(i), nil
	}
	return node.Value{}, fmt.Errorf(`a number ("v") where the resource is declared %s`, t)
}

func (n number) String() string {
	switch {
	case !n.isInt:
		return strconv.FormatFloat(n.f, 'g', -1, 64)
	case n.neg:
		return "-1-" + strconv.FormatUint(n.mag, 10)
	}
	return strconv.FormatUint(n.mag, 10)
}

// parseLink parses an object link as "vlo" writes it: "66:0".
func parseLink(s string) (node.Value, error) {
	o, i, ok := strings.Cut(s, ":")
	p, err := node.ParsePath("/" + o + "/" + i)
	if !ok || err != nil {
		return node.Value{}, fmt.Errorf(`object link %q is not "object:instance" with ids from 0 to 65535`, s)
	}
	return node.LinkValue(p.ID(0), p.ID(1)), nil
}
