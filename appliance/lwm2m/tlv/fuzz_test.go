package tlv

import (
	"slices"
	"strings"
	"testing"

	"github.com/pigw/pigw/appliance/lwm2m/node"
	"github.com/pigw/pigw/internal/fuzzcheck"
)

// fuzzPaths are the paths a fuzzed payload is decoded at, chosen by a byte of the input.
var fuzzPaths = []node.Path{
	node.Object(3), node.Instance(3, 0), node.Resource(3, 0, 6), node.ResourceInstance(3, 0, 6, 1),
	node.Object(2), node.Object(1), node.Instance(65, 0), node.Object(66), node.Resource(3, 0, 13),
	node.Object(9000), node.Resource(9000, 0, 4),
}

// FuzzTLV decodes payloads as a server sends them. Nothing panics, nothing allocates for a
// length the input does not hold, errors say "tlv:", and what decodes encodes and decodes
// again to the same records.
func FuzzTLV(f *testing.F) {
	for _, ex := range specExamples {
		i := slices.Index(fuzzPaths, ex.at)
		if i < 0 {
			f.Fatalf("%s is not in fuzzPaths", ex.at)
		}
		f.Add(unhex(f, ex.hex), uint8(i))
	}
	f.Add(unhex(f, "D8 00 FFFFFF 00"), uint8(1))       // a length of 16 MiB in 6 bytes
	f.Add(unhex(f, "0000 0301 C10964"), uint8(0))      // empty instance
	f.Add(unhex(f, "080007 E4164341B40000"), uint8(9)) // a 16-bit resource id, a float
	f.Fuzz(func(t *testing.T, b []byte, sel uint8) {
		at := fuzzPaths[int(sel)%len(fuzzPaths)]
		var recs []node.Record
		var err error
		fuzzcheck.Bounded(t, len(b), 1024, func() { recs, err = Decode(b, at, allTypes) })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tlv: ") {
				t.Fatalf("error %q does not say it is about TLV", err)
			}
			return
		}
		again, err := Encode(at, recs)
		if err != nil {
			t.Fatalf("decoded %v at %s, which does not encode: %v", recs, at, err)
		}
		back, err := Decode(again, at, allTypes)
		if err != nil {
			t.Fatalf("decoded %v at %s, encoded as % X, which does not decode: %v", recs, at, again, err)
		}
		if !slices.Equal(back, recs) {
			t.Fatalf("decoded %v at %s, encoded as % X, decoded again as %v", recs, at, again, back)
		}
	})
}
