package tlv

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// allTypes declares resource r of object 9000 as the r-th type, for the round trips.
func allTypes(p node.Path) node.Type {
	if p.ID(0) == 9000 && p.ID(2) >= 1 && p.ID(2) <= 8 {
		return node.Type(p.ID(2))
	}
	return specTypes(p)
}

func TestRoundTrip(t *testing.T) {
	at := node.Instance(9000, 0)
	r := func(typ node.Type, v node.Value) node.Record {
		return node.Record{Path: node.Resource(9000, 0, uint16(typ)), Value: v}
	}
	for _, tc := range []struct {
		rec   node.Record
		bytes int // the value's length on the wire
	}{
		{r(node.TypeString, node.StringValue("")), 0},
		{r(node.TypeString, node.StringValue("°C, 25 bytes: more than 8")), 26},
		{r(node.TypeInteger, node.IntValue(0)), 1},
		{r(node.TypeInteger, node.IntValue(-128)), 1},
		{r(node.TypeInteger, node.IntValue(128)), 2},
		{r(node.TypeInteger, node.IntValue(-32769)), 4},
		{r(node.TypeInteger, node.IntValue(math.MaxInt32+1)), 8},
		{r(node.TypeInteger, node.IntValue(math.MinInt64)), 8},
		{r(node.TypeUnsigned, node.UintValue(255)), 1},
		{r(node.TypeUnsigned, node.UintValue(65535)), 2},
		{r(node.TypeUnsigned, node.UintValue(65536)), 4},
		{r(node.TypeUnsigned, node.UintValue(math.MaxUint64)), 8},
		{r(node.TypeFloat, node.FloatValue(22.5)), 4},
		{r(node.TypeFloat, node.FloatValue(math.Copysign(0, -1))), 4},
		{r(node.TypeFloat, node.FloatValue(22.4)), 8},
		{r(node.TypeFloat, node.FloatValue(-math.MaxFloat64)), 8},
		{r(node.TypeBoolean, node.BoolValue(false)), 1},
		{r(node.TypeBoolean, node.BoolValue(true)), 1},
		{r(node.TypeOpaque, node.OpaqueValue([]byte{0, 0xff, 7})), 3},
		{r(node.TypeOpaque, node.OpaqueValue(make([]byte, 70000))), 70000},
		{r(node.TypeTime, node.TimeValue(time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC))), 8},
		{r(node.TypeTime, node.UnixTimeValue(-1)), 1},
		{r(node.TypeObjLink, node.LinkValue(3303, 1)), 4},
	} {
		b, err := Encode(at, []node.Record{tc.rec})
		if err != nil {
			t.Fatalf("%v: %v", tc.rec, err)
		}
		// type byte, 1-byte id, then 0 to 3 bytes of length
		header := 2
		switch {
		case tc.bytes > 0xffff:
			header += 3
		case tc.bytes > 0xff:
			header += 2
		case tc.bytes >= 8:
			header++
		}
		if len(b) != header+tc.bytes {
			t.Errorf("%v: %d bytes, want a %d-byte value after a %d-byte header", tc.rec, len(b), tc.bytes, header)
		}
		got, err := Decode(b, at, allTypes)
		if err != nil {
			t.Fatalf("%v: % x: %v", tc.rec, b[:min(len(b), 16)], err)
		}
		if !slices.Equal(got, []node.Record{tc.rec}) {
			t.Errorf("%v: encoded and decoded as %v", tc.rec, got)
		}
	}
}

// Bad input gets an error that says where (the offset) and which rule it breaks.
func TestDecodeErrors(t *testing.T) {
	dev := node.Instance(3, 0)
	for _, tc := range []struct {
		at   node.Path
		hex  string
		want string
	}{
		{dev, "C8", "offset 0: truncated TLV: type 0xc8 needs a 1-byte id, 0 bytes left"},
		{dev, "E8 00", "offset 0: truncated TLV: type 0xe8 needs a 2-byte id, 1 bytes left"},
		{dev, "C9 00", "offset 0: truncated TLV: type 0xc9 needs a 1-byte length, 0 bytes left"},
		{dev, "C10964 C80014 4F70", "offset 3: resource 0 states a length of 20 bytes, past the end (2 bytes left)"},
		{dev, "D8 00 FFFFFF 00", "offset 0: resource 0 states a length of 16777215 bytes, past the end (1 bytes left)"},
		{dev, "C10964 C10964", "offset 3: resource 9 again (first at offset 0)"},
		{dev, "410001", "offset 0: resource instance TLV inside /3/0, where resources are expected"},
		{dev, "8506 0000 410101", "offset 2: object instance TLV where a resource instance TLV is expected inside multiple resource /3/0/6"},
		{node.Object(3), "C10964", "offset 0: resource TLV where a object instance TLV is expected"},
		{dev, "080103 C10964", "offset 0: object instance TLV for id 1, where the path names 0"},
		{node.Resource(3, 0, 9), "C10A0F", "offset 0: resource TLV for id 10, where the path names 9"},
		{node.Resource(3, 0, 9), "C10964 C10A0F", "offset 3: a second TLV, where one resource is expected"},
		{dev, "C16364", "offset 0: /3/0/99 has no declared type"},
		{dev, "C30964 6464", "offset 2: /3/0/9: integer of 3 bytes: it has 1, 2, 4 or 8"},
		{node.Object(1), "080003 C10602", "offset 5: /1/0/6: boolean 02: a boolean is one byte, 00 or 01"},
		{dev, "C200FFFE", "offset 2: /3/0/0: string of 2 bytes is not UTF-8"},
		{node.Object(66), "080005 C302004300", "offset 5: /66/0/2: objlnk of 3 bytes: an object link has 4"},
		{node.Object(9000), "080006 C4047FC00000", "offset 5: /9000/0/4: float NaN is not a finite number"},
		{node.Path{}, "C10964", "tlv: /: a TLV payload is for an object or a node below one, not the root"},
	} {
		_, err := Decode(unhex(t, tc.hex), tc.at, allTypes)
		if err == nil {
			t.Errorf("%s at %s: no error, want %q", tc.hex, tc.at, tc.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), "tlv: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s at %s: error %q, want one with %q", tc.hex, tc.at, err, tc.want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		at   node.Path
		recs []node.Record
		want string
	}{
		{node.Instance(3, 0), []node.Record{res(3, 1, 0, str("x"))}, "record /3/1/0 is not under it"},
		{node.Instance(3, 0), []node.Record{ri(3, 0, 6, 0, num(1)), res(3, 0, 9, num(1)), ri(3, 0, 6, 1, num(5))},
			"records of /3/0/6 are not next to each other"},
		{node.Instance(3, 0), []node.Record{res(3, 0, 9, num(1)), res(3, 0, 9, num(2))}, "/3/0/9 twice"},
		{node.Instance(3, 0), []node.Record{res(3, 0, 9, node.FloatValue(math.Inf(1)))}, "float +Inf is not a finite number"},
		{node.Instance(3, 0), []node.Record{res(3, 0, 0, str("\xff"))}, "is not UTF-8"},
		{node.Instance(3, 0), []node.Record{ri(3, 0, 6, 0, node.Value{})}, "resource instance /3/0/6/0 with no value"},
		{node.Object(3), []node.Record{res(3, 0, 0, node.OpaqueValue(make([]byte, 1<<24)))}, "more than a TLV's 24-bit length"},
		{node.Path{}, nil, "not the root"},
	} {
		_, err := Encode(tc.at, tc.recs)
		if err == nil || !strings.HasPrefix(err.Error(), "tlv: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Encode(%s, %v): error %v, want one with %q", tc.at, tc.recs, err, tc.want)
		}
	}
}

// An empty multiple resource and an empty object instance are records with no value.
func TestEmptyContainers(t *testing.T) {
	for _, tc := range []struct {
		at  node.Path
		hex string
		rec node.Record
	}{
		{node.Instance(3, 0), "8006", node.Record{Path: node.Resource(3, 0, 6)}},
		{node.Resource(3, 0, 6), "8006", node.Record{Path: node.Resource(3, 0, 6)}},
		{node.Object(3), "0000 0301 C10964", node.Record{Path: node.Instance(3, 0)}},
		{node.Instance(3, 0), "0000", node.Record{Path: node.Instance(3, 0)}},
	} {
		recs, err := Decode(unhex(t, tc.hex), tc.at, specTypes)
		if err != nil || len(recs) == 0 || recs[0] != tc.rec {
			t.Errorf("%s at %s: %v, %v; want first %v", tc.hex, tc.at, recs, err, tc.rec)
			continue
		}
		b, err := Encode(tc.at, recs)
		if err != nil || !slices.Equal(b, unhex(t, tc.hex)) {
			t.Errorf("%v at %s: encoded % X, %v; want %s", recs, tc.at, b, err, tc.hex)
		}
	}
}
