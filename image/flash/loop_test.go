package flash

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needRoot skips a test that needs root and loop devices where they are missing, except under
// CI, where a skipped test would hide that nothing was tested.
func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root for loop devices and mount"
	}
	if _, err := os.Stat("/dev/loop-control"); why == "" && err != nil {
		why = "no loop devices: " + err.Error()
	}
	for _, tool := range append([]string{"losetup"}, tools...) {
		if _, err := exec.LookPath(tool); why == "" && err != nil {
			why = "needs " + tool + " (util-linux, e2fsprogs)"
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

func command(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// newLoop attaches a loop device to a new sparse file of size bytes; extra are losetup flags.
// It returns the device and its backing file.
func newLoop(t *testing.T, size int64, extra ...string) (dev, backing string) {
	t.Helper()
	backing = filepath.Join(t.TempDir(), "backing")
	if err := os.WriteFile(backing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(backing, size); err != nil {
		t.Fatal(err)
	}
	dev = command(t, "losetup", append(append([]string{"--find", "--show"}, extra...), backing)...)
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v %s", dev, err, out)
		}
	})
	return dev, backing
}

// mountOn mounts dev on a new directory until the test ends and returns the directory.
func mountOn(t *testing.T, dev string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	command(t, "mount", dev, dir)
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// mbrImage is n random bytes with an MBR whose one partition starts at 1 MiB and is 8 MiB long.
func mbrImage(t *testing.T, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	e := b[446:462]
	clear(e)
	e[4] = 0x83 // Linux
	binary.LittleEndian.PutUint32(e[8:], 2048)
	binary.LittleEndian.PutUint32(e[12:], 8<<20/512)
	clear(b[462:510])
	b[510], b[511] = 0x55, 0xaa
	p := filepath.Join(t.TempDir(), "pigw-rpi.img")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func TestFlashLoopDevice(t *testing.T) {
	needRoot(t, "mkfs.ext4", "mount", "partx")
	t.Parallel()
	for _, tc := range []struct {
		name      string
		partscan  bool
		imageSize int
	}{
		{"partitions re-read", true, 12<<20 + 1000}, // an unaligned end leaves direct I/O
		{"no partition scanning", false, 5 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var flags []string
			if tc.partscan {
				flags = append(flags, "--partscan")
			}
			dev, backing := newLoop(t, 16<<20, flags...)
			img, want := mbrImage(t, tc.imageSize)
			target, err := Host{}.Inspect(dev, false)
			if err != nil {
				t.Fatal(err)
			}
			if !target.Block || target.Size != 16<<20 || !strings.Contains(target.String(), "16.0 MiB") {
				t.Errorf("target %+v (%s)", target, target)
			}
			var log bytes.Buffer
			res, err := Flash(context.Background(), img, target, Options{Progress: &log})
			if err != nil {
				t.Fatalf("flash %s: %v\n%s", dev, err, log.String())
			}
			got, err := os.ReadFile(backing)
			if err != nil || !bytes.Equal(got[:len(want)], want) {
				t.Fatalf("the loop device's file does not hold the image (%v)", err)
			}
			name := filepath.Base(dev)
			part := filepath.Join("/sys/class/block", name, name+"p1")
			if !tc.partscan {
				if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "BLKRRPART") {
					t.Errorf("notes %q, want one on the failed re-read", res.Notes)
				}
				return
			}
			if len(res.Notes) > 0 {
				t.Errorf("notes: %q", res.Notes)
			}
			if _, err := os.Stat(part); err != nil {
				if !noMSDOSPartitions() {
					t.Fatalf("after BLKRRPART the kernel knows no partition: %v", err)
				}
				// A kernel built without MBR support has no table to read: add the
				// partition the way partx does, from user space (BLKPG).
				t.Log("the kernel cannot read MBR partition tables (CONFIG_MSDOS_PARTITION); adding the partition with partx")
				command(t, "partx", "--add", dev)
			}
			// With a file system of the card mounted, the card is refused, by Inspect and
			// by the kernel when opening it exclusively.
			command(t, "mkfs.ext4", "-q", "-F", dev+"p1")
			dir := mountOn(t, dev+"p1")
			_, err = Host{}.Inspect(dev, false)
			if want := dev + "p1 is mounted on " + dir + " (unmount it first)"; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("inspect with a partition mounted: got %v, want %q", err, want)
			}
			_, err = OpenMedium(&Target{Path: dev, Block: true})
			var re *RefusedError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), "busy") {
				t.Errorf("exclusive open of a disk with a mounted partition: got %v", err)
			}
		})
	}
}

// noMSDOSPartitions reports whether the running kernel says it was built without MBR support.
func noMSDOSPartitions() bool {
	out, err := exec.Command("sh", "-c", "zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r)").Output()
	return err == nil && bytes.Contains(out, []byte("# CONFIG_MSDOS_PARTITION is not set"))
}

func TestInspectMountedLoop(t *testing.T) {
	needRoot(t, "mkfs.ext4", "mount")
	t.Parallel()
	dev, _ := newLoop(t, 8<<20)
	command(t, "mkfs.ext4", "-q", "-F", dev)
	dir := mountOn(t, dev)
	img, _ := writeFile(t, "img", 4096)
	_, err := Host{}.Inspect(dev, false)
	if want := "refusing " + dev + ": it is mounted on " + dir; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
	// Past Inspect (mounted in between), the exclusive open still refuses.
	_, err = Flash(context.Background(), img, &Target{Path: dev, Block: true, Size: 8 << 20}, Options{})
	if err == nil || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("flash to a mounted device: got %v", err)
	}
}

func TestInspectReadOnlyLoop(t *testing.T) {
	needRoot(t)
	t.Parallel()
	dev, _ := newLoop(t, 1<<20, "--read-only")
	if _, err := (Host{}).Inspect(dev, false); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("got %v, want a read-only refusal", err)
	}
}

// TestInspectRootDisk asks about the disk this machine runs from. Inspect only reads sysfs and
// /proc; nothing is opened for writing. TestInspectFakeSysfs covers the rule where / is not on
// a block device (a container's overlay).
func TestInspectRootDisk(t *testing.T) {
	mounts, err := readMountInfo("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	s, err := readSysfs("/sys")
	if err != nil {
		t.Fatal(err)
	}
	root := rootMount(mounts)
	if root == nil {
		t.Fatal("no / in /proc/self/mountinfo")
	}
	name := s.resolve(root.majorMinor, root.source)
	if name == "" {
		t.Skipf("/ is %s from %s, not a block device", root.majorMinor, root.source)
	}
	disks, err := s.disks(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range append(disks, name) {
		dev := "/dev/" + d
		if _, err := os.Stat(dev); err != nil {
			t.Skipf("no device node for the root disk: %v", err)
		}
		_, err := Host{}.Inspect(dev, false)
		if want := "it holds the running system's root file system (/ is on /dev/" + name + ")"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Inspect(%s) = %v, want %q", dev, err, want)
		}
	}
}
