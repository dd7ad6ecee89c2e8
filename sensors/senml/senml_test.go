package senml

import (
	"encoding/hex"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/pigw/pigw/sensors"
)

var (
	temperature = sensors.Quantity{Name: "temperature", Unit: "Cel"}
	humidity    = sensors.Quantity{Name: "humidity", Unit: "%RH"}
	pressure    = sensors.Quantity{Name: "pressure", Unit: "Pa"}
)

const base = "urn:dev:mac:0123:"

func fixed() (time.Time, []sensors.Reading) {
	return time.Unix(1.7e9, 0), []sensors.Reading{rd(temperature, 23.1), rd(humidity, 45)}
}

func TestJSONText(t *testing.T) {
	at, rs := fixed()
	for _, tc := range []struct {
		name string
		t    time.Time
		rs   []sensors.Reading
		want string
	}{
		{"two readings", at, rs, `[{"bn":"urn:dev:mac:0123:","bt":1700000000,"n":"temperature","u":"Cel","v":23.1},{"n":"humidity","u":"%RH","v":45}]`},
		{"no time", time.Time{}, rs[:1], `[{"bn":"urn:dev:mac:0123:","n":"temperature","u":"Cel","v":23.1}]`},
		{"fraction of a second and zero", at.Add(250 * time.Millisecond), []sensors.Reading{rd(temperature, 0)}, `[{"bn":"urn:dev:mac:0123:","bt":1700000000.25,"n":"temperature","u":"Cel","v":0}]`},
		{"negative", at, []sensors.Reading{rd(temperature, -12.5)}, `[{"bn":"urn:dev:mac:0123:","bt":1700000000,"n":"temperature","u":"Cel","v":-12.5}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := JSON(base, tc.t, tc.rs)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("JSON:\n got %s\nwant %s", b, tc.want)
			}
		})
	}
}

// Readings survive both encodings, and the resolved records are the readings.
func TestRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)
	rs := []sensors.Reading{rd(temperature, 21.37), rd(humidity, 0), rd(pressure, 101325), rd(temperature, -40.0625)}
	for _, enc := range []struct {
		name   string
		encode func(string, time.Time, []sensors.Reading) ([]byte, error)
		decode func([]byte) ([]Record, error)
	}{
		{"JSON", JSON, DecodeJSON},
		{"CBOR", CBOR, DecodeCBOR},
	} {
		t.Run(enc.name, func(t *testing.T) {
			b, err := enc.encode(base, at, rs)
			if err != nil {
				t.Fatal(err)
			}
			pack, err := enc.decode(b)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Pack(base, at, rs)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pack, want) {
				t.Errorf("decoded %+v, want %+v", pack, want)
			}
			resolved, err := Resolve(pack)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range resolved {
				if r.Name != base+rs[i].Name || r.Unit != rs[i].Unit || r.Value == nil || *r.Value != rs[i].Value {
					t.Errorf("record %d resolves to %+v, want %v", i, r, rs[i])
				}
				if got := Time(r.Time); !got.Equal(at.Truncate(time.Microsecond)) {
					t.Errorf("record %d at %v, want %v", i, got, at)
				}
			}
		})
	}
}

// The CBOR pack uses RFC 8428 §6's integer labels, and is smaller than the JSON one.
func TestCBORLabels(t *testing.T) {
	at, rs := fixed()
	b, err := CBOR(base, at, rs)
	if err != nil {
		t.Fatal(err)
	}
	var generic []map[int]any
	if err := cbor.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	want := []map[int]any{
		{-2: base, -3: 1.7e9, 0: "temperature", 1: "Cel", 2: 23.1},
		{0: "humidity", 1: "%RH", 2: 45.0},
	}
	if !reflect.DeepEqual(generic, want) {
		t.Errorf("CBOR %x decodes to\n%v, want\n%v", b, generic, want)
	}
	j, _ := JSON(base, at, rs)
	if len(b) >= len(j) {
		t.Errorf("CBOR pack is %d bytes, JSON %d", len(b), len(j))
	}
	// Deterministic encoding: the labels 0, 1, 2 sort before the negative ones, and 45 is a
	// half-precision float (f9 51a0).
	if !strings.Contains(hex.EncodeToString(b), "a300"+"6868756d6964697479"+"0163"+"255248"+"02f951a0") {
		t.Errorf("CBOR %x: humidity record not in core deterministic form", b)
	}
}

// RFC 8428 §5.1.1: one temperature with no base fields decodes in both encodings, and our pack
// of the same reading resolves to the same record.
func TestRFCSingleDatapoint(t *testing.T) {
	const text = `[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]`
	fromJSON, err := DecodeJSON([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cbor.Marshal([]map[int]any{{0: "urn:dev:ow:10e2073a01080063", 1: "Cel", 2: 23.1}})
	if err != nil {
		t.Fatal(err)
	}
	fromCBOR, err := DecodeCBOR(c)
	if err != nil {
		t.Fatal(err)
	}
	v := 23.1
	want := []Record{{Name: "urn:dev:ow:10e2073a01080063", Unit: "Cel", Value: &v}}
	for name, got := range map[string][]Record{"JSON": fromJSON, "CBOR": fromCBOR} {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	// pigw's pack of that reading puts the device in the base name and the quantity in the
	// name; resolved, it is the RFC's record but for the name.
	pack, err := Pack("urn:dev:ow:10e2073a01080063:", time.Time{}, []sensors.Reading{rd(temperature, 23.1)})
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := Resolve(pack)
	if err != nil {
		t.Fatal(err)
	}
	want[0].Name += ":temperature"
	if !reflect.DeepEqual(resolved, want) {
		t.Errorf("resolved %+v, want %+v", resolved, want)
	}
}

func TestDecodeRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		json string
		want []Record // nil: an error saying err
		err  string
	}{
		{name: "unknown label ignored", json: `[{"n":"a","v":1,"foo":2}]`, want: []Record{{Name: "a", Value: ptr(1.0)}}},
		{name: "labels are case-sensitive", json: `[{"n":"a","V":1,"vb":false}]`, want: []Record{{Name: "a", BoolValue: ptr(false)}}},
		{name: "must-understand", json: `[{"n":"a","v":1,"foo_":2}]`, err: `record 0: must-understand label "foo_"`},
		{name: "newer version", json: `[{"bver":11,"n":"a","v":1}]`, err: "version 11 is newer than 10"},
		{name: "all value kinds", json: `[{"bver":10,"bn":"d:","bt":1e9,"bu":"V","bv":1,"bs":2,"n":"x","vs":"hi","t":-5,"ut":60},{"n":"y","vd":"AQL_"},{"n":"z","s":0.5}]`, want: []Record{
			{BaseVersion: 10, BaseName: "d:", BaseTime: 1e9, BaseUnit: "V", BaseValue: 1, BaseSum: 2, Name: "x", StringValue: ptr("hi"), Time: -5, UpdateTime: 60},
			{Name: "y", DataValue: Data{1, 2, 0xff}},
			{Name: "z", Sum: ptr(0.5)},
		}},
		{name: "padded data accepted", json: `[{"n":"y","vd":"AQI="}]`, want: []Record{{Name: "y", DataValue: Data{1, 2}}}},
		{name: "bad data", json: `[{"n":"y","vd":"!!"}]`, err: "vd: not base64url"},
		{name: "not a pack", json: `{"n":"a","v":1}`, err: "senml JSON"},
		{name: "wrong type", json: `[{"n":"a","v":"1"}]`, err: "record 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeJSON([]byte(tc.json))
			if tc.want == nil {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("DecodeJSON: %+v, %v; want an error saying %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DecodeJSON = %+v, want %+v", got, tc.want)
			}
			// The same pack in CBOR decodes the same.
			b, err := cbor.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			fromCBOR, err := DecodeCBOR(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromCBOR, tc.want) {
				t.Errorf("DecodeCBOR = %+v, want %+v", fromCBOR, tc.want)
			}
		})
	}
}

func TestDecodeCBORRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		pack any
		want []Record
		err  string
	}{
		{"integer value", []map[int]any{{0: "a", 2: 45}}, []Record{{Name: "a", Value: ptr(45.0)}}, ""},
		{"text and unknown labels ignored", []map[any]any{{0: "a", 2: 1.5, "foo": 1, 99: 2, -99: 3}}, []Record{{Name: "a", Value: ptr(1.5)}}, ""},
		{"must-understand", []map[any]any{{0: "a", 2: 1.5, "foo_": 1}}, nil, `must-understand label "foo_"`},
		{"newer version", []map[int]any{{-1: 11, 0: "a", 2: 1}}, nil, "version 11 is newer"},
		{"not a pack", map[int]any{0: "a"}, nil, "senml CBOR"},
		// JSON has no NaN or infinity, so a CBOR pack with one has no JSON form. Found by
		// FuzzDecodeCBOR.
		{"NaN", []map[int]any{{0: "a", 2: math.NaN()}}, nil, "record 0: v is NaN, not a finite number"},
		{"infinite base time", []map[int]any{{-3: math.Inf(-1), 0: "a", 2: 1}}, nil, "bt is -Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := cbor.Marshal(tc.pack)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeCBOR(b)
			if tc.want == nil {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("DecodeCBOR: %+v, %v; want an error saying %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DecodeCBOR = %+v, want %+v", got, tc.want)
			}
		})
	}
	// A duplicate label is an error, not last-one-wins.
	if _, err := DecodeCBOR([]byte{0x81, 0xa2, 0x02, 0x01, 0x02, 0x02}); err == nil {
		t.Error("duplicate label accepted")
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		base string
		rs   []sensors.Reading
		err  string
	}{
		{"no readings", base, nil, "no readings"},
		{"NaN", base, []sensors.Reading{rd(temperature, math.NaN())}, "temperature: value NaN"},
		{"infinite", base, []sensors.Reading{rd(temperature, math.Inf(1))}, "value +Inf"},
		{"space in name", "urn:dev:mac:0123:", []sensors.Reading{rd(sensors.Quantity{Name: "air temperature", Unit: "Cel"}, 1)}, `character ' ' at 20`},
		{"starts with a dash", "-x:", []sensors.Reading{rd(temperature, 1)}, `name "-x:temperature"`},
		{"empty name", "", []sensors.Reading{rd(sensors.Quantity{Unit: "Cel"}, 1)}, "empty name"},
		// JSON would carry U+FFFD instead. Found by FuzzPack.
		{"unit not UTF-8", base, []sensors.Reading{rd(sensors.Quantity{Name: "t", Unit: "\xb0C"}, 1)}, `t: unit "\xb0C" is not UTF-8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, enc := range []func(string, time.Time, []sensors.Reading) ([]byte, error){JSON, CBOR} {
				_, err := enc(tc.base, time.Time{}, tc.rs)
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want one saying %q", err, tc.err)
				}
			}
		})
	}
}

// An empty data value is a value: it survives encoding in both formats. Found by
// FuzzDecodeCBOR (encoding dropped it, and the record was then without a value).
func TestEmptyDataValue(t *testing.T) {
	pack, err := DecodeJSON([]byte(`[{"n":"y","vd":""}]`))
	if err != nil {
		t.Fatal(err)
	}
	j, err := EncodeJSON(pack)
	if err != nil || string(j) != `[{"n":"y","vd":""}]` {
		t.Errorf("EncodeJSON = %s, %v", j, err)
	}
	c, err := EncodeCBOR(pack)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"JSON": j, "CBOR": c} {
		decode := map[string]func([]byte) ([]Record, error){"JSON": DecodeJSON, "CBOR": DecodeCBOR}[name]
		again, err := decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := Resolve(again); err != nil {
			t.Errorf("%s %x: %v", name, b, err)
		}
	}
	if j, _ := EncodeJSON([]Record{{Name: "y", Value: ptr(1.0)}}); strings.Contains(string(j), "vd") {
		t.Errorf("no data value encodes as %s", j)
	}
}

func TestResolve(t *testing.T) {
	pack := []Record{
		{BaseName: "d:", BaseTime: 1000, BaseUnit: "V", BaseValue: 100, Name: "a", Value: ptr(1.5), Time: -10},
		{Name: "b", Unit: "A", Value: ptr(-100.0)},
		{BaseName: "e:", Name: "c", BoolValue: ptr(true)},
	}
	got, err := Resolve(pack)
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{Name: "d:a", Unit: "V", Value: ptr(101.5), Time: 990},
		{Name: "d:b", Unit: "A", Value: ptr(0.0), Time: 1000},
		{Name: "e:c", Unit: "V", BoolValue: ptr(true), Time: 1000},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Resolve = %+v, want %+v", got, want)
	}
	// A base value and a value whose sum overflows. Found by FuzzDecodeJSON.
	if _, err := Resolve([]Record{{BaseValue: 1e308, Name: "a", Value: ptr(1e308)}}); err == nil || !strings.Contains(err.Error(), "record 0 (a): v is +Inf") {
		t.Errorf("Resolve of an overflowing sum: error %v", err)
	}
	for _, bad := range [][]Record{
		{{BaseName: "d:"}},               // no value
		{{Name: "a b", Value: ptr(1.0)}}, // bad name
		{{BaseVersion: 12, Name: "a", Value: ptr(1.0)}},
	} {
		if _, err := Resolve(bad); err == nil {
			t.Errorf("Resolve(%+v) succeeded", bad)
		}
	}
}

func rd(q sensors.Quantity, v float64) sensors.Reading {
	return sensors.Reading{Quantity: q, Value: v}
}

func ptr[T any](v T) *T { return &v }
