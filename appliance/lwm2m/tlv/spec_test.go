package tlv

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// The byte examples of the LwM2M specification's TLV section, named here as Eclipse Leshan's
// tests name them ("Example from LWM2M spec §4.3.1" and so on; the section number of a TS
// draft, not checked against the published TS). The bytes were taken from
// eclipse-leshan/leshan,
// leshan-lwm2m-core/src/test/java/org/eclipse/leshan/core/node/codec/LwM2mNodeDecoderTest.java
// (its ENCODED_* constants), and the values from what that file asserts about them.

// specTypes declares the resources of the examples' objects: 1 Server, 2 Access Control,
// 3 Device, and the spec's test objects 65 and 66 (resource 4 of /1 and 4, 5, 12 of /3 are
// executable: no type).
func specTypes(p node.Path) node.Type {
	i, s, b, l := node.TypeInteger, node.TypeString, node.TypeBoolean, node.TypeObjLink
	types := map[uint16][]node.Type{
		1:  {i, i, i, i, 0, i, b, s},
		2:  {i, i, i, i},
		3:  {s, s, s, s, 0, 0, i, i, i, i, i, i, 0, node.TypeTime, s, s, s},
		65: {l, s, i},
		66: {s, s, l},
	}
	ts, ok := types[p.ID(0)]
	if !ok {
		// Any other object: the types in turn by resource id, for the fuzz targets.
		return node.Type(1 + p.ID(2)%8)
	}
	if r := int(p.ID(2)); r < len(ts) {
		return ts[r]
	}
	return node.TypeNone
}

// unhex decodes hex with spaces between the TLVs, as the examples are quoted here.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func res(o, i, r uint16, v node.Value) node.Record {
	return node.Record{Path: node.Resource(o, i, r), Value: v}
}

func ri(o, i, r, n uint16, v node.Value) node.Record {
	return node.Record{Path: node.ResourceInstance(o, i, r, n), Value: v}
}

var (
	str, num = node.StringValue, node.IntValue
	// Read /3/0 (§4.3.1): the Device object's instance as resource TLVs.
	deviceTLV = "C800144F70656E204D6F62696C6520416C6C69616E6365 C801164C69676874776569676874204D324D20436C69656E74 " +
		"C80209333435303030313233 C303312E30 8606410001410105 88070842000ED842011388 870841007D42010384 " +
		"C10964 C10A0F 830B410000 C40D5182428F C60E2B30323A3030 C11055"
	device = []node.Record{
		res(3, 0, 0, str("Open Mobile Alliance")), res(3, 0, 1, str("Lightweight M2M Client")),
		res(3, 0, 2, str("345000123")), res(3, 0, 3, str("1.0")),
		ri(3, 0, 6, 0, num(1)), ri(3, 0, 6, 1, num(5)), ri(3, 0, 7, 0, num(3800)), ri(3, 0, 7, 1, num(5000)),
		ri(3, 0, 8, 0, num(125)), ri(3, 0, 8, 1, num(900)), res(3, 0, 9, num(100)), res(3, 0, 10, num(15)),
		ri(3, 0, 11, 0, num(0)), res(3, 0, 13, node.UnixTimeValue(1367491215)),
		res(3, 0, 14, str("+02:00")), res(3, 0, 16, str("U")),
	}
)

var specExamples = []struct {
	name string
	at   node.Path
	hex  string
	recs []node.Record
}{
	{"§4.3.1 Read /3/0, resources only", node.Instance(3, 0), deviceTLV, device},
	// §4.3.2 A: the same in one object instance TLV (id 0, 8-bit length 0x79), as the answer
	// to a Read of the object /3.
	{"§4.3.2 A Read /3, one instance", node.Object(3), "080079 " + deviceTLV, device},
	{"§4.3.2 B Read /2, two ACL instances", node.Object(2),
		"08000E C10001 C10100 8302417F07 C1037F 080212 C10003 C10100 8702417F0761013601 C1037F",
		[]node.Record{
			res(2, 0, 0, num(1)), res(2, 0, 1, num(0)), ri(2, 0, 2, 127, num(7)), res(2, 0, 3, num(127)),
			res(2, 2, 0, num(3)), res(2, 2, 1, num(0)), ri(2, 2, 2, 127, num(7)), ri(2, 2, 2, 310, num(1)),
			res(2, 2, 3, num(127)),
		}},
	// The closest example to pigw's own /1: lifetime 86400 in 4 bytes, a boolean, a string.
	{"§4.3.2 C Read /1, one Server instance", node.Object(1), "08000F C10001 C40100015180 C10601 C10755",
		[]node.Record{res(1, 0, 0, num(1)), res(1, 0, 1, num(86400)), res(1, 0, 6, node.BoolValue(true)), res(1, 0, 7, str("U"))}},
	{"§4.3.3 Read /65/0, object links", node.Instance(65, 0),
		"88000C 4400 00420000 4401 00420001 C8010D38363133383030373535353030 C40212345678",
		[]node.Record{
			ri(65, 0, 0, 0, node.LinkValue(66, 0)), ri(65, 0, 0, 1, node.LinkValue(66, 1)),
			res(65, 0, 1, str("8613800755500")), res(65, 0, 2, num(0x12345678)),
		}},
	{"§4.3.3 Read /66, two instances with links", node.Object(66),
		"080026 C8000B6D79536572766963652031 C8010F496E7465726E65742E31352E323334 C40200430000 " +
			"080126 C8000B6D79536572766963652032 C8010F496E7465726E65742E31352E323335 C402FFFFFFFF",
		[]node.Record{
			res(66, 0, 0, str("myService 1")), res(66, 0, 1, str("Internet.15.234")), res(66, 0, 2, node.LinkValue(67, 0)),
			res(66, 1, 0, str("myService 2")), res(66, 1, 1, str("Internet.15.235")), res(66, 1, 2, node.LinkValue(65535, 65535)),
		}},
	// Read /3/0/6 of a multiple resource: its TLV around the resource instances (from the
	// §4.3.1 bytes).
	{"Read /3/0/6", node.Resource(3, 0, 6), "8606410001410105", device[4:6]},
	{"Read /3/0/6/1", node.ResourceInstance(3, 0, 6, 1), "410105", device[5:6]},
	{"Read /3/0/13, a time", node.Resource(3, 0, 13), "C40D5182428F", device[13:14]},
}

func TestSpecExamplesDecode(t *testing.T) {
	for _, ex := range specExamples {
		t.Run(ex.name, func(t *testing.T) {
			got, err := Decode(unhex(t, ex.hex), ex.at, specTypes)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, ex.recs) {
				t.Errorf("Decode at %s:\n got %v\nwant %v", ex.at, got, ex.recs)
			}
		})
	}
}

func TestSpecExamplesEncode(t *testing.T) {
	for _, ex := range specExamples {
		t.Run(ex.name, func(t *testing.T) {
			got, err := Encode(ex.at, ex.recs)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, ex.hex); !slices.Equal(got, want) {
				t.Errorf("Encode at %s:\n got % X\nwant % X", ex.at, got, want)
			}
		})
	}
}

// Forms that Decode takes besides the ones Encode writes: an instance in its object instance
// TLV (§4.3.2 A's bytes read at /3/0, as Leshan reads them) and a multiple resource's
// instances without their multiple resource TLV.
func TestDecodeOtherForms(t *testing.T) {
	for _, ex := range []struct {
		at   node.Path
		hex  string
		recs []node.Record
	}{
		{node.Instance(3, 0), "080079 " + deviceTLV, device},
		{node.Resource(3, 0, 6), "410001 410105", device[4:6]},
	} {
		got, err := Decode(unhex(t, ex.hex), ex.at, specTypes)
		if err != nil {
			t.Fatalf("%s at %s: %v", ex.hex, ex.at, err)
		}
		if !slices.Equal(got, ex.recs) {
			t.Errorf("%s at %s:\n got %v\nwant %v", ex.hex, ex.at, got, ex.recs)
		}
	}
}
