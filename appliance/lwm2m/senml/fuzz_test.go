package senml

import (
	"slices"
	"strings"
	"testing"

	"github.com/pigw/pigw/appliance/lwm2m/node"
	"github.com/pigw/pigw/internal/fuzzcheck"
)

// fuzzPaths are the paths a fuzzed payload is decoded at, chosen by a byte of the input.
var fuzzPaths = []node.Path{{}, node.Object(3), node.Instance(3, 0), node.Resource(3, 0, 0), node.Object(72), node.Object(9000)}

// fuzzSeeds adds the spec's examples in one format, each with its path's index.
func fuzzSeeds(f *testing.F, cbor bool) {
	for _, ex := range specExamples {
		i := slices.Index(fuzzPaths, ex.pack.Base)
		if i < 0 {
			f.Fatalf("%s is not in fuzzPaths", ex.pack.Base)
		}
		in := []byte(ex.json)
		if cbor {
			in = cborHex(f, ex.cbor)
		}
		f.Add(in, uint8(i))
	}
}

// fuzzDecode checks a decoder on one input: no panic, no allocation for a length the input
// does not hold, errors that say which format, and that what decodes encodes, in both
// formats, to a payload that decodes to the same pack.
func fuzzDecode(t *testing.T, name string, b []byte, sel uint8, decode func([]byte, node.Path, node.TypeOf) (Pack, error)) {
	at := fuzzPaths[int(sel)%len(fuzzPaths)]
	var p Pack
	var err error
	fuzzcheck.Bounded(t, len(b), 1024, func() { p, err = decode(b, at, specTypes) })
	if err != nil {
		if !strings.HasPrefix(err.Error(), "senml "+name+": ") {
			t.Fatalf("error %q does not say it is about SenML %s", err, name)
		}
		return
	}
	for _, f := range formats {
		again, err := f.encode(p)
		if err != nil {
			t.Fatalf("decoded %v, which does not encode as %s: %v", p, f.name, err)
		}
		back, err := f.decode(again, at, specTypes)
		if err != nil {
			t.Fatalf("decoded %v, encoded as %s %q, which does not decode: %v", p, f.name, again, err)
		}
		if back.Base != p.Base || back.BaseTime != p.BaseTime || !slices.Equal(back.Records, p.Records) {
			t.Fatalf("decoded %v, encoded as %s %q, decoded again as %v", p, f.name, again, back)
		}
	}
}

func FuzzSenMLJSON(f *testing.F) {
	fuzzSeeds(f, false)
	f.Add([]byte(`[{"bn":"/3/0/","bt":1.5,"n":"9","v":1,"t":0.25},{"bn":"/3/0/","bt":1e9,"n":"13","v":-1e3}]`), uint8(2))
	f.Add([]byte(`[{"n":"/9000/0/5","vd":"AQI"},{"n":"/9000/0/7","vlo":"1:2"},{"n":"/9000/0/2","v":18446744073709551615}]`), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, sel uint8) { fuzzDecode(t, "json", b, sel, DecodeJSON) })
}

func FuzzSenMLCBOR(f *testing.F) {
	fuzzSeeds(f, true)
	f.Add(cborHex(f, `81 a3 00 6a "/9000/0/2" 02 3b ff ff ff ff ff ff ff ff 06 f9 3c 00`), uint8(0)) // -2^64 as unsigned: refused
	f.Add(cborHex(f, `9b ff ff ff ff ff ff ff ff`), uint8(0))                                        // 2^64-1 records claimed
	f.Add(cborHex(f, `81 a2 00 6a "/9000/0/5" 08 5a 7f ff ff ff`), uint8(0))                         // 2 GiB of opaque claimed
	f.Fuzz(func(t *testing.T, b []byte, sel uint8) { fuzzDecode(t, "cbor", b, sel, DecodeCBOR) })
}
