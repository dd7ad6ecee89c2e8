package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pigw/pigw/image/flash"
)

func randomFile(t *testing.T, dir, name string, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func TestFlashCommand(t *testing.T) {
	dir := t.TempDir()
	img, want := randomFile(t, dir, "pigw-rpi.img", 100000)
	big, _ := randomFile(t, dir, "big.img", 300000)
	for _, tc := range []struct {
		name     string
		args     []string // {dev} is a fresh 200000-byte file
		stdin    string
		status   int
		stderr   string // in stderr
		stdout   string // in stdout
		writes   bool
		noDevice bool // the device file is not created
	}{
		{name: "yes proceeds", args: []string{"--device", "{dev}", "--allow-file", "--yes", img}, status: 0,
			stdout: "wrote pigw-rpi.img (97.7 KiB) to {dev} in", writes: true},
		{name: "flags after the image", args: []string{img, "--yes", "--allow-file", "--device={dev}"}, status: 0,
			stdout: "verified in", writes: true},
		{name: "no terminal, no --yes", args: []string{"--device", "{dev}", "--allow-file", img}, stdin: "yes\n", status: 1,
			stderr: "standard input is not a terminal, so nobody can confirm: pass --yes"},
		{name: "missing --device", args: []string{"--yes", img}, status: 2, stderr: "--device is required"},
		{name: "missing image", args: []string{"--device", "{dev}", "--yes"}, status: 2, stderr: "flash needs one IMAGE, got 0"},
		{name: "two images", args: []string{"--device", "{dev}", img, img}, status: 2, stderr: "got 2 arguments"},
		{name: "image not found", args: []string{"--device", "{dev}", "--allow-file", "--yes", filepath.Join(dir, "nope.img")},
			status: 1, stderr: "image: stat " + filepath.Join(dir, "nope.img") + ": no such file"},
		{name: "compressed image", args: []string{"--device", "{dev}", "--allow-file", "--yes", img + ".zst"},
			status: 1, stderr: "is compressed (.zst): decompress it first"},
		{name: "device not found", args: []string{"--device", "{dev}", "--allow-file", "--yes", img}, noDevice: true,
			status: 1, stderr: "device: stat {dev}: no such file"},
		{name: "file without --allow-file", args: []string{"--device", "{dev}", "--yes", img}, status: 1,
			stderr: "refusing {dev}: a regular file, not a block device"},
		{name: "character device", args: []string{"--device", "/dev/null", "--yes", img}, status: 1,
			stderr: "refusing /dev/null: a character device, not a block device"},
		{name: "image larger than device", args: []string{"--device", "{dev}", "--allow-file", "--yes", big}, status: 1,
			stderr: "the image (293.0 KiB, 300000 bytes) is larger than the device (195.3 KiB, 200000 bytes)"},
		{name: "unknown flag", args: []string{"--device", "{dev}", "--force", img}, status: 2, stderr: "flag provided but not defined"},
		{name: "help", args: []string{"--help"}, status: 2, stderr: "Usage:\n  pigw flash --device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev, old := randomFile(t, t.TempDir(), "card", 200000)
			if tc.noDevice {
				os.Remove(dev)
			}
			var args []string
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "{dev}", dev))
			}
			var stdout, stderr bytes.Buffer
			status := runFlash(args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if status != tc.status {
				t.Errorf("status %d, want %d; stderr:\n%s", status, tc.status, stderr.String())
			}
			if s := strings.ReplaceAll(tc.stderr, "{dev}", dev); !strings.Contains(stderr.String(), s) {
				t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
			}
			if s := strings.ReplaceAll(tc.stdout, "{dev}", dev); !strings.Contains(stdout.String(), s) {
				t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
			}
			got, _ := os.ReadFile(dev)
			if tc.writes && !bytes.Equal(got, append(want, old[len(want):]...)) {
				t.Error("the device does not hold the image followed by its old content")
			}
			if !tc.writes && !tc.noDevice && !bytes.Equal(got, old) {
				t.Error("the device changed")
			}
		})
	}
}

func TestFlashInUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if status := run([]string{"flash", "help"}, &stdout, &stderr); status != exitUsage || !strings.Contains(stderr.String(), "pigw flash --device") {
		t.Errorf("pigw flash help: status %d, stderr %q", status, stderr.String())
	}
	if run([]string{"help"}, &stdout, &stderr); !strings.Contains(stdout.String(), "pigw flash --device /dev/sdX") {
		t.Errorf("pigw help lacks flash:\n%s", stdout.String())
	}
}

// flipper corrupts one byte of what reads back.
type flipper struct {
	flash.Medium
	at int64
}

func (f flipper) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.Medium.ReadAt(p, off)
	if i := f.at - off; i >= 0 && i < int64(n) {
		p[i]++
	}
	return n, err
}

func TestFlashCommandCorruptReadBack(t *testing.T) {
	dir := t.TempDir()
	img, _ := randomFile(t, dir, "pigw-rpi.img", 5<<20)
	dev, _ := randomFile(t, dir, "card", 6<<20)
	open := func(t *flash.Target) (flash.Medium, error) {
		m, err := flash.OpenMedium(t)
		return flipper{m, 4<<20 + 17}, err
	}
	var stdout, stderr bytes.Buffer
	err := flashMain(context.Background(), flash.Host{}, open, []string{"--device", dev, "--allow-file", "--yes", img},
		strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "differs from the image at byte 4194321 (0x400011)") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(stdout.String(), "verified") {
		t.Errorf("stdout claims success: %s", stdout.String())
	}
}
