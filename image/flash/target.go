package flash

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pigw/pigw/internal/progress"
)

// Host is the machine whose state Inspect consults before a write. The zero value is the
// running system; tests point it at a fake sysfs tree and fake /proc files.
type Host struct {
	Sys       string // the sysfs root; "" is /sys
	MountInfo string // the mount table; "" is /proc/self/mountinfo
	Swaps     string // the active swap areas; "" is /proc/swaps
}

func (h Host) sys() string       { return cmpOr(h.Sys, "/sys") }
func (h Host) mountInfo() string { return cmpOr(h.MountInfo, "/proc/self/mountinfo") }
func (h Host) swaps() string     { return cmpOr(h.Swaps, "/proc/swaps") }

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Target is a device (or, for tests and image files, a regular file) that passed Inspect's
// checks.
type Target struct {
	Path  string // as given, "/dev/sdb"
	Name  string // the kernel's name, "sdb"; "" for a regular file
	Model string // "SanDisk SD Card Reader", "" if unknown
	Size  int64  // capacity in bytes; for a regular file its current size, 0 if it may grow
	Block bool   // a block device, not a regular file
}

// String describes the target for a confirmation prompt: "/dev/sdb (SanDisk ..., 29.7 GiB)".
func (t *Target) String() string {
	var d []string
	if t.Model != "" {
		d = append(d, t.Model)
	}
	switch {
	case t.Block || t.Size > 0:
		d = append(d, progress.HumanSize(t.Size))
	default:
		d = append(d, "empty file")
	}
	return fmt.Sprintf("%s (%s)", t.Path, strings.Join(d, ", "))
}

// RefusedError is a check that a device failed: writing to it would destroy something in use,
// or could not work.
type RefusedError struct {
	Device string // as given
	Reason string
}

func (e *RefusedError) Error() string { return "refusing " + e.Device + ": " + e.Reason }

func refuse(dev, format string, a ...any) error {
	return &RefusedError{Device: dev, Reason: fmt.Sprintf(format, a...)}
}

// Inspect checks that path is a device it is safe to overwrite: a block device (or, with
// allowFile, a regular file) that is not read-only, holds neither the running system's root
// nor active swap, and has nothing mounted or otherwise in use on it or its partitions.
func (h Host) Inspect(path string, allowFile bool) (*Target, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	mode := fi.Mode()
	switch {
	case mode&os.ModeDevice != 0 && mode&os.ModeCharDevice == 0:
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil, fmt.Errorf("device %s: no device numbers", path)
		}
		rdev := uint64(st.Rdev)
		return h.inspectBlock(path, fmt.Sprintf("%d:%d", unix.Major(rdev), unix.Minor(rdev)))
	case mode.IsRegular():
		if !allowFile {
			return nil, refuse(path, "a regular file, not a block device (writing to files needs --allow-file)")
		}
		return &Target{Path: path, Size: fi.Size()}, nil
	}
	return nil, refuse(path, "a %s, not a block device", kind(mode))
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeCharDevice != 0:
		return "character device"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// inspectBlock runs the checks on the block device with the numbers majorMinor.
func (h Host) inspectBlock(path, majorMinor string) (*Target, error) {
	s, err := readSysfs(h.sys())
	if err != nil {
		return nil, err
	}
	name := s.name(majorMinor)
	if name == "" {
		return nil, fmt.Errorf("device %s (%s): not in %s", path, majorMinor, s.classDir())
	}
	t := &Target{Path: path, Name: name, Block: true, Model: s.model(name)}
	if t.Size, err = s.sizeBytes(name); err != nil {
		return nil, err
	}
	disks, err := s.disks(name)
	if err != nil {
		return nil, err
	}
	on := func(dev string) (bool, error) { // whether dev stores data on one of disks
		d, err := s.disks(dev)
		return slices.ContainsFunc(d, func(x string) bool { return slices.Contains(disks, x) }), err
	}
	mounts, err := readMountInfo(h.mountInfo())
	if err != nil {
		return nil, err
	}
	if root := rootMount(mounts); root != nil {
		if dev := s.resolve(root.majorMinor, root.source); dev != "" {
			if hit, err := on(dev); err != nil || hit {
				return nil, orRefuse(err, path, "it holds the running system's root file system (/ is on /dev/%s)", dev)
			}
		}
	}
	swaps, err := readSwaps(h.swaps())
	if err != nil {
		return nil, err
	}
	for _, sw := range swaps {
		if dev := s.resolvePath(sw); dev != "" {
			if hit, err := on(dev); err != nil || hit {
				return nil, orRefuse(err, path, "it holds active swap %s (swapoff it first)", sw)
			}
		}
	}
	for _, m := range mounts {
		dev := s.resolve(m.majorMinor, m.source)
		if dev == "" {
			continue
		}
		if hit, err := on(dev); err != nil || hit {
			what := "/dev/" + dev + " is"
			if dev == name {
				what = "it is"
			}
			return nil, orRefuse(err, path, "%s mounted on %s (unmount it first)", what, m.point)
		}
	}
	if users := s.holders(name); len(users) > 0 {
		return nil, refuse(path, "in use by %s (device-mapper, RAID or LVM; stop that first)", strings.Join(users, ", "))
	}
	if s.readOnly(name) {
		return nil, refuse(path, "the device is read-only (is the SD card's lock switch on?)")
	}
	if t.Size == 0 {
		return nil, refuse(path, "the device has no medium (size 0): is a card in the reader?")
	}
	return t, nil
}

func orRefuse(err error, dev, format string, a ...any) error {
	if err != nil {
		return err
	}
	return refuse(dev, format, a...)
}

// rootMount is the mount at "/": the last one listed, since a later mount hides an earlier.
func rootMount(mounts []mount) *mount {
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].point == "/" {
			return &mounts[i]
		}
	}
	return nil
}

// resolve names the block device of a mount: by its numbers, or for file systems that report
// an anonymous device number (btrfs) by the /dev path it was mounted from.
func (s *sysfs) resolve(majorMinor, source string) string {
	if n := s.name(majorMinor); n != "" {
		return n
	}
	if strings.HasPrefix(source, "/dev/") {
		return s.resolvePath(source)
	}
	return ""
}

// resolvePath names the block device of a swap area or mount source: a device node by its
// name in sysfs (following /dev/mapper and /dev/disk links), a file by the device of the file
// system it is on.
func (s *sysfs) resolvePath(p string) string {
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	if strings.HasPrefix(p, "/dev/") {
		if _, err := os.Stat(filepath.Join(s.classDir(), filepath.Base(p))); err == nil {
			return filepath.Base(p)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return ""
	}
	if st.Mode&unix.S_IFMT == unix.S_IFBLK {
		return s.name(fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))))
	}
	return s.name(fmt.Sprintf("%d:%d", unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev))))
}

// holders lists the devices built on a disk or its partitions (device-mapper, md RAID).
func (s *sysfs) holders(name string) []string {
	var users []string
	devs := []string{name}
	entries, _ := os.ReadDir(filepath.Join(s.classDir(), name))
	for _, e := range entries {
		if e.IsDir() && s.isPartitionOf(e.Name(), name) {
			devs = append(devs, e.Name())
		}
	}
	for _, d := range devs {
		hs, _ := os.ReadDir(filepath.Join(s.classDir(), d, "holders"))
		for _, h := range hs {
			users = append(users, h.Name())
		}
	}
	return users
}

func (s *sysfs) isPartitionOf(part, disk string) bool {
	_, err := os.Stat(filepath.Join(s.classDir(), disk, part, "partition"))
	return err == nil
}
