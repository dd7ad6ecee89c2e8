package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/boot/grow"
	"github.com/pigw/pigw/internal/mbr"
	"github.com/pigw/pigw/internal/syncbuf"
)

// The image's /perm grown by PID 1's code (appliance/boot/grow) on the host's kernel: a disk
// laid out as a 1 GiB image (the table and /perm written by this package), enlarged to
// 32 GiB (sparse: past 128 block groups, so the kernel must convert /perm to meta_bg),
// attached to a loop device with its partitions, /perm mounted. The partition steps
// (the table rewritten, the kernel told while /perm is mounted) run everywhere root and loop
// devices are; the filesystem's online resize needs CAP_SYS_RESOURCE, which containers
// often drop: without it the test shows the step fails cleanly and leaves /perm intact, and
// the QEMU test (internal/vmtest TestImagePermGrows) covers the resize.

const (
	growImage = 1 << 30
	growDisk  = 32 << 30
)

func TestPermGrowsOnLoop(t *testing.T) {
	dev, disk := loopDisk(t, growImage, growDisk, nil)
	dir := t.TempDir()
	hostTool(t, "mount", "-t", "ext4", dev+"p4", dir)
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	if err := durableWrite(dir, "before", []byte("written before /perm grew")); err != nil {
		t.Fatal(err)
	}
	canResize := hasCapSysResource(t)

	log, logs := bufLog()
	start := time.Now()
	g := grow.Start(context.Background(), log, dev+"p4", dir)
	g.Wait(log)
	took := time.Since(start)
	t.Logf("log:\n%s", logs.String())

	p4 := partition4(t, disk)
	wantSectors := uint64(growDisk-growImage)/mbr.SectorSize + p4Sectors(growImage)
	if p4 != wantSectors {
		t.Errorf("sfdisk: partition 4 has %d sectors, want %d (to the end of the disk)", p4, wantSectors)
	}
	if got := sysSize(t, dev+"p4"); got != wantSectors {
		t.Errorf("the kernel's %sp4 has %d sectors, want %d", dev, got, wantSectors)
	}
	want := fmt.Sprintf(`msg="growing /perm" device=%sp4 from=252MiB to=%dMiB`, dev, wantSectors*512>>20)
	if !strings.Contains(logs.String(), want) {
		t.Errorf("the log does not say %s", want)
	}
	if canResize {
		if err := g.Err(); err != nil {
			t.Fatalf("grow: %v", err)
		}
		t.Logf("252 MiB to %d MiB: %v (a loop device on a sparse file)", wantSectors*512>>20, took.Round(time.Millisecond))
		if !strings.Contains(logs.String(), `msg="/perm grown"`) {
			t.Error(`no "/perm grown" in the log`)
		}
	} else {
		if err := g.Err(); err == nil || !strings.Contains(err.Error(), "operation not permitted") {
			t.Errorf("grow without CAP_SYS_RESOURCE: %v, want EPERM", err)
		}
		t.Log("no CAP_SYS_RESOURCE here: the filesystem's online resize is refused (EPERM); the QEMU test covers it")
	}

	// A second boot: the table is not written again.
	log, logs = bufLog()
	g = grow.Start(context.Background(), log, dev+"p4", dir)
	g.Wait(log)
	if strings.Contains(logs.String(), "partition 4 grown") || canResize && logs.String() != "" {
		t.Errorf("a second start did more than it had to:\n%s", logs.String())
	}

	if b, err := os.ReadFile(filepath.Join(dir, "before")); err != nil || string(b) != "written before /perm grew" {
		t.Errorf("the file written before: %q, %v", b, err)
	}
	hostTool(t, "umount", dir)
	hostTool(t, "e2fsck", "-fn", dev+"p4")
	head := hostTool(t, "dumpe2fs", "-h", dev+"p4")
	blocks := wantSectors / 8
	if !canResize {
		blocks = p4Sectors(growImage) / 8
	}
	if !strings.Contains(head, fmt.Sprintf("Block count:              %d\n", blocks)) {
		t.Errorf("dumpe2fs: want %d blocks:\n%s", blocks, head)
	}
	if canResize && !strings.Contains(head, "meta_bg") {
		t.Errorf("dumpe2fs: the kernel did not convert /perm to meta_bg:\n%s", head)
	}
}

// TestPermNotPigwLeftAlone: a disk whose first partition is not FAT32 is not touched.
func TestPermNotPigwLeftAlone(t *testing.T) {
	dev, disk := loopDisk(t, growImage, growDisk, func(s []byte) { s[446+4] = 0x07 })
	before := firstSector(t, disk)
	dir := t.TempDir()
	hostTool(t, "mount", "-t", "ext4", dev+"p4", dir)
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	log, logs := bufLog()
	g := grow.Start(context.Background(), log, dev+"p4", dir)
	g.Wait(log)
	t.Logf("log:\n%s", logs.String())
	if !strings.Contains(logs.String(), "partition 1 has type 0x07, pigw's has 0x0c") {
		t.Errorf("the log does not say why the disk is left alone")
	}
	hostTool(t, "umount", dir)
	if !bytes.Equal(firstSector(t, disk), before) {
		t.Error("the partition table changed")
	}
	if got := sysSize(t, dev+"p4"); got != p4Sectors(growImage) {
		t.Errorf("the kernel's partition 4 changed to %d sectors", got)
	}
}

func bufLog() (*slog.Logger, *syncbuf.Buffer) {
	b := new(syncbuf.Buffer)
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// p4Sectors is /perm's size in an image of size bytes whose roots are the smallest.
func p4Sectors(size int64) uint64 {
	return uint64(size-align-bootSize-2*minRootSize) / sector
}

// loopDisk writes the table and /perm of an image of size bytes into a file of disk bytes
// (change, when not nil, edits its first sector), and attaches it to a loop device with its
// partitions; it returns the device and the file.
func loopDisk(t *testing.T, size, disk int64, change func(sector []byte)) (string, string) {
	t.Helper()
	needLoop(t)
	file := filepath.Join(t.TempDir(), "disk")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	permStart := int64(align + bootSize + 2*minRootSize)
	parts := []partition{
		{name: "boot", typ: mbr.TypeFAT32LBA, bootable: true, start: align, size: bootSize},
		{name: "root A", typ: mbr.TypeLinux, start: align + bootSize, size: minRootSize},
		{name: "root B", typ: mbr.TypeLinux, start: align + bootSize + minRootSize, size: minRootSize},
		{name: "perm", typ: mbr.TypeLinux, start: permStart, size: size - permStart},
	}
	if err := writeMBR(f, 0x5eed1234, parts); err != nil {
		t.Fatal(err)
	}
	if change != nil {
		s := make([]byte, sector)
		f.ReadAt(s, 0)
		change(s)
		f.WriteAt(s, 0)
	}
	p := ext4Params{label: permLabel, time: time.Unix(1700000000, 0)}
	p.uuid[0] = 1
	if _, _, err := writeExt4(&offsetWriter{f, permStart}, size-permStart, p); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(disk); err != nil {
		t.Fatal(err)
	}
	dev := strings.TrimSpace(hostTool(t, "losetup", "-f", "--show", file))
	t.Cleanup(func() {
		// Partitions added with partx stay after losetup -d on some kernels: drop them first.
		if out, err := exec.Command("partx", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("partx -d %s: %v %s", dev, err, out)
		}
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v %s", dev, err, out)
		}
	})
	hostTool(t, "partx", "-a", dev) // losetup -P does not scan on every host
	return dev, file
}

type offsetWriter struct {
	f   *os.File
	off int64
}

func (w *offsetWriter) WriteAt(b []byte, off int64) (int, error) { return w.f.WriteAt(b, w.off+off) }

// needLoop skips a test that needs root, loop devices, ext4 and the partition tools, or
// fails it under CI=true.
func needLoop(t *testing.T) {
	t.Helper()
	need(t, "losetup", "partx", "mount", "umount", "e2fsck", "dumpe2fs", "sfdisk")
	why := ""
	fs, _ := os.ReadFile("/proc/filesystems")
	switch {
	case os.Geteuid() != 0:
		why = "needs root for loop devices and mount"
	case !strings.Contains(string(fs), "\text4\n"):
		why = "no ext4 in /proc/filesystems"
	default:
		if err := exec.Command("losetup", "-f").Run(); err != nil {
			why = fmt.Sprintf("no free loop device (losetup -f: %v)", err)
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// hasCapSysResource says whether this process may resize a mounted ext4.
func hasCapSysResource(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return caps&(1<<24) != 0 // CAP_SYS_RESOURCE
		}
	}
	return false
}

// partition4 is the size of the fourth partition, in sectors, as sfdisk reads the table.
func partition4(t *testing.T, disk string) uint64 {
	var tab sfdiskTable
	if err := json.Unmarshal([]byte(hostTool(t, "sfdisk", "--json", disk)), &tab); err != nil {
		t.Fatal(err)
	}
	if n := len(tab.PartitionTable.Partitions); n != 4 {
		t.Fatalf("sfdisk: %d partitions", n)
	}
	return uint64(tab.PartitionTable.Partitions[3].Size)
}

func firstSector(t *testing.T, file string) []byte {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, mbr.SectorSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

func sysSize(t *testing.T, dev string) uint64 {
	b, err := os.ReadFile(filepath.Join("/sys/class/block", filepath.Base(dev), "size"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
