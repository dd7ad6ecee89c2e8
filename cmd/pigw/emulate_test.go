package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEmulateUsage(t *testing.T) {
	dir := t.TempDir()
	notImage := filepath.Join(dir, "not.img")
	if err := os.WriteFile(notImage, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"image", "emulate"}, 2, "name one image file"},
		{[]string{"image", "emulate", "a.img", "b.img"}, 2, "name one image file"},
		{[]string{"image", "emulate", "--port", "0", "a.img"}, 2, "--port 0: must be 1..65534"},
		{[]string{"image", "emulate", "--http-port", "70000", "a.img"}, 2, "--http-port 70000: must be 1..65535"},
		{[]string{"image", "emulate", "--card-size", "lots", "a.img"}, 2, `--card-size "lots"`},
		{[]string{"image", "emulate", "--card-size", "3G", notImage}, 1, "card size 3221225472: QEMU's SD card must be a power of two"},
		{[]string{"image", "emulate", notImage}, 1, "no MBR partition table"},
		{[]string{"image", "emulate", filepath.Join(dir, "missing.img")}, 1, "no such file"},
	} {
		var stderr bytes.Buffer
		code := run(c.args, &stderr, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("pigw %s: exit %d, %q; want %d and %q", strings.Join(c.args, " "), code, stderr.String(), c.code, c.want)
		}
	}
}
