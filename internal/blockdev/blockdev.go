// Package blockdev finds, in sysfs, which partition of which disk a block device or a mounted
// file system is: the partition number, where it starts and how large it is, and its siblings
// on the same disk.
//
// Two parts of pigw need this and must not trust names: growing /perm to the card's end, and
// updates, which must know which root partition the running system was really started from
// (the device of "/", not the root= the kernel was given: during a trial the two differ) and
// which partition is the other slot. The kernel's view in sysfs is the truth for both.
package blockdev

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Partition is a block device as the kernel has it. Sizes and starts are in 512-byte sectors,
// sysfs's unit whatever the disk's sector size.
type Partition struct {
	Dev         string // /dev/mmcblk0p2
	Number      int    // 2; 0 when Dev is a whole disk
	Start, Size int64  // on the disk
	Disk        string // /dev/mmcblk0
	DiskSize    int64
	SectorSize  int // the disk's logical sector size, in bytes
}

// Finder reads a sysfs tree; Sys is "/sys" on a running system, another root in tests.
type Finder struct {
	Sys string
	Dev string // where device nodes are: "/dev"
}

// Kernel reads the running system's sysfs.
func Kernel() Finder { return Finder{Sys: "/sys", Dev: "/dev"} }

// ByNumber finds the block device major:minor.
func (f Finder) ByNumber(major, minor uint32) (Partition, error) {
	sys, err := filepath.EvalSymlinks(filepath.Join(f.Sys, "dev/block", fmt.Sprintf("%d:%d", major, minor)))
	if err != nil {
		return Partition{}, fmt.Errorf("block device %d:%d in sysfs: %w", major, minor, err)
	}
	return f.at(sys)
}

// at reads the device whose sysfs directory is sys.
func (f Finder) at(sys string) (Partition, error) {
	p := Partition{Dev: filepath.Join(f.Dev, filepath.Base(sys))}
	disk := sys
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		if p.Number, err = sysInt(sys, "partition"); err != nil {
			return p, err
		}
		start, err := sysInt(sys, "start")
		if err != nil {
			return p, err
		}
		p.Start = int64(start)
		disk = filepath.Dir(sys)
	}
	size, err := sysInt(sys, "size")
	if err != nil {
		return p, err
	}
	p.Size = int64(size)
	p.Disk = filepath.Join(f.Dev, filepath.Base(disk))
	diskSize, err := sysInt(disk, "size")
	if err != nil {
		return p, err
	}
	p.DiskSize = int64(diskSize)
	if p.SectorSize, err = sysInt(disk, "queue/logical_block_size"); err != nil {
		return p, err
	}
	return p, nil
}

// ByPath finds the block device node path.
func (f Finder) ByPath(path string) (Partition, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Partition{}, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return Partition{}, fmt.Errorf("%s is not a block device", path)
	}
	return f.ByNumber(unix.Major(st.Rdev), unix.Minor(st.Rdev))
}

// Mounted finds the block device the file system at dir (such as "/") is on.
func (f Finder) Mounted(dir string) (Partition, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return Partition{}, fmt.Errorf("stat %s: %w", dir, err)
	}
	p, err := f.ByNumber(unix.Major(st.Dev), unix.Minor(st.Dev))
	if err != nil {
		return p, fmt.Errorf("the file system at %s: %w", dir, err)
	}
	return p, nil
}

// Sibling finds partition n of p's disk.
func (f Finder) Sibling(p Partition, n int) (Partition, error) {
	if p.Number == 0 {
		return Partition{}, fmt.Errorf("%s is a whole disk: it has no sibling partitions", p.Dev)
	}
	self, err := f.sysDir(p.Dev)
	if err != nil {
		return Partition{}, err
	}
	entries, err := os.ReadDir(filepath.Dir(self))
	if err != nil {
		return Partition{}, fmt.Errorf("partitions of %s: %w", p.Disk, err)
	}
	for _, e := range entries {
		dir := filepath.Join(filepath.Dir(self), e.Name())
		if k, err := sysInt(dir, "partition"); err == nil && k == n {
			return f.at(dir)
		}
	}
	return Partition{}, fmt.Errorf("%s has no partition %d", p.Disk, n)
}

// sysDir is the sysfs directory of the device node name dev (/dev/mmcblk0p2).
func (f Finder) sysDir(dev string) (string, error) {
	d, err := filepath.EvalSymlinks(filepath.Join(f.Sys, "class/block", filepath.Base(dev)))
	if err != nil {
		return "", fmt.Errorf("%s in sysfs: %w", dev, err)
	}
	return d, nil
}

func sysInt(dir, name string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s/%s: %w", dir, name, err)
	}
	return n, nil
}
