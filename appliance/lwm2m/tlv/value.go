package tlv

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// decodeValue decodes a TLV's value as type t (LwM2M 1.1 Core, Appendix C: big-endian
// integers of 1, 2, 4 or 8 bytes, IEEE 754 floats of 4 or 8 bytes, a boolean byte of 0 or 1,
// an object link as two 16-bit ids).
func decodeValue(t node.Type, b []byte) (node.Value, error) {
	switch t {
	case node.TypeString:
		if !utf8.Valid(b) {
			return node.Value{}, fmt.Errorf("string of %d bytes is not UTF-8", len(b))
		}
		return node.StringValue(string(b)), nil
	case node.TypeOpaque:
		return node.OpaqueValue(b), nil
	case node.TypeInteger, node.TypeTime, node.TypeUnsigned:
		n, err := integer(t, b)
		if err != nil {
			return node.Value{}, err
		}
		switch t {
		case node.TypeInteger:
			return node.IntValue(n), nil
		case node.TypeTime:
			return node.UnixTimeValue(n), nil
		}
		return node.UintValue(unsigned(b)), nil
	case node.TypeFloat:
		var f float64
		switch len(b) {
		case 4:
			f = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
		case 8:
			f = math.Float64frombits(binary.BigEndian.Uint64(b))
		default:
			return node.Value{}, fmt.Errorf("float of %d bytes: a float has 4 or 8", len(b))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return node.Value{}, fmt.Errorf("float %v is not a finite number, which SenML could not carry", f)
		}
		return node.FloatValue(f), nil
	case node.TypeBoolean:
		if len(b) != 1 || b[0] > 1 {
			return node.Value{}, fmt.Errorf("boolean % x: a boolean is one byte, 00 or 01", b)
		}
		return node.BoolValue(b[0] == 1), nil
	case node.TypeObjLink:
		if len(b) != 4 {
			return node.Value{}, fmt.Errorf("objlnk of %d bytes: an object link has 4", len(b))
		}
		return node.LinkValue(binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])), nil
	}
	return node.Value{}, fmt.Errorf("declared type %s has no TLV form", t)
}

// integer decodes a signed integer of 1, 2, 4 or 8 bytes; for t unsigned it only checks the
// length.
func integer(t node.Type, b []byte) (int64, error) {
	switch len(b) {
	case 1:
		return int64(int8(b[0])), nil
	case 2:
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case 8:
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("%s of %d bytes: it has 1, 2, 4 or 8", t, len(b))
}

// unsigned decodes an unsigned integer whose length integer checked.
func unsigned(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

// appendValue appends v's TLV value form, integers in the fewest of 1, 2, 4 or 8 bytes that
// hold them and floats in 4 bytes when a float32 keeps the value.
func appendValue(b []byte, v node.Value) ([]byte, error) {
	switch v.Type() {
	case node.TypeString:
		s := v.String()
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("string %q is not UTF-8", s)
		}
		return append(b, s...), nil
	case node.TypeOpaque:
		return append(b, v.Opaque()...), nil
	case node.TypeInteger, node.TypeTime:
		n := v.Int()
		switch {
		case n == int64(int8(n)):
			return append(b, byte(n)), nil
		case n == int64(int16(n)):
			return binary.BigEndian.AppendUint16(b, uint16(n)), nil
		case n == int64(int32(n)):
			return binary.BigEndian.AppendUint32(b, uint32(n)), nil
		}
		return binary.BigEndian.AppendUint64(b, uint64(n)), nil
	case node.TypeUnsigned:
		n := v.Uint()
		switch {
		case n <= math.MaxUint8:
			return append(b, byte(n)), nil
		case n <= math.MaxUint16:
			return binary.BigEndian.AppendUint16(b, uint16(n)), nil
		case n <= math.MaxUint32:
			return binary.BigEndian.AppendUint32(b, uint32(n)), nil
		}
		return binary.BigEndian.AppendUint64(b, n), nil
	case node.TypeFloat:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("float %v is not a finite number", f)
		}
		if f32 := float32(f); float64(f32) == f {
			return binary.BigEndian.AppendUint32(b, math.Float32bits(f32)), nil
		}
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f)), nil
	case node.TypeBoolean:
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case node.TypeObjLink:
		o, i := v.Link()
		return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, o), i), nil
	}
	return nil, fmt.Errorf("a value of type %s has no TLV form", v.Type())
}
