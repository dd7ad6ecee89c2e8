package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/pigw/pigw/internal/fuzzcheck"
)

// FuzzDecodeRecord reads record files as the next boot finds them on /perm: written whole by
// Put, cut short by a power cut, rotted, or edited by hand. The decoder takes only what Put
// writes, byte for byte (encoding what it returns gives the file back), refuses the rest
// with ErrCorrupt and a message that says what is wrong, and allocates nothing for the length
// a header claims.
func FuzzDecodeRecord(f *testing.F) {
	for _, data := range [][]byte{nil, {}, []byte("1"), []byte(`{"uri":"x","value":"MjE="}`), bytes.Repeat([]byte{0xff}, 100)} {
		rec := append(recordHeader(data), data...)
		f.Add(rec)
		f.Add(rec[:len(rec)-1])                   // cut short
		f.Add(append(bytes.Clone(rec), 0))        // a byte too many
		f.Add(append([]byte("PGS2"), rec[4:]...)) // another version
		flipped := bytes.Clone(rec)
		flipped[len(flipped)-1] ^= 1
		f.Add(flipped)
	}
	huge := recordHeader(nil)
	binary.BigEndian.PutUint64(huge[4:12], 1<<62) // a length no file has
	f.Add(huge)
	f.Fuzz(func(t *testing.T, b []byte) {
		var data []byte
		var err error
		fuzzcheck.Bounded(t, len(b), 0, func() { data, err = decodeRecord(b) })
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			for _, what := range []string{"header", "magic", "data bytes", "CRC-32C"} {
				if strings.Contains(err.Error(), what) {
					return
				}
			}
			t.Fatalf("error %q says nothing of what is wrong", err)
		}
		if again := append(recordHeader(data), data...); !bytes.Equal(again, b) {
			t.Fatalf("decoded %q from %x, which encodes as %x", data, b, again)
		}
	})
}

// FuzzKeyFromName reads the names of the files in a state directory: one that Put wrote
// decodes to its key, and a name that decodes at all is the one Put would write for that key,
// so no two files hold one key.
func FuzzKeyFromName(f *testing.F) {
	for _, key := range []string{"a", "a/b/c", "..", "\x00\xff\n", "héllo/世界/🌡", strings.Repeat("k", MaxKeyLen)} {
		name, err := fileName(key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name)
	}
	for _, name := range []string{".rec", "YQ.rec", "YR.rec", "YQ==.rec", "Y+8.rec", "Y_8.rec", "a.tmp", "put-123.tmp", "YQ.rec.rec", ""} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		key, ok := keyFromName(name)
		if !ok {
			return
		}
		if key == "" {
			t.Fatalf("%q decodes to the empty key", name)
		}
		again, err := fileName(key)
		if err != nil {
			t.Fatalf("%q decodes to key %q, which Put refuses: %v", name, key, err)
		}
		if again != name {
			t.Fatalf("%q decodes to key %q, whose file is %q", name, key, again)
		}
	})
}

// Names the decoder alone takes but Put never writes. Found by FuzzKeyFromName.
func TestKeyFromNameTakesOnlyPutsNames(t *testing.T) {
	long := strings.Repeat("0", maxNameLen+1-len(recSuffix)) + recSuffix
	for name, want := range map[string]bool{"aw.rec": true, "a\nw.rec": false, "\r000.rec": false, "aw\r.rec": false, long: false} {
		if _, ok := keyFromName(name); ok != want {
			t.Errorf("keyFromName(%.20q…) ok = %t, want %t", name, ok, want)
		}
	}
}
