package senml

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"

	"github.com/fxamacker/cbor/v2"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// The SenML CBOR labels LwM2M uses (RFC 8428 §6, Table 4), and "vlo", which LwM2M adds as a
// text label (LwM2M 1.1 Core §7.4.4, Table 7.4.4-4).
const (
	labelBVer = -1
	labelBN   = -2
	labelBT   = -3
	labelN    = 0
	labelV    = 2
	labelVS   = 3
	labelVB   = 4
	labelT    = 6
	labelVD   = 8
	labelVLO  = "vlo"
)

// otherLabels names the RFC 8428 labels LwM2M does not use.
var otherLabels = map[int64]string{-4: "bu", -5: "bv", -6: "bs", 1: "u", 5: "s", 7: "ut"}

// CBOR major types.
const (
	majorUint   = 0
	majorNeg    = 1
	majorBytes  = 2
	majorText   = 3
	majorArray  = 4
	majorMap    = 5
	float64Head = 0xfb
)

// EncodeCBOR encodes p as SenML CBOR, with the labels in the specification's order (bn, bt,
// n, value, t), integers and times as CBOR integers, floats as 8-byte floats, and bt and t as
// integers when they are whole seconds.
func EncodeCBOR(p Pack) ([]byte, error) {
	es, err := entries(p)
	if err != nil {
		return nil, fmt.Errorf("senml cbor: %w", err)
	}
	b := appendHead(nil, majorArray, uint64(len(es)))
	for _, e := range es {
		pairs := 1
		for _, has := range []bool{e.hasBN, e.hasBT, e.hasN, e.hasT} {
			if has {
				pairs++
			}
		}
		b = appendHead(b, majorMap, uint64(pairs))
		if e.hasBN {
			b = appendText(appendInt(b, labelBN), e.bn)
		}
		if e.hasBT {
			b = appendTime(appendInt(b, labelBT), e.bt)
		}
		if e.hasN {
			b = appendText(appendInt(b, labelN), e.n)
		}
		switch v := e.value; v.Type() {
		case node.TypeString:
			b = appendText(appendInt(b, labelVS), v.String())
		case node.TypeBoolean:
			b = append(appendInt(b, labelVB), map[bool]byte{false: 0xf4, true: 0xf5}[v.Bool()])
		case node.TypeOpaque:
			o := v.Opaque()
			b = append(appendHead(appendInt(b, labelVD), majorBytes, uint64(len(o))), o...)
		case node.TypeObjLink:
			b = appendText(appendText(b, labelVLO), v.String())
		case node.TypeUnsigned:
			b = appendHead(appendInt(b, labelV), majorUint, v.Uint())
		case node.TypeFloat:
			b = appendFloat(appendInt(b, labelV), v.Float())
		default: // integer, time
			b = appendInt(appendInt(b, labelV), v.Int())
		}
		if e.hasT {
			b = appendTime(appendInt(b, labelT), e.t)
		}
	}
	return b, nil
}

// appendHead appends a CBOR head: the major type and the argument in the fewest bytes.
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= math.MaxUint8:
		return append(b, m|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

func appendInt(b []byte, i int64) []byte {
	if i < 0 {
		return appendHead(b, majorNeg, uint64(-1-i))
	}
	return appendHead(b, majorUint, uint64(i))
}

func appendText(b []byte, s string) []byte {
	return append(appendHead(b, majorText, uint64(len(s))), s...)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, float64Head), math.Float64bits(f))
}

// appendTime appends a time as an integer when it is whole seconds (Table 7.4.4-3 writes bt
// 25462634 and t -5 so), else as a float.
func appendTime(b []byte, t float64) []byte {
	if t == math.Trunc(t) && t >= -(1<<63) && t < 1<<63 {
		return appendInt(b, int64(t))
	}
	return appendFloat(b, t)
}

// DecodeCBOR decodes a SenML CBOR payload sent to path at, with the types typeOf declares,
// under DecodeJSON's rules for labels. Labels may come in any order and numbers in any CBOR
// form (an integer 1 as 01, f93c00 or fb3ff0000000000000).
func DecodeCBOR(b []byte, at node.Path, typeOf node.TypeOf) (Pack, error) {
	dm, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF}.DecMode()
	if err != nil {
		return Pack{}, fmt.Errorf("senml cbor: %w", err)
	}
	var raw []map[any]any
	if err := dm.Unmarshal(b, &raw); err != nil {
		return Pack{}, fmt.Errorf("senml cbor: %w", err)
	}
	fs := make([]fields, len(raw))
	for i, m := range raw {
		if err := fs[i].fromCBOR(m); err != nil {
			return Pack{}, fmt.Errorf("senml cbor: record %d: %w", i, err)
		}
	}
	p, err := resolve(fs, at, typeOf)
	if err != nil {
		return Pack{}, fmt.Errorf("senml cbor: %w", err)
	}
	return p, nil
}

func (f *fields) fromCBOR(m map[any]any) error {
	for k, v := range m {
		var label any = k
		if u, ok := k.(uint64); ok && u <= math.MaxInt64 {
			label = int64(u) // positive labels decode as uint64, negative ones as int64
		}
		var err error
		switch label {
		case int64(labelBN):
			f.bn, err = cborAs[string](v)
		case int64(labelN):
			f.n, err = cborAs[string](v)
		case int64(labelBT):
			f.bt, err = cborFloat(v)
		case int64(labelT):
			f.t, err = cborFloat(v)
		case int64(labelV):
			f.values++
			f.v, err = cborNumber(v)
		case int64(labelVS):
			f.values++
			f.vs, err = cborAs[string](v)
		case int64(labelVB):
			f.values++
			f.vb, err = cborAs[bool](v)
		case int64(labelVD):
			f.values++
			var d *[]byte
			if d, err = cborAs[[]byte](v); err == nil {
				f.vd, f.hasVD = *d, true
			}
		case int64(labelBVer):
			var ver *float64
			if ver, err = cborFloat(v); err == nil && *ver > 10 {
				err = fmt.Errorf("version %v: this decoder reads SenML version 10 (RFC 8428 §4.4)", *ver)
			}
		case labelVLO:
			f.values++
			f.vlo, err = cborAs[string](v)
		default:
			name, _ := label.(string)
			if i, ok := label.(int64); ok {
				name = otherLabels[i]
			}
			if why := unsupported(name); why != "" {
				return fmt.Errorf("label %v (%s): %s", k, name, why)
			}
		}
		if err != nil {
			return fmt.Errorf("label %v: %w", k, err)
		}
	}
	return nil
}

func cborAs[T any](v any) (*T, error) {
	t, ok := v.(T)
	if !ok {
		return nil, fmt.Errorf("%T, where a %T is expected", v, t)
	}
	return &t, nil
}

// cborNumber takes a CBOR integer or float as a number.
func cborNumber(v any) (*number, error) {
	switch v := v.(type) {
	case uint64:
		return &number{isInt: true, mag: v}, nil
	case int64:
		return &number{isInt: true, neg: true, mag: uint64(-1 - v)}, nil
	case float64:
		return &number{f: v}, nil
	case big.Int:
		if v.Sign() < 0 && v.BitLen() <= 65 {
			// -2^64 .. -2^63-1: CBOR's negative integers reach below int64's.
			mag := new(big.Int).Neg(&v)
			mag.Sub(mag, big.NewInt(1))
			if mag.IsUint64() {
				return &number{isInt: true, neg: true, mag: mag.Uint64()}, nil
			}
		}
		return nil, fmt.Errorf("integer %s is out of the range of 64 bits", &v)
	}
	return nil, fmt.Errorf("%T, where a number is expected", v)
}

// cborFloat takes a CBOR number as a time, in seconds.
func cborFloat(v any) (*float64, error) {
	n, err := cborNumber(v)
	if err != nil {
		return nil, err
	}
	f := n.f
	if n.isInt {
		f = float64(n.mag)
		if n.neg {
			f = -1 - f
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("time %v is not a finite number", f)
	}
	return &f, nil
}
