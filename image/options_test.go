package image

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOverlays(t *testing.T) {
	need(t, "mtype", "unsquashfs", "sfdisk")
	dir := t.TempDir()
	ov := filepath.Join(dir, "sensor")
	for p, content := range map[string]string{
		"boot/config.txt":      "dtparam=i2c_arm=on\n",
		"boot/notes.txt":       "hello\n",
		"root/etc/sensor.conf": "x=1\n",
		"root/usr/bin/readme":  "y\n",
	} {
		os.MkdirAll(filepath.Join(ov, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(ov, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := build(t, Options{Overlays: []string{ov, "../overlays/1wire"}})
	fat := img + "@@4M"
	config := run(t, "mtype", "-i", fat, "::/config.txt")
	if !strings.Contains(config, "arm_64bit=1\n") || !strings.Contains(config, "\ndtparam=i2c_arm=on\n") || !strings.Contains(config, "\ndtoverlay=w1-gpio\n") {
		t.Errorf("config.txt does not have the generated lines and both overlays':\n%s", config)
	}
	if got := run(t, "mtype", "-i", fat, "::/notes.txt"); got != "hello\n" {
		t.Errorf("notes.txt: %q", got)
	}
	sq := extract(t, img, bootSize+align, minRootSize)
	list := run(t, "unsquashfs", "-l", sq)
	for _, f := range []string{"squashfs-root/etc/sensor.conf", "squashfs-root/usr/bin/readme", "squashfs-root/etc/pigw.yaml"} {
		if !strings.Contains(list, f+"\n") {
			t.Errorf("root: no %s in\n%s", f, list)
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "pigw.yaml")
	os.WriteFile(bad, []byte("coap:\n  listen: [nonsense]\n"), 0o644)
	// The host's wpa_supplicant laid over the image by mistake.
	amd64 := filepath.Join(dir, "amd64-wpa")
	os.MkdirAll(filepath.Join(amd64, "root/usr/sbin"), 0o755)
	os.WriteFile(filepath.Join(amd64, "root/usr/sbin/wpa_supplicant"), fakeELF(elf.EM_X86_64, "/lib64/ld-linux-x86-64.so.2", ""), 0o755)
	for _, tc := range []struct {
		name string
		o    Options
		want []string
	}{
		{"no out", Options{}, []string{"--out", "missing"}},
		{"small", Options{Out: "x.img", Size: 100 << 20}, []string{"--size 100 MiB", "too small", "at least 836 MiB"}},
		{"arch", Options{Out: "x.img", Arch: "amd64"}, []string{"--arch amd64", "only arm64"}},
		{"config", Options{Out: filepath.Join(dir, "x.img"), Config: bad}, []string{"--config " + bad, bad + ":2:", "coap.listen"}},
		{"overlay", Options{Out: filepath.Join(dir, "x.img"), Overlays: []string{"/nonexistent/ov"}}, []string{"--overlay /nonexistent/ov", "not a directory"}},
		{"amd64 wpa_supplicant", Options{Out: filepath.Join(dir, "x.img"), Overlays: []string{amd64}},
			[]string{"root /usr/sbin/wpa_supplicant", "built for EM_X86_64", "backend auto would run it and fail"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.Out != "" && tc.o.Size == 0 && tc.o.Arch == "" {
				tc.o.Pigw = pigwBinary(t)
			}
			tc.o.ModuleRoot = ".."
			_, err := Build(context.Background(), tc.o)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tc.o.Out != "" {
				if _, err := os.Stat(tc.o.Out); err == nil {
					t.Errorf("%s was written", tc.o.Out)
				}
			}
		})
	}
}
