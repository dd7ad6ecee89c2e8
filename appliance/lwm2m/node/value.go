package node

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Type is the data type LwM2M declares for a resource (LwM2M 1.1 Core, Appendix C).
type Type uint8

const (
	// TypeNone is no value. A record with it stands for a container with nothing in it: a
	// multiple resource with no instances, or an object instance with no resources.
	TypeNone Type = iota
	TypeString
	TypeInteger
	TypeUnsigned
	TypeFloat
	TypeBoolean
	TypeOpaque
	TypeTime
	TypeObjLink
)

var typeNames = [...]string{"none", "string", "integer", "unsigned integer", "float", "boolean", "opaque", "time", "objlnk"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type " + strconv.Itoa(int(t))
}

// TypeOf tells the type a resource's object declares for it, given the resource's path
// (/object/instance/resource; a resource instance has its resource's type), or TypeNone when
// there is no such resource. Decoders use it because the formats do not carry the types.
type TypeOf func(resource Path) Type

// Value is a typed LwM2M value. The zero Value has TypeNone. Values are comparable: two are ==
// when they have the same type and the same bits (so a float -0 is not 0).
type Value struct {
	typ Type
	n   uint64 // integer and time (as int64), unsigned, float (its bits), boolean, objlnk (o<<16|i)
	s   string // string, opaque
}

// StringValue is a UTF-8 string value.
func StringValue(s string) Value { return Value{typ: TypeString, s: s} }

// IntValue is a (signed) integer value.
func IntValue(v int64) Value { return Value{typ: TypeInteger, n: uint64(v)} }

// UintValue is an unsigned integer value (LwM2M 1.1).
func UintValue(v uint64) Value { return Value{typ: TypeUnsigned, n: v} }

// FloatValue is a float value. The encoders take only finite ones, as SenML JSON can carry
// nothing else.
func FloatValue(v float64) Value { return Value{typ: TypeFloat, n: math.Float64bits(v)} }

// BoolValue is a boolean value.
func BoolValue(v bool) Value {
	if v {
		return Value{typ: TypeBoolean, n: 1}
	}
	return Value{typ: TypeBoolean}
}

// OpaqueValue is an opaque value, a copy of b.
func OpaqueValue(b []byte) Value { return Value{typ: TypeOpaque, s: string(b)} }

// TimeValue is a time value: whole seconds since the Unix epoch, as LwM2M keeps them.
func TimeValue(t time.Time) Value { return Value{typ: TypeTime, n: uint64(t.Unix())} }

// UnixTimeValue is a time value of sec seconds since the Unix epoch.
func UnixTimeValue(sec int64) Value { return Value{typ: TypeTime, n: uint64(sec)} }

// LinkValue is an object link to instance i of object o; 65535:65535 is the null link.
func LinkValue(o, i uint16) Value { return Value{typ: TypeObjLink, n: uint64(o)<<16 | uint64(i)} }

// Type is v's type.
func (v Value) Type() Type { return v.typ }

// Int is an integer or time value (seconds), 0 for other types.
func (v Value) Int() int64 {
	if v.typ != TypeInteger && v.typ != TypeTime {
		return 0
	}
	return int64(v.n)
}

// Uint is an unsigned value, 0 for other types.
func (v Value) Uint() uint64 {
	if v.typ != TypeUnsigned {
		return 0
	}
	return v.n
}

// Float is a float value, 0 for other types.
func (v Value) Float() float64 {
	if v.typ != TypeFloat {
		return 0
	}
	return math.Float64frombits(v.n)
}

// Bool is a boolean value, false for other types.
func (v Value) Bool() bool { return v.typ == TypeBoolean && v.n == 1 }

// Opaque is a copy of an opaque value's bytes, nil for other types.
func (v Value) Opaque() []byte {
	if v.typ != TypeOpaque {
		return nil
	}
	return []byte(v.s)
}

// Time is a time value, the zero time for other types.
func (v Value) Time() time.Time {
	if v.typ != TypeTime {
		return time.Time{}
	}
	return time.Unix(int64(v.n), 0).UTC()
}

// Link is an object link's object and instance, 0:0 for other types.
func (v Value) Link() (object, instance uint16) {
	if v.typ != TypeObjLink {
		return 0, 0
	}
	return uint16(v.n >> 16), uint16(v.n)
}

// String is a string value itself, and for other types a readable form: decimal numbers,
// "true"/"false", seconds for a time, "o:i" for a link, base64 for opaque bytes.
func (v Value) String() string {
	switch v.typ {
	case TypeString:
		return v.s
	case TypeInteger, TypeTime:
		return strconv.FormatInt(int64(v.n), 10)
	case TypeUnsigned:
		return strconv.FormatUint(v.n, 10)
	case TypeFloat:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case TypeBoolean:
		return strconv.FormatBool(v.Bool())
	case TypeOpaque:
		return base64.StdEncoding.EncodeToString([]byte(v.s))
	case TypeObjLink:
		o, i := v.Link()
		return fmt.Sprintf("%d:%d", o, i)
	}
	return ""
}

// Record is one value at one path, with the time it was taken when that is known.
type Record struct {
	Path  Path
	Value Value
	// Time is SenML's time: seconds since the Unix epoch, or, below 2^28, relative to now
	// (RFC 8428 §4.5.3); 0 when not set. TLV carries no time.
	Time float64
}

func (r Record) String() string {
	if r.Time != 0 {
		return fmt.Sprintf("%s=%s(%s)@%g", r.Path, r.Value.Type(), r.Value, r.Time)
	}
	return fmt.Sprintf("%s=%s(%s)", r.Path, r.Value.Type(), r.Value)
}
