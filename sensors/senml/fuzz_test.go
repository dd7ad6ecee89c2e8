package senml

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/pigw/pigw/internal/fuzzcheck"
	"github.com/pigw/pigw/sensors"
)

// seedPacks are the packs of the unit tests, the RFC's examples and pigw's own.
func seedPacks(f *testing.F) [][]Record {
	at, rs := fixed()
	own, err := Pack(base, at, rs)
	if err != nil {
		f.Fatal(err)
	}
	return [][]Record{
		own,
		{{Name: "urn:dev:ow:10e2073a01080063", Unit: "Cel", Value: ptr(23.1)}},
		{
			{BaseVersion: 10, BaseName: "d:", BaseTime: 1e9, BaseUnit: "V", BaseValue: 1, BaseSum: 2, Name: "x", StringValue: ptr("hi"), Time: -5, UpdateTime: 60},
			{Name: "y", DataValue: Data{1, 2, 0xff}},
			{Name: "z", Sum: ptr(0.5)},
		},
		{{BaseName: "e:", Name: "c", BoolValue: ptr(true)}},
	}
}

// FuzzDecodeJSON decodes SenML JSON packs as a client of the appliance gets them. A pack that
// decodes encodes again and decodes to the same records, in JSON and in CBOR; its resolved
// form, when it has one, resolves to itself; errors say "senml JSON".
func FuzzDecodeJSON(f *testing.F) {
	for _, p := range seedPacks(f) {
		b, err := EncodeJSON(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`[{"n":"a","v":1,"foo":2}]`, `[{"n":"a","V":1,"vb":false}]`, `[{"n":"a","v":1,"foo_":2}]`,
		`[{"bver":11,"n":"a","v":1}]`, `[{"n":"y","vd":"AQI="}]`, `[{"n":"y","vd":"!!"}]`,
		`{"n":"a","v":1}`, `[{"n":"a","v":"1"}]`, `[{"n":"a","v":1e308,"bv":1e308}]`, `[]`, `[{}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var rs []Record
		var err error
		fuzzcheck.Bounded(t, len(b), 1024, func() { rs, err = DecodeJSON(b) })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "senml JSON: ") {
				t.Fatalf("error %q does not say it is about SenML JSON", err)
			}
			return
		}
		checkPack(t, rs)
	})
}

// FuzzDecodeCBOR is FuzzDecodeJSON for SenML CBOR, whose lengths (of arrays, maps, strings)
// the input states: nothing is allocated for a length the input does not hold.
func FuzzDecodeCBOR(f *testing.F) {
	for _, p := range seedPacks(f) {
		b, err := EncodeCBOR(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, v := range []any{
		[]map[int]any{{0: "a", 2: 45}},
		[]map[any]any{{0: "a", 2: 1.5, "foo": 1, 99: 2, -99: 3}},
		[]map[any]any{{0: "a", 2: 1.5, "foo_": 1}},
		[]map[int]any{{-1: 11, 0: "a", 2: 1}},
		map[int]any{0: "a"},
		[]map[int]any{{0: "a", 8: []byte{}}},
	} {
		b, err := cbor.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x81, 0xa2, 0x02, 0x01, 0x02, 0x02})                   // a label twice
	f.Add([]byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // an array of 2^64-1 records
	f.Add([]byte{0x81, 0xa1, 0x00, 0x7a, 0x7f, 0xff, 0xff, 0xff})       // a name of 2 GiB
	f.Fuzz(func(t *testing.T, b []byte) {
		var rs []Record
		var err error
		fuzzcheck.Bounded(t, len(b), 1024, func() { rs, err = DecodeCBOR(b) })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "senml CBOR: ") {
				t.Fatalf("error %q does not say it is about SenML CBOR", err)
			}
			return
		}
		checkPack(t, rs)
	})
}

// checkPack checks what holds for every pack a decoder returns.
func checkPack(t *testing.T, rs []Record) {
	t.Helper()
	j, err := EncodeJSON(rs)
	if err != nil {
		t.Fatalf("decoded %+v, which does not encode as JSON: %v", rs, err)
	}
	fromJSON, err := DecodeJSON(j)
	if err != nil {
		t.Fatalf("decoded %+v, encoded as %s, which does not decode: %v", rs, j, err)
	}
	if !reflect.DeepEqual(fromJSON, rs) {
		t.Fatalf("decoded %+v, encoded as %s, decoded again as %+v", rs, j, fromJSON)
	}
	c, err := EncodeCBOR(rs)
	if err != nil {
		t.Fatalf("decoded %+v, which does not encode as CBOR: %v", rs, err)
	}
	fromCBOR, err := DecodeCBOR(c)
	if err != nil {
		t.Fatalf("decoded %+v, encoded as CBOR %x, which does not decode: %v", rs, c, err)
	}
	if !reflect.DeepEqual(fromCBOR, rs) {
		t.Fatalf("decoded %+v, encoded as CBOR %x, decoded again as %+v", rs, c, fromCBOR)
	}
	resolved, err := Resolve(rs)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "senml: ") {
			t.Fatalf("Resolve error %q does not say it is about SenML", err)
		}
		return
	}
	again, err := Resolve(resolved)
	if err != nil || !reflect.DeepEqual(again, resolved) {
		t.Fatalf("resolved %+v, resolved again as %+v, %v", resolved, again, err)
	}
	if _, err := EncodeJSON(resolved); err != nil {
		t.Fatalf("resolved %+v, which does not encode as JSON: %v", resolved, err)
	}
}

// Pack's output, for any reading, is a pack the decoders take back.
func FuzzPack(f *testing.F) {
	f.Add("urn:dev:mac:0123:", "temperature", "Cel", 23.1, int64(1.7e9), int64(250e6))
	f.Add("d:", "x", "", -0.0, int64(0), int64(0))
	f.Fuzz(func(t *testing.T, base, name, unit string, v float64, sec, nsec int64) {
		rs, err := Pack(base, time.Unix(sec, nsec), []sensors.Reading{{Quantity: sensors.Quantity{Name: name, Unit: unit}, Value: v}})
		if err != nil {
			return
		}
		checkPack(t, rs)
	})
}
