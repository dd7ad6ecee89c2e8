package flash

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile makes a file of n random bytes (or an empty one) and returns its path and content.
func writeFile(t *testing.T, name string, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func fileTarget(t *testing.T, path string) *Target {
	t.Helper()
	tg, err := Host{}.Inspect(path, true)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestFlashFile(t *testing.T) {
	for _, tc := range []struct {
		name            string
		image, device   int
		chunk           int
		wantDeviceBytes int
	}{
		{name: "one chunk, rest of device kept", image: 10000, device: 20000, wantDeviceBytes: 20000},
		{name: "many chunks, unaligned end", image: 3*4096 + 123, device: 1 << 20, chunk: 4096, wantDeviceBytes: 1 << 20},
		{name: "exact fit", image: 8192, device: 8192, chunk: 1000, wantDeviceBytes: 8192},
		{name: "empty file grows", image: 5000, device: 0, wantDeviceBytes: 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, want := writeFile(t, "img", tc.image)
			dev, old := writeFile(t, "dev", tc.device)
			var log bytes.Buffer
			res, err := Flash(context.Background(), img, fileTarget(t, dev), Options{Progress: &log, Chunk: tc.chunk})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(dev)
			if len(got) != tc.wantDeviceBytes || !bytes.Equal(got[:tc.image], want) || !bytes.Equal(got[tc.image:], old[min(tc.image, len(old)):]) {
				t.Errorf("device holds %d bytes, not the image followed by what was there", len(got))
			}
			sum := sha256.Sum256(want)
			if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(tc.image) {
				t.Errorf("result %+v, want sha256 %x", res, sum)
			}
			if !strings.Contains(log.String(), "verifying") || !strings.Contains(log.String(), "100%") {
				t.Errorf("progress %q lacks the end of verifying", log.String())
			}
		})
	}
}

// corrupt flips one byte of what reads back from a medium.
type corrupt struct {
	Medium
	at int64
}

func (c corrupt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.Medium.ReadAt(p, off)
	if i := c.at - off; i >= 0 && i < int64(n) {
		p[i] ^= 0x40
	}
	return n, err
}

func TestFlashCorruptReadBack(t *testing.T) {
	for _, at := range []int64{0, 4095, 4096, 70000, 99999} {
		img, want := writeFile(t, "img", 100000)
		dev, _ := writeFile(t, "dev", 0)
		open := func(t *Target) (Medium, error) {
			m, err := OpenMedium(t)
			return corrupt{m, at}, err
		}
		_, err := Flash(context.Background(), img, fileTarget(t, dev), Options{Open: open, Chunk: 4096})
		var me *MismatchError
		if !errors.As(err, &me) || me.Offset != at || me.Want != want[at] || me.Found != want[at]^0x40 {
			t.Fatalf("corrupt byte %d: got %v (%+v)", at, err, me)
		}
		if !strings.Contains(err.Error(), "differs from the image at byte") {
			t.Errorf("message %q", err)
		}
	}
}

func TestFlashRefusals(t *testing.T) {
	img, _ := writeFile(t, "img", 3000)
	small, _ := writeFile(t, "small", 2048)
	for _, tc := range []struct {
		name, image, device, want string
	}{
		{"image larger than target", img, small, "the image (2.9 KiB, 3000 bytes) is larger than the device (2.0 KiB, 2048 bytes)"},
		{"image is the target", img, img, "it is the image itself"},
		{"missing image", filepath.Join(t.TempDir(), "none.img"), small, "no such file"},
		{"compressed image", img + ".xz", small, "decompress it first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.device)
			_, err := Flash(context.Background(), tc.image, fileTarget(t, tc.device), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if after, _ := os.ReadFile(tc.device); !bytes.Equal(before, after) {
				t.Error("the refused target changed")
			}
		})
	}
}

func TestInspectFiles(t *testing.T) {
	file, _ := writeFile(t, "dev", 10)
	for _, tc := range []struct {
		path      string
		allowFile bool
		want      string
	}{
		{file, false, "a regular file, not a block device (writing to files needs --allow-file)"},
		{file, true, ""},
		{t.TempDir(), true, "a directory, not a block device"},
		{"/dev/null", true, "a character device, not a block device"},
		{filepath.Join(t.TempDir(), "missing"), true, "no such file"},
	} {
		_, err := Host{}.Inspect(tc.path, tc.allowFile)
		if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want))) {
			t.Errorf("Inspect(%s, %v) = %v, want %q", tc.path, tc.allowFile, err, tc.want)
		}
	}
}

// cancelling cancels a context at its first write.
type cancelling struct {
	Medium
	cancel context.CancelFunc
}

func (c cancelling) WriteAt(p []byte, off int64) (int, error) {
	c.cancel()
	return c.Medium.WriteAt(p, off)
}

func TestFlashCancel(t *testing.T) {
	img, _ := writeFile(t, "img", 50000)
	dev, _ := writeFile(t, "dev", 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func(t *Target) (Medium, error) {
		m, err := OpenMedium(t)
		return cancelling{m, cancel}, err
	}
	_, err := Flash(ctx, img, fileTarget(t, dev), Options{Open: open, Chunk: 4096})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted after writing 4.0 KiB of 48.8 KiB") ||
		!strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("got %v", err)
	}
}
