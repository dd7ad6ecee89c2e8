package senml

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// formats are the two encodings, for tests that run on both.
var formats = []struct {
	name   string
	encode func(Pack) ([]byte, error)
	decode func([]byte, node.Path, node.TypeOf) (Pack, error)
}{
	{"json", EncodeJSON, DecodeJSON},
	{"cbor", EncodeCBOR, DecodeCBOR},
}

// r is resource r of /9000/0, which specTypes declares as type 1 + r%8.
func r(typ node.Type, v node.Value) node.Record {
	return node.Record{Path: node.Resource(9000, 0, uint16(typ)-1), Value: v}
}

func TestRoundTrip(t *testing.T) {
	recs := []node.Record{
		r(node.TypeString, str("")), r(node.TypeString, str("25 °C \"quoted\" <&>")),
		r(node.TypeInteger, num(math.MinInt64)), r(node.TypeInteger, num(math.MaxInt64)), r(node.TypeInteger, num(-24)),
		r(node.TypeUnsigned, node.UintValue(math.MaxUint64)), r(node.TypeUnsigned, node.UintValue(0)),
		r(node.TypeFloat, node.FloatValue(22.4)), r(node.TypeFloat, node.FloatValue(45)),
		r(node.TypeFloat, node.FloatValue(-math.MaxFloat64)), r(node.TypeFloat, node.FloatValue(5e-324)),
		r(node.TypeFloat, node.FloatValue(math.Copysign(0, -1))),
		r(node.TypeBoolean, node.BoolValue(true)), r(node.TypeBoolean, node.BoolValue(false)),
		r(node.TypeOpaque, node.OpaqueValue(nil)), r(node.TypeOpaque, node.OpaqueValue([]byte{0xfb, 0xff, 0})),
		r(node.TypeTime, node.UnixTimeValue(1367491215)), r(node.TypeTime, node.UnixTimeValue(-1)),
		r(node.TypeObjLink, node.LinkValue(3303, 0)),
		timed(r(node.TypeFloat, node.FloatValue(1)), 1.7e9+0.25), timed(r(node.TypeFloat, node.FloatValue(2)), -5),
	}
	for _, f := range formats {
		for _, rc := range recs {
			for _, p := range []Pack{
				{Base: rc.Path, Records: []node.Record{rc}},
				{Base: node.Object(9000), Records: []node.Record{rc}},
				{Records: []node.Record{rc}},
				{Base: node.Instance(9000, 0), BaseTime: 1.7e9, Records: []node.Record{rc}},
			} {
				b, err := f.encode(p)
				if err != nil {
					t.Fatalf("%s: %v: %v", f.name, p, err)
				}
				got, err := f.decode(b, p.Base, specTypes)
				if err != nil {
					t.Fatalf("%s: %v: %q: %v", f.name, p, b, err)
				}
				if got.Base != p.Base || got.BaseTime != p.BaseTime || !slices.Equal(got.Records, p.Records) {
					t.Errorf("%s: %v encoded as %q decoded as %v", f.name, p, b, got)
				}
			}
		}
	}
}

// The same value in other number forms and label orders decodes to the same record.
func TestDecodeForms(t *testing.T) {
	one := []node.Record{rec("/3/0/9", num(1))}
	for _, tc := range []struct {
		json, cbor string
	}{
		{`[{"v":1,"n":"9","bn":"/3/0/"}]`, `81 a3 02 01 00 61 "9" 21 65 "/3/0/"`},
		{`[{"bn":"/3/0/","n":"9","v":1.0}]`, `81 a3 21 65 "/3/0/" 00 61 "9" 02 f9 3c 00`},
		{`[{"bn":"/3/0/","n":"9","v":1e0}]`, `81 a3 21 65 "/3/0/" 00 61 "9" 02 fa 3f 80 00 00`},
		{`[{"bn":"/3/0","n":"/9","v":1,"u":"%","x":[1]}]`, `81 a5 21 64 "/3/0" 00 62 "/9" 02 fb 3f f0 00 00 00 00 00 00 01 61 "%" 61 "x" 01`},
		{`[{"bver":10,"n":"/3/0/9","v":1}]`, `9f bf 20 0a 00 66 "/3/0/9" 02 18 01 ff ff`},
	} {
		for _, f := range formats {
			in := []byte(tc.json)
			if f.name == "cbor" {
				in = cborHex(t, tc.cbor)
			}
			p, err := f.decode(in, node.Instance(3, 0), specTypes)
			if err != nil || !slices.Equal(p.Records, one) {
				t.Errorf("%s %q: %v, %v; want %v", f.name, in, p.Records, err, one)
			}
		}
	}
}

// Bad input gets an error that names the record and the rule.
func TestDecodeErrors(t *testing.T) {
	at := node.Instance(3, 0)
	for _, tc := range []struct{ json, cbor, want string }{
		{`[]`, `80`, "no records"},
		{`[{"n":"9","v":1}]`, `81 a2 00 61 "9" 02 01`, `record 0: name: path "9": does not start with /`},
		{`[{"n":"/3/1/9","v":1}]`, `81 a2 00 66 "/3/1/9" 02 01`, "record 0: /3/1/9 is not a resource or resource instance under /3/0"},
		{`[{"n":"/3/0","v":1}]`, `81 a2 00 64 "/3/0" 02 01`, "record 0: /3/0 is not a resource"},
		{`[{"n":"/3/0/99","v":1}]`, `81 a2 00 67 "/3/0/99" 02 01`, "/3/0/99: no declared type"},
		{`[{"n":"/3/0/9"}]`, `81 a1 00 66 "/3/0/9"`, "/3/0/9: 0 values"},
		{`[{"n":"/3/0/9","v":1,"vs":"1"}]`, `81 a3 00 66 "/3/0/9" 02 01 03 61 "1"`, "/3/0/9: 2 values"},
		{`[{"n":"/3/0/9","vs":"1"}]`, `81 a2 00 66 "/3/0/9" 03 61 "1"`, "/3/0/9: vs (string) where the resource is declared integer"},
		{`[{"n":"/3/0/0","v":1}]`, `81 a2 00 66 "/3/0/0" 02 01`, `/3/0/0: a number ("v") where the resource is declared string`},
		{`[{"n":"/3/0/9","v":1.5}]`, `81 a2 00 66 "/3/0/9" 02 f9 3e 00`, "/3/0/9: number 1.5 is not a whole integer"},
		{`[{"n":"/3/0/9","v":9223372036854775808}]`, `81 a2 00 66 "/3/0/9" 02 1b 80 00 00 00 00 00 00 00`, "out of the range of a 64-bit integer"},
		{`[{"n":"/3/0/9","v":"1"}]`, `81 a2 00 66 "/3/0/9" 02 61 "1"`, "where a number is expected"},
		{`[{"n":"/3/0/9","v":1,"bv":1}]`, `81 a3 00 66 "/3/0/9" 02 01 24 01`, "LwM2M uses neither"},
		{`[{"n":"/3/0/9","v":1,"foo_":1}]`, `81 a3 00 66 "/3/0/9" 02 01 64 "foo_" 01`, "must be understood"},
		{`[{"bver":11,"n":"/3/0/9","v":1}]`, `81 a3 20 0b 00 66 "/3/0/9" 02 01`, "version 11: this decoder reads SenML version 10"},
		{`[{"n":"/3/0/9","v":1,"n":3}]`, `81 a3 00 66 "/3/0/9" 02 01 00 66 "/3/0/9"`, ""},
		{`[{"n":"/3/0/9","v":null}]`, `81 a2 00 66 "/3/0/9" 02 fb 7f f8 00 00 00 00 00 00`, ""},
	} {
		for _, f := range formats {
			in := []byte(tc.json)
			if f.name == "cbor" {
				in = cborHex(t, tc.cbor)
			}
			_, err := f.decode(in, at, specTypes)
			if err == nil || !strings.HasPrefix(err.Error(), "senml "+f.name+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s %q: error %v, want one with %q", f.name, in, err, tc.want)
			}
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		p    Pack
		want string
	}{
		{Pack{Base: node.Instance(3, 0)}, "no records"},
		{Pack{Base: node.Instance(3, 0), Records: []node.Record{rec("/3/1/0", str("x"))}}, "record /3/1/0 is not a resource or resource instance under it"},
		{Pack{Base: node.Resource(3, 0, 6), Records: []node.Record{rec("/3/0/6", num(1)), rec("/3/0/6/1", num(1))}}, "a record at the base path and others"},
		{Pack{Base: node.Instance(3, 0), Records: []node.Record{{Path: node.Resource(3, 0, 6)}}}, "no value"},
		{Pack{Base: node.Instance(3, 0), Records: []node.Record{rec("/3/0/9", node.FloatValue(math.NaN()))}}, "float NaN is not a finite number"},
		{Pack{Base: node.Instance(3, 0), Records: []node.Record{timed(rec("/3/0/9", num(1)), math.Inf(-1))}}, "time -Inf is not a finite number"},
	} {
		for _, f := range formats {
			_, err := f.encode(tc.p)
			if err == nil || !strings.HasPrefix(err.Error(), "senml "+f.name+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s %v: error %v, want one with %q", f.name, tc.p, err, tc.want)
			}
		}
	}
}
