package senml

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// The SenML examples of LwM2M 1.1 Core §7.4.4 (OMA-TS-LightweightM2M_Core-V1_1-20180710-A,
// Tables 7.4.4-2 to 7.4.4-8), in JSON and CBOR. The bytes were taken from
// eclipse-wakaama/wakaama tests/data_senml_cbor_tests.c and tests/data_senml_json_tests.c,
// whose tests say "From Table 7.4.4-N in OMA-TS-LightweightM2M_Core-V1_1-20180710-A". The
// JSON of Table 7.4.4-2 is also in eclipse-leshan/leshan
// leshan-lwm2m-core/src/test/java/org/eclipse/leshan/core/node/codec/LwM2mNodeDecoderTest.java
// (senml_json_decode_device_object_instance).

// specTypes declares the examples' resources: 1 Server, 3 Device, the spec's test objects 65
// to 67, 72 (Table 7.4.4-3's float), 3308 Set Point and 3311 Light Control.
func specTypes(p node.Path) node.Type {
	i, s, b, l, f := node.TypeInteger, node.TypeString, node.TypeBoolean, node.TypeObjLink, node.TypeFloat
	types := map[uint16][]node.Type{
		1:  {i, i, i, i, 0, i, b, s},
		3:  {s, s, s, s, 0, 0, i, i, i, i, i, i, 0, node.TypeTime, s, s, s},
		65: {l, s, i},
		66: {s, s, l},
		67: {s, s},
		72: {0, 0, f},
	}
	switch p {
	case node.Resource(3308, 0, 5900):
		return f
	case node.Resource(3311, 0, 5850), node.Resource(3311, 1, 5850):
		return b
	case node.Resource(3311, 2, 5851):
		return i
	}
	ts, ok := types[p.ID(0)]
	if !ok {
		return node.Type(1 + p.ID(2)%8) // any other object, for the fuzz targets
	}
	if r := int(p.ID(2)); r < len(ts) {
		return ts[r]
	}
	return node.TypeNone
}

// cborHex turns the examples as quoted here, hex with "text" for text bytes, into bytes.
func cborHex(t testing.TB, s string) []byte {
	t.Helper()
	var b []byte
	for i, part := range strings.Split(s, `"`) {
		if i%2 == 1 {
			b = append(b, part...)
			continue
		}
		h, err := hex.DecodeString(strings.ReplaceAll(part, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, h...)
	}
	return b
}

func rec(path string, v node.Value) node.Record {
	p, err := node.ParsePath(path)
	if err != nil {
		panic(err)
	}
	return node.Record{Path: p, Value: v}
}

func timed(r node.Record, t float64) node.Record { r.Time = t; return r }

var (
	str, num = node.StringValue, node.IntValue
	device   = []node.Record{
		rec("/3/0/0", str("Open Mobile Alliance")), rec("/3/0/1", str("Lightweight M2M Client")),
		rec("/3/0/2", str("345000123")), rec("/3/0/3", str("1.0")),
		rec("/3/0/6/0", num(1)), rec("/3/0/6/1", num(5)), rec("/3/0/7/0", num(3800)), rec("/3/0/7/1", num(5000)),
		rec("/3/0/8/0", num(125)), rec("/3/0/8/1", num(900)), rec("/3/0/9", num(100)), rec("/3/0/10", num(15)),
		rec("/3/0/11/0", num(0)), rec("/3/0/13", node.UnixTimeValue(1367491215)),
		rec("/3/0/14", str("+02:00")), rec("/3/0/16", str("U")),
	}
)

var specExamples = []struct {
	name      string
	pack      Pack
	json      string
	cbor      string
	notEncode bool // decode only: the example is not in the form the encoders write
}{
	{"Table 7.4.4-2, Read /3/0", Pack{Base: node.Instance(3, 0), Records: device},
		`[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"1","vs":"Lightweight M2M Client"},` +
			`{"n":"2","vs":"345000123"},{"n":"3","vs":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},` +
			`{"n":"7/0","v":3800},{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v":900},` +
			`{"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},{"n":"13","v":1367491215},` +
			`{"n":"14","vs":"+02:00"},{"n":"16","vs":"U"}]`,
		`90 a3 21 65 "/3/0/" 00 61 "0" 03 74 "Open Mobile Alliance" a2 00 61 "1" 03 76 "Lightweight M2M Client" ` +
			`a2 00 61 "2" 03 69 "345000123" a2 00 61 "3" 03 63 "1.0" a2 00 63 "6/0" 02 01 a2 00 63 "6/1" 02 05 ` +
			`a2 00 63 "7/0" 02 19 0e d8 a2 00 63 "7/1" 02 19 13 88 a2 00 63 "8/0" 02 18 7d a2 00 63 "8/1" 02 19 03 84 ` +
			`a2 00 61 "9" 02 18 64 a2 00 62 "10" 02 0f a2 00 64 "11/0" 02 00 a2 00 62 "13" 02 1a 51 82 42 8f ` +
			`a2 00 62 "14" 03 66 "+02:00" a2 00 62 "16" 03 61 "U"`, false},
	{"Table 7.4.4-3, /72/1/2 with times", Pack{Base: node.Object(72), BaseTime: 25462634, Records: []node.Record{
		timed(rec("/72/1/2", node.FloatValue(22.4)), 25462629),
		timed(rec("/72/1/2", node.FloatValue(22.9)), 25462604),
		timed(rec("/72/1/2", node.FloatValue(24.1)), 25462584),
	}},
		`[{"bn":"/72/","bt":25462634,"n":"1/2","v":22.4,"t":-5},{"n":"1/2","v":22.9,"t":-30},{"n":"1/2","v":24.1,"t":-50}]`,
		`83 a5 21 64 "/72/" 22 1a 01 84 87 6a 00 63 "1/2" 02 fb 40 36 66 66 66 66 66 66 06 24 ` +
			`a3 00 63 "1/2" 02 fb 40 36 e6 66 66 66 66 66 06 38 1d a3 00 63 "1/2" 02 fb 40 38 19 99 99 99 99 9a 06 38 31`, false},
	// Table 7.4.4-4 (wakaama corrected /66/1/2's link from hex to decimal): bn "/" with
	// relative names, where the encoders write whole names with no bn.
	{"Table 7.4.4-4, object links", Pack{Records: []node.Record{
		rec("/65/0/0/0", node.LinkValue(66, 0)), rec("/65/0/0/1", node.LinkValue(66, 1)),
		rec("/65/0/1", str("8613800755500")), rec("/65/0/2", num(1)),
		rec("/66/0/0", str("myService1")), rec("/66/0/1", str("Internet.15.234")), rec("/66/0/2", node.LinkValue(67, 0)),
		rec("/66/1/0", str("myService2")), rec("/66/1/1", str("Internet.15.235")), rec("/66/1/2", node.LinkValue(65535, 65535)),
		rec("/67/0/0", str("85.76.76.84")), rec("/67/0/1", str("85.76.255.255")),
	}},
		`[{"bn":"/","n":"65/0/0/0","vlo":"66:0"},{"n":"65/0/0/1","vlo":"66:1"},{"n":"65/0/1","vs":"8613800755500"},` +
			`{"n":"65/0/2","v":1},{"n":"66/0/0","vs":"myService1"},{"n":"66/0/1","vs":"Internet.15.234"},` +
			`{"n":"66/0/2","vlo":"67:0"},{"n":"66/1/0","vs":"myService2"},{"n":"66/1/1","vs":"Internet.15.235"},` +
			`{"n":"66/1/2","vlo":"65535:65535"},{"n":"67/0/0","vs":"85.76.76.84"},{"n":"67/0/1","vs":"85.76.255.255"}]`,
		`8c a3 21 61 "/" 00 68 "65/0/0/0" 63 "vlo" 64 "66:0" a2 00 68 "65/0/0/1" 63 "vlo" 64 "66:1" ` +
			`a2 00 66 "65/0/1" 03 6d "8613800755500" a2 00 66 "65/0/2" 02 01 a2 00 66 "66/0/0" 03 6a "myService1" ` +
			`a2 00 66 "66/0/1" 03 6f "Internet.15.234" a2 00 66 "66/0/2" 63 "vlo" 64 "67:0" ` +
			`a2 00 66 "66/1/0" 03 6a "myService2" a2 00 66 "66/1/1" 03 6f "Internet.15.235" ` +
			`a2 00 66 "66/1/2" 63 "vlo" 6b "65535:65535" a2 00 66 "67/0/0" 03 6b "85.76.76.84" ` +
			`a2 00 66 "67/0/1" 03 6d "85.76.255.255"`, true},
	// wakaama added the closing quote missing in the spec's JSON.
	{"Table 7.4.4-5, Read /3/0/0", Pack{Base: node.Resource(3, 0, 0), Records: device[:1]},
		`[{"bn":"/3/0/0","vs":"Open Mobile Alliance"}]`,
		`81 a2 21 66 "/3/0/0" 03 74 "Open Mobile Alliance"`, false},
	{"Table 7.4.4-7, Read-Composite answer", Pack{Records: []node.Record{
		rec("/3/0/0", str("Open Mobile Alliance")), rec("/3/0/9", num(95)), rec("/1/0/1", num(86400)),
	}},
		`[{"n":"/3/0/0","vs":"Open Mobile Alliance"},{"n":"/3/0/9","v":95},{"n":"/1/0/1","v":86400}]`,
		`83 a2 00 66 "/3/0/0" 03 74 "Open Mobile Alliance" a2 00 66 "/3/0/9" 02 18 5f a2 00 66 "/1/0/1" 02 1a 00 01 51 80`, false},
	// Table 7.4.4-8 writes Set Point 5900, a float, as the integer 18 (spaces as in wakaama's
	// JSON): decoded by its declared type.
	{"Table 7.4.4-8, Write-Composite", Pack{Records: []node.Record{
		rec("/3311/0/5850", node.BoolValue(false)), rec("/3311/1/5850", node.BoolValue(false)),
		rec("/3311/2/5851", num(20)), rec("/3308/0/5900", node.FloatValue(18)),
	}},
		`[{"n":"/3311/0/5850", "vb":false},{"n":"/3311/1/5850", "vb":false},{"n":"/3311/2/5851", "v":20},{"n":"/3308/0/5900", "v":18}]`,
		`84 a2 00 6c "/3311/0/5850" 04 f4 a2 00 6c "/3311/1/5850" 04 f4 a2 00 6c "/3311/2/5851" 02 14 a2 00 6c "/3308/0/5900" 02 12`, true},
}

func TestSpecExamples(t *testing.T) {
	for _, ex := range specExamples {
		t.Run(ex.name, func(t *testing.T) {
			for _, f := range []struct {
				name   string
				in     []byte
				decode func([]byte, node.Path, node.TypeOf) (Pack, error)
				encode func(Pack) ([]byte, error)
			}{
				{"json", []byte(ex.json), DecodeJSON, EncodeJSON},
				{"cbor", cborHex(t, ex.cbor), DecodeCBOR, EncodeCBOR},
			} {
				got, err := f.decode(f.in, ex.pack.Base, specTypes)
				if err != nil {
					t.Fatalf("%s: %v", f.name, err)
				}
				if got.Base != ex.pack.Base || got.BaseTime != ex.pack.BaseTime || !slices.Equal(got.Records, ex.pack.Records) {
					t.Errorf("%s: decoded\n%v\nwant\n%v", f.name, got, ex.pack)
				}
				if ex.notEncode {
					continue
				}
				b, err := f.encode(ex.pack)
				if err != nil {
					t.Fatalf("%s: %v", f.name, err)
				}
				if !bytes.Equal(b, f.in) {
					t.Errorf("%s: encoded\n%x\nwant\n%x\n(%q)", f.name, b, f.in, b)
				}
			}
		})
	}
}
