package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testManifest() Manifest {
	sum := sha256.Sum256([]byte("root"))
	return Manifest{
		Format: 1, Product: "pigw", BoardFamily: "rpi-arm64", Arch: "arm64", Version: "v1.2",
		Seq: 10, Floor: 8, KernelRelease: "6.12.47-v8",
		Components: []Component{{Name: "root", Size: 4096, SHA256: hex.EncodeToString(sum[:])}},
	}
}

func testKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key")
	if _, err := GenerateKeyFiles(path); err != nil {
		t.Fatal(err)
	}
	priv, err := ReadPrivateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ReadPublicKey(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func testDevice(trusted ...ed25519.PublicKey) *Device {
	return &Device{Trusted: trusted, Product: "pigw", BoardFamily: "rpi-arm64", Arch: "arm64",
		KernelRelease: "6.12.47-v8", Floor: 9, SlotSize: 1 << 20}
}

func TestAdmit(t *testing.T) {
	pub, priv := testKey(t)
	otherPub, otherPriv := testKey(t)
	for _, tc := range []struct {
		name  string
		edit  func(m *Manifest, d *Device, h []byte) []byte
		key   ed25519.PrivateKey
		want  string // "" admits
		large bool
	}{
		{name: "good"},
		{name: "signed by a second trusted key", key: otherPriv, edit: func(_ *Manifest, d *Device, h []byte) []byte { d.Trusted = append(d.Trusted, otherPub); return h }},
		{name: "seq at the floor", edit: func(m *Manifest, d *Device, h []byte) []byte { d.Floor = m.Seq; return h }},
		{name: "one manifest byte changed", edit: func(_ *Manifest, _ *Device, h []byte) []byte { h[bytes.Index(h, []byte("v1.2"))+3] = '3'; return h }, want: "does not verify"},
		{name: "untrusted key", key: otherPriv, want: "which this image does not trust"},
		{name: "no trusted key", edit: func(_ *Manifest, d *Device, h []byte) []byte { d.Trusted = nil; return h }, want: "trusts no update key"},
		{name: "wrong board", edit: func(m *Manifest, _ *Device, h []byte) []byte { m.BoardFamily = "x86"; return nil }, want: `board family "x86"; this device is "rpi-arm64"`},
		{name: "wrong arch", edit: func(m *Manifest, _ *Device, h []byte) []byte { m.Arch = "arm"; return nil }, want: `architecture "arm"`},
		{name: "other kernel", edit: func(m *Manifest, _ *Device, h []byte) []byte { m.KernelRelease = "6.6.1"; return nil }, want: `kernel release "6.6.1"`},
		{name: "downgrade", edit: func(m *Manifest, d *Device, h []byte) []byte { d.Floor = 11; return h }, want: "below this device's floor 11"},
		{name: "known bad", edit: func(m *Manifest, d *Device, h []byte) []byte {
			hd, _ := ParseHeader(h)
			dg := hd.Digest()
			d.Bad = map[string]string{hex.EncodeToString(dg[:]): "the trial root did not come up"}
			return h
		}, want: "failed its trial on this device before: the trial root did not come up"},
		{name: "trial running", edit: func(_ *Manifest, d *Device, h []byte) []byte { d.TrialRunning = true; return h }, want: "a trial of another update is running"},
		{name: "too large", edit: func(_ *Manifest, d *Device, h []byte) []byte { d.SlotSize = 100; return h }, want: "the slot has 100", large: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, d := testManifest(), testDevice(pub)
			key := priv
			if tc.key != nil {
				key = tc.key
			}
			h, err := Sign(m, key)
			if err != nil {
				t.Fatal(err)
			}
			if tc.edit != nil {
				if h = tc.edit(&m, d, h); h == nil {
					if h, err = Sign(m, key); err != nil {
						t.Fatal(err)
					}
				}
			}
			hd, err := ParseHeader(h)
			if err == nil {
				err = d.Admit(hd)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v, want %q", err, tc.want)
			case errors.Is(err, ErrTooLarge) != tc.large:
				t.Fatalf("err %v: too large %v, want %v", err, errors.Is(err, ErrTooLarge), tc.large)
			}
		})
	}
}

func TestParseHeaderErrors(t *testing.T) {
	_, priv := testKey(t)
	good, err := Sign(testManifest(), priv)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(h []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name string
		h    []byte
		want string
	}{
		{"empty", nil, "0 bytes"},
		{"a squashfs", edit(func(h []byte) []byte { copy(h, "hsqs\x00\x00\x00\x00"); return h }), "not a pigw update bundle"},
		{"other header size", edit(func(h []byte) []byte { h[10] = 0x20; return h }), "length 8192"},
		{"cut short", good[:1000], "1000 bytes, need 4096"},
		{"manifest too long", edit(func(h []byte) []byte { h[12] = 0x10; return h }), "at most 4008"},
		{"manifest not JSON", edit(func(h []byte) []byte { h[16] = '['; return h }), "bundle manifest"},
		{"padding changed", edit(func(h []byte) []byte { h[HeaderSize-1] = 1; return h }), "padding after the signature must be zeros"},
	} {
		if _, err := ParseHeader(tc.h); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct {
		edit func(m *Manifest)
		want string
	}{
		{func(m *Manifest) { m.Format = 2 }, "format 2"},
		{func(m *Manifest) { m.Product = "" }, "product is empty"},
		{func(m *Manifest) { m.Floor = 11 }, "floor 11 above its own seq 10"},
		{func(m *Manifest) { m.Components = nil }, "want exactly one"},
		{func(m *Manifest) { m.Components[0].SHA256 = "abc" }, "not 64 hex digits"},
		{func(m *Manifest) { m.Components[0].Size = 0 }, "size 0"},
	} {
		m := testManifest()
		tc.edit(&m)
		if _, err := Sign(m, priv); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Sign: %v, want %q", err, tc.want)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	id, err := GenerateKeyFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	for f, mode := range map[string]os.FileMode{path: 0o600, path + ".pub": 0o644} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", f, st.Mode().Perm(), mode)
		}
	}
	pub, err := ReadPublicKey(path + ".pub")
	if err != nil || IDOf(pub) != id {
		t.Errorf("public key %v, id %v, want %v", err, IDOf(pub), id)
	}
	if _, err := GenerateKeyFiles(path); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second keygen to the same path: %v, want a refusal", err)
	}
	if _, err := ReadPrivateKey(path + ".pub"); err == nil {
		t.Error("a public key read as private")
	}
}

func FuzzParseHeader(f *testing.F) {
	_, priv := testKey(f)
	good, _ := Sign(testManifest(), priv)
	f.Add(good)
	f.Add(good[:100])
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if err := h.Manifest.check(); err != nil {
			t.Fatalf("parsed a manifest Sign would refuse: %v", err)
		}
		_ = testDevice().Admit(h)
	})
}
