package node

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Path
	}{
		{"/", Path{}},
		{"/3", Object(3)},
		{"/3/0", Instance(3, 0)},
		{"/3303/0/5700", Resource(3303, 0, 5700)},
		{"/3/0/6/1", ResourceInstance(3, 0, 6, 1)},
		{"/65535/65535", Instance(65535, 65535)},
	} {
		got, err := ParsePath(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParsePath(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("ParsePath(%q).String() = %q", tc.in, got.String())
		}
	}
}

func TestParsePathErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "does not start with /"},
		{"3/0", "does not start with /"},
		{"/3/", `id "" is not a decimal number`},
		{"//3", `id "" is not a decimal number`},
		{"/03", `id "03" is not a decimal number without leading zeros`},
		{"/65536", "not a number from 0 to 65535"},
		{"/-1", "not a number from 0 to 65535"},
		{"/+1", "not a number from 0 to 65535"},
		{"/1/2/3/4/5", "5 ids, more than the 4"},
	} {
		if _, err := ParsePath(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePath(%q): error %v, want one with %q", tc.in, err, tc.want)
		}
	}
}

func TestPathNavigation(t *testing.T) {
	p := Resource(3, 0, 6)
	c, ok := p.Child(1)
	if !ok || c != ResourceInstance(3, 0, 6, 1) || c.Depth() != 4 || c.ID(3) != 1 || c.ID(4) != 0 {
		t.Errorf("Child: %v %v", c, ok)
	}
	if _, ok := c.Child(2); ok {
		t.Errorf("a resource instance has a child")
	}
	if c.Prefix(2) != Instance(3, 0) || c.Prefix(9) != c || c.Prefix(-1) != (Path{}) {
		t.Errorf("Prefix: %v %v %v", c.Prefix(2), c.Prefix(9), c.Prefix(-1))
	}
	if !c.Under(p) || !p.Under(p) || !p.Under(Path{}) || p.Under(c) || Resource(3, 1, 6).Under(Instance(3, 0)) {
		t.Errorf("Under is wrong")
	}
}

// Each accessor gives its type's value and the zero value for the others.
func TestValues(t *testing.T) {
	when := time.Date(2013, 5, 2, 10, 40, 15, 0, time.UTC)
	for _, tc := range []struct {
		v    Value
		typ  Type
		text string
		ok   func(Value) bool
	}{
		{StringValue("U"), TypeString, "U", func(v Value) bool { return v.Int() == 0 && v.Opaque() == nil }},
		{IntValue(-5), TypeInteger, "-5", func(v Value) bool { return v.Int() == -5 && v.Uint() == 0 }},
		{UintValue(math.MaxUint64), TypeUnsigned, "18446744073709551615", func(v Value) bool { return v.Uint() == math.MaxUint64 && v.Int() == 0 }},
		{FloatValue(22.4), TypeFloat, "22.4", func(v Value) bool { return v.Float() == 22.4 && v.Int() == 0 }},
		{BoolValue(true), TypeBoolean, "true", func(v Value) bool { return v.Bool() && v.Float() == 0 }},
		{OpaqueValue([]byte{1, 2}), TypeOpaque, "AQI=", func(v Value) bool { return string(v.Opaque()) == "\x01\x02" && !v.Bool() }},
		{TimeValue(when), TypeTime, "1367491215", func(v Value) bool { return v.Time().Equal(when) && v.Int() == 1367491215 }},
		{LinkValue(66, 1), TypeObjLink, "66:1", func(v Value) bool { o, i := v.Link(); return o == 66 && i == 1 && v.Time().IsZero() }},
		{Value{}, TypeNone, "", func(v Value) bool { o, i := v.Link(); return o == 0 && i == 0 && v.Time().IsZero() }},
	} {
		if tc.v.Type() != tc.typ || tc.v.String() != tc.text || !tc.ok(tc.v) {
			t.Errorf("%s value: type %s, text %q, accessors ok %v", tc.typ, tc.v.Type(), tc.v.String(), tc.ok(tc.v))
		}
	}
	if FloatValue(0) == FloatValue(math.Copysign(0, -1)) {
		t.Errorf("-0 == 0: a round trip could lose the sign unnoticed")
	}
}
