package image

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/pigw/pigw/internal/fat32"
)

// offsetDevice is a partition of an image file, read-only.
type offsetDevice struct {
	f   *os.File
	off int64
}

func (d offsetDevice) ReadAt(b []byte, off int64) (int, error) { return d.f.ReadAt(b, d.off+off) }
func (d offsetDevice) WriteAt([]byte, int64) (int, error)      { return 0, os.ErrPermission }

// TestSignedBundle: with --sign-key the image's root says what it is and whom it trusts, and
// the bundle beside the image holds root A's exact bytes under a manifest the image itself
// would admit.
func TestSignedBundle(t *testing.T) {
	need(t, "unsquashfs")
	dir := t.TempDir()
	key, other := filepath.Join(dir, "sign"), filepath.Join(dir, "other")
	for _, k := range []string{key, other} {
		if _, err := bundle.GenerateKeyFiles(k); err != nil {
			t.Fatal(err)
		}
	}
	o := Options{Out: filepath.Join(dir, "pigw-rpi.img"), Pigw: pigwBinary(t), ModuleRoot: "..", Size: testSize,
		SignKey: key, Trust: []string{other + ".pub"}, Seq: 42, Version: "v-test"}
	res, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bundle != filepath.Join(dir, "pigw-rpi.update") {
		t.Fatalf("bundle at %q", res.Bundle)
	}
	b, err := os.ReadFile(res.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	h, err := bundle.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	root := res.Partitions[1]
	img, err := os.Open(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	rootBytes, err := io.ReadAll(io.NewSectionReader(img, root.Start, root.Used))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(rootBytes)
	m := h.Manifest
	if !bytes.Equal(b[bundle.HeaderSize:], rootBytes) || m.Components[0].Size != root.Used || m.Components[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("the bundle's payload (%d bytes, manifest %+v) is not root A's %d bytes", len(b)-bundle.HeaderSize, m.Components, root.Used)
	}
	if m.Seq != 42 || m.Version != "v-test" || m.BoardFamily != "rpi-arm64" || m.KernelRelease != res.Kernel {
		t.Errorf("manifest %+v", m)
	}

	// The device side: what the root says, and the keys it trusts.
	sq := extract(t, o.Out, root.Start, root.Used)
	out := filepath.Join(t.TempDir(), "root")
	run(t, "unsquashfs", "-no-xattrs", "-d", out, sq, bundle.ReleasePath, bundle.KeysDir)
	var rel bundle.Release
	data, err := os.ReadFile(filepath.Join(out, bundle.ReleasePath))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rel); err != nil {
		t.Fatal(err)
	}
	keys, _ := filepath.Glob(filepath.Join(out, bundle.KeysDir, "*.pub"))
	var trusted []ed25519.PublicKey
	for _, k := range keys {
		pub, err := bundle.ReadPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(k) != bundle.IDOf(pub).String()+".pub" {
			t.Errorf("trusted key file %s holds key %s", filepath.Base(k), bundle.IDOf(pub))
		}
		trusted = append(trusted, pub)
	}
	if len(trusted) != 2 {
		t.Fatalf("%d trusted keys in the root, want 2 (--sign-key and --trust)", len(trusted))
	}
	// The device reads the committed root from cmdline.txt on the boot partition, raw.
	boot, err := fat32.Open(offsetDevice{img, res.Partitions[0].Start})
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := boot.Lookup("cmdline.txt")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := cmd.ReadAll(); err != nil || !strings.Contains(string(b), fmt.Sprintf("root=PARTUUID=%08x-02 ", res.DiskID)) {
		t.Errorf("cmdline.txt read through package fat32: %v %q", err, b)
	}
	dev := &bundle.Device{Trusted: trusted, Product: rel.Product, BoardFamily: rel.BoardFamily, Arch: rel.Arch,
		KernelRelease: rel.KernelRelease, Floor: rel.Floor, SlotSize: res.Partitions[2].Size}
	if err := dev.Admit(h); err != nil {
		t.Errorf("the image refuses its own bundle: %v", err)
	}
}
