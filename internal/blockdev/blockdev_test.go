package blockdev

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSys writes a sysfs tree with an SD card, mmcblk0 (179:0), of four partitions as pigw's
// image has them.
func fakeSys(t *testing.T) string {
	t.Helper()
	sys := t.TempDir()
	disk := filepath.Join(sys, "devices/platform/emmc2bus/mmc_host/mmc0/block/mmcblk0")
	write := func(dir, name, v string) {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(from, to string) {
		if err := os.MkdirAll(filepath.Dir(from), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(to, from); err != nil {
			t.Fatal(err)
		}
	}
	write(disk, "size", "62333952")
	write(disk, "queue/logical_block_size", "512")
	link(filepath.Join(sys, "dev/block/179:0"), disk)
	link(filepath.Join(sys, "class/block/mmcblk0"), disk)
	for i, p := range [][2]string{{"8192", "524288"}, {"532480", "524288"}, {"1056768", "524288"}, {"1581056", "60752896"}} {
		name := "mmcblk0p" + string(rune('1'+i))
		dir := filepath.Join(disk, name)
		write(dir, "partition", string(rune('1'+i)))
		write(dir, "start", p[0])
		write(dir, "size", p[1])
		link(filepath.Join(sys, "dev/block/179:"+string(rune('1'+i))), dir)
		link(filepath.Join(sys, "class/block", name), dir)
	}
	return sys
}

func TestFinder(t *testing.T) {
	f := Finder{Sys: fakeSys(t), Dev: "/dev"}
	root, err := f.ByNumber(179, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := Partition{Dev: "/dev/mmcblk0p2", Number: 2, Start: 532480, Size: 524288, Disk: "/dev/mmcblk0", DiskSize: 62333952, SectorSize: 512}
	if root != want {
		t.Errorf("179:2 = %+v\nwant %+v", root, want)
	}
	for _, tc := range []struct {
		n    int
		dev  string
		want string
	}{
		{3, "/dev/mmcblk0p3", ""},
		{4, "/dev/mmcblk0p4", ""},
		{5, "", "/dev/mmcblk0 has no partition 5"},
	} {
		p, err := f.Sibling(root, tc.n)
		switch {
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("sibling %d: %v, want %q", tc.n, err, tc.want)
		case tc.want == "" && (err != nil || p.Dev != tc.dev || p.Number != tc.n || p.Disk != "/dev/mmcblk0"):
			t.Errorf("sibling %d: %+v, %v", tc.n, p, err)
		}
	}
	disk, err := f.ByNumber(179, 0)
	if err != nil || disk.Number != 0 || disk.Size != 62333952 || disk.Disk != "/dev/mmcblk0" {
		t.Errorf("179:0 = %+v, %v", disk, err)
	}
	if _, err := f.Sibling(disk, 2); err == nil || !strings.Contains(err.Error(), "whole disk") {
		t.Errorf("sibling of a whole disk: %v", err)
	}
	if _, err := f.ByNumber(8, 1); err == nil || !strings.Contains(err.Error(), "8:1 in sysfs") {
		t.Errorf("8:1: %v", err)
	}
}
