package update

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pigw/pigw/appliance/state"
	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/pigw/pigw/appliance/update/bundle/bundletest"
)

var testRelease = bundle.Release{Product: "pigw", BoardFamily: "rpi-arm64", Arch: "arm64", Version: "v1", Seq: 100, Floor: 100, KernelRelease: "6.12.47-v8"}

// device is a running root, its state and a file slot, as an Updater sees them.
type device struct {
	root, stateDir, slot string
	key                  ed25519.PrivateKey
}

func newDevice(t *testing.T, slotSize int64, trust bool) *device {
	t.Helper()
	d := &device{root: t.TempDir(), stateDir: t.TempDir(), slot: filepath.Join(t.TempDir(), "slot-b")}
	_, d.key, _ = ed25519.GenerateKey(rand.Reader)
	var trusted []ed25519.PublicKey
	if trust {
		trusted = append(trusted, d.key.Public().(ed25519.PublicKey))
	}
	if err := bundletest.WriteRoot(d.root, testRelease, trusted...); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.slot, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(d.slot, slotSize); err != nil {
		t.Fatal(err)
	}
	return d
}

// updater is what the device runs after each (re)start.
func (d *device) updater(t *testing.T) *Updater {
	t.Helper()
	dir, err := state.Open(d.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	u, err := New(Config{Dir: dir, Root: d.root, Layout: FileSlot{Path: d.slot}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// makeBundle is a bundle of a root of n pseudo-random bytes, its manifest edited by edit.
func makeBundle(t *testing.T, key ed25519.PrivateKey, n int, edit func(*bundle.Manifest)) []byte {
	t.Helper()
	root := make([]byte, n)
	for i := range root {
		root[i] = byte(i*7 + i>>10)
	}
	rel := testRelease
	rel.Version, rel.Seq, rel.Floor = "v2", 200, 200
	m := rel.Manifest(bundletest.Root(root))
	if edit != nil {
		edit(&m)
	}
	b, err := bundletest.Bundle(m, root, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// push sends b[from:] in pieces of bs bytes; it stops at the first error or after stop bytes.
func push(u *Updater, b []byte, from, stop int64, bs int, id string) (bool, error) {
	for off := from; off < int64(len(b)) && off < stop; off += int64(bs) {
		end := min(off+int64(bs), int64(len(b)))
		p := Piece{Offset: off, Data: b[off:end], More: end < int64(len(b)), Size1: -1, ID: id}
		if off == from {
			p.Size1 = int64(len(b))
		}
		done, err := u.Take(p)
		if err != nil || done {
			return done, err
		}
	}
	return false, nil
}

func slotBytes(t *testing.T, d *device, n int) []byte {
	b, err := os.ReadFile(d.slot)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

func TestTakeGoodBundle(t *testing.T) {
	for _, bs := range []int{1024, 256} {
		d := newDevice(t, 4<<20, true)
		if err := os.WriteFile(d.slot, bytes.Repeat([]byte{0xff}, 4<<20), 0o600); err != nil { // an older root's bytes
			t.Fatal(err)
		}
		u := d.updater(t)
		b := makeBundle(t, d.key, 3<<20+123, nil)
		done, err := push(u, b, 0, 1<<40, bs, "")
		if err != nil || !done {
			t.Fatalf("block size %d: done %v, %v", bs, done, err)
		}
		if !bytes.Equal(slotBytes(t, d, len(b)-bundle.HeaderSize), b[bundle.HeaderSize:]) {
			t.Fatal("the slot does not hold the bundle's root")
		}
		if rest := slotBytes(t, d, 4<<20)[len(b)-bundle.HeaderSize:]; !bytes.Equal(rest, make([]byte, len(rest))) {
			t.Error("the slot keeps an older root's bytes after the new root")
		}
		st := d.updater(t).Status() // what the device says after a restart
		if st.State != Downloaded || st.Other.Content != "verified" || st.Other.Version != "v2" || st.Other.Seq != 200 || st.Running.Version != "v1" || st.Committed.Slot != "a" {
			t.Errorf("status %+v", st)
		}
	}
}

func TestTakeRefusesBeforeWriting(t *testing.T) {
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name     string
		trust    bool
		slotSize int64
		key      func(d *device) ed25519.PrivateKey
		edit     func(*bundle.Manifest)
		kind     Kind
		result   Result
		want     string
	}{
		{name: "untrusted key", key: func(*device) ed25519.PrivateKey { return otherKey }, kind: Refused, result: ResultIntegrity, want: "does not trust"},
		{name: "image trusts no key", trust: false, kind: Refused, result: ResultIntegrity, want: "trusts no update key"},
		{name: "wrong board", edit: func(m *bundle.Manifest) { m.BoardFamily = "rpi-armv6" }, kind: Refused, result: ResultUnsupported, want: `board family "rpi-armv6"`},
		{name: "wrong architecture", edit: func(m *bundle.Manifest) { m.Arch = "arm" }, kind: Refused, result: ResultUnsupported, want: "architecture"},
		{name: "wrong kernel", edit: func(m *bundle.Manifest) { m.KernelRelease = "6.6.1" }, kind: Refused, result: ResultUnsupported, want: "kernel release"},
		{name: "downgrade", edit: func(m *bundle.Manifest) { m.Seq, m.Floor = 99, 99 }, kind: Refused, result: ResultUnsupported, want: "below this device's floor 100"},
		{name: "larger than the slot", slotSize: 1 << 20, kind: TooLarge, result: ResultNoStorage, want: "does not fit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trust := tc.trust || tc.name != "image trusts no key"
			slotSize := tc.slotSize
			if slotSize == 0 {
				slotSize = 4 << 20
			}
			d := newDevice(t, slotSize, trust)
			key := d.key
			if tc.key != nil {
				key = tc.key(d)
			}
			b := makeBundle(t, key, 2<<20, tc.edit)
			u := d.updater(t)
			_, err := push(u, b, 0, 1<<40, 1024, "")
			var e *Error
			if !errors.As(err, &e) || e.Kind != tc.kind || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (%#v), want kind %d with %q", err, e, tc.kind, tc.want)
			}
			if tc.kind == TooLarge && e.Limit != bundle.HeaderSize+slotSize {
				t.Errorf("a bundle too large names the limit %d, want %d", e.Limit, bundle.HeaderSize+slotSize)
			}
			if n := int(min(slotSize, 2<<20)); !bytes.Equal(slotBytes(t, d, n), make([]byte, n)) {
				t.Error("the slot was written")
			}
			st := u.Status()
			if st.Result != tc.result || st.Other.Content != "empty" || st.State != Idle {
				t.Errorf("status %+v", st)
			}
		})
	}
}

// A byte that changes between what was signed and what reaches the slot is found by the
// read-back, and the slot is never taken as verified.
func TestTakeFlippedByte(t *testing.T) {
	d := newDevice(t, 4<<20, true)
	b := makeBundle(t, d.key, 1<<20+5000, nil)
	b[bundle.HeaderSize+777777] ^= 0x20
	_, err := push(d.updater(t), b, 0, 1<<40, 1024, "")
	var e *Error
	if !errors.As(err, &e) || e.Kind != Corrupt || !strings.Contains(err.Error(), "read back has SHA-256") {
		t.Fatalf("got %v", err)
	}
	st := d.updater(t).Status()
	if st.Other.Content != "invalid" || st.Result != ResultIntegrity || st.State != Idle {
		t.Errorf("status %+v", st)
	}
}

// An upload broken off resumes, after a restart, from the last synced megabyte, named by its
// ID; another ID, or a piece beyond what arrived, is refused.
func TestTakeResume(t *testing.T) {
	d := newDevice(t, 4<<20, true)
	b := makeBundle(t, d.key, 3<<20+100, nil)
	if _, err := push(d.updater(t), b, 0, bundle.HeaderSize+2<<20+5*1024, 1024, ""); err != nil {
		t.Fatal(err)
	}
	u := d.updater(t)
	st := u.Status()
	if st.State != Downloading || st.BytesReceived != bundle.HeaderSize+2<<20 || st.BytesTotal != int64(len(b)) || st.Other.Content != "partial" {
		t.Fatalf("status after the restart %+v", st)
	}
	var e *Error
	if _, err := push(u, b, st.BytesReceived+1024, 1<<40, 1024, st.UploadID); !errors.As(err, &e) || e.Kind != OutOfOrder {
		t.Errorf("a piece beyond: %v", err)
	}
	if _, err := push(u, b, st.BytesReceived, 1<<40, 1024, "0123456789abcdef"); !errors.As(err, &e) || e.Kind != WrongUpload {
		t.Errorf("another upload's ID: %v", err)
	}
	done, err := push(u, b, st.BytesReceived, 1<<40, 1024, st.UploadID)
	if err != nil || !done {
		t.Fatalf("resumed: %v %v", done, err)
	}
	if !bytes.Equal(slotBytes(t, d, len(b)-bundle.HeaderSize), b[bundle.HeaderSize:]) {
		t.Fatal("the slot does not hold the bundle's root")
	}
	if _, err := push(d.updater(t), b, 4096, 1<<40, 1024, ""); !errors.As(err, &e) || e.Kind != OutOfOrder {
		t.Errorf("a resume after the upload ended: %v", err)
	}
}

// Malformed uploads: each refusal names its rule.
func TestTakeMalformed(t *testing.T) {
	d := newDevice(t, 4<<20, true)
	b := makeBundle(t, d.key, 8192, nil)
	for _, tc := range []struct {
		name   string
		pieces []Piece
		kind   Kind
		want   string
	}{
		{"not a bundle", []Piece{{Data: []byte("hello"), Size1: -1}}, Corrupt, "inside its 4096-byte header"},
		{"garbage header", []Piece{{Data: bytes.Repeat([]byte{1}, 1024), More: true, Size1: -1}, {Offset: 1024, Data: make([]byte, 1024), More: true, Size1: -1}, {Offset: 2048, Data: make([]byte, 1024), More: true, Size1: -1}, {Offset: 3072, Data: make([]byte, 1024), More: true, Size1: -1}}, Refused, "PIGWUPD1"},
		{"announced too large", []Piece{{Data: b[:1024], More: true, Size1: 8 << 20}}, TooLarge, "does not fit"},
		{"no upload to resume", []Piece{{Offset: 5120, Data: b[5120:6144], More: true, Size1: -1}}, OutOfOrder, "no upload in progress"},
		{"more than the manifest says", append(pieces(b[:4096]), Piece{Offset: 4096, Data: make([]byte, 9000), More: true, Size1: -1}), TooLarge, "the manifest makes the bundle"},
		{"ends early", append(pieces(b[:4096]), Piece{Offset: 4096, Data: b[4096:5120], Size1: -1}), Corrupt, "bundle ends at byte 5120"},
	} {
		u := d.updater(t)
		var err error
		for _, p := range tc.pieces {
			if _, err = u.Take(p); err != nil {
				break
			}
		}
		var e *Error
		if !errors.As(err, &e) || e.Kind != tc.kind || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want kind %d with %q", tc.name, err, tc.kind, tc.want)
		}
	}
}

func pieces(b []byte) []Piece {
	var ps []Piece
	for off := 0; off < len(b); off += 1024 {
		ps = append(ps, Piece{Offset: int64(off), Data: b[off : off+1024], More: true, Size1: -1})
	}
	return ps
}
