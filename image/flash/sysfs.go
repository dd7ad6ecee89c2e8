package flash

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// sysfs answers questions about block devices from a sysfs tree: /sys on the running system, a
// fake tree in the tests.
type sysfs struct {
	dir   string            // the sysfs root, "/sys"
	names map[string]string // "8:0" -> "sda", from /sys/class/block/*/dev
}

// readSysfs indexes the block devices under dir/class/block by their major:minor numbers.
func readSysfs(dir string) (*sysfs, error) {
	s := &sysfs{dir: dir, names: make(map[string]string)}
	entries, err := os.ReadDir(s.classDir())
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	for _, e := range entries {
		dev, err := s.attr(e.Name(), "dev")
		if err != nil {
			continue // a device going away while we look
		}
		s.names[dev] = e.Name()
	}
	return s, nil
}

func (s *sysfs) classDir() string { return filepath.Join(s.dir, "class", "block") }

// attr is one sysfs attribute of a block device, without surrounding space.
func (s *sysfs) attr(name string, path ...string) (string, error) {
	b, err := os.ReadFile(filepath.Join(append([]string{s.classDir(), name}, path...)...))
	return strings.TrimSpace(string(b)), err
}

// name is the kernel's name of the block device major:minor, "" if sysfs does not know it.
func (s *sysfs) name(majorMinor string) string { return s.names[majorMinor] }

// isPartition reports whether name is a partition of a disk rather than a disk.
func (s *sysfs) isPartition(name string) bool {
	_, err := os.Stat(filepath.Join(s.classDir(), name, "partition"))
	return err == nil
}

// parent is the disk a partition belongs to: sysfs places a partition's directory inside its
// disk's, so /sys/class/block/sdb1 resolves to .../block/sdb/sdb1.
func (s *sysfs) parent(part string) (string, error) {
	real, err := filepath.EvalSymlinks(filepath.Join(s.classDir(), part))
	if err != nil {
		return "", fmt.Errorf("resolve partition %s: %w", part, err)
	}
	return filepath.Base(filepath.Dir(real)), nil
}

// disks lists the whole disks that the block device name stores its data on: itself for a
// disk, its disk for a partition, and for device-mapper and RAID devices (whose components
// are under slaves/) the disks of every component.
func (s *sysfs) disks(name string) ([]string, error) {
	return s.disksDepth(name, 0)
}

func (s *sysfs) disksDepth(name string, depth int) ([]string, error) {
	if depth > 16 {
		return nil, fmt.Errorf("block device %s: slaves nest too deep", name)
	}
	slaves, _ := os.ReadDir(filepath.Join(s.classDir(), name, "slaves"))
	if len(slaves) > 0 {
		var all []string
		for _, sl := range slaves {
			d, err := s.disksDepth(sl.Name(), depth+1)
			if err != nil {
				return nil, err
			}
			all = append(all, d...)
		}
		return all, nil
	}
	if s.isPartition(name) {
		p, err := s.parent(name)
		if err != nil {
			return nil, err
		}
		return []string{p}, nil
	}
	return []string{name}, nil
}

// sizeBytes is the capacity of a block device: sysfs counts in 512-byte units whatever the
// device's sector size.
func (s *sysfs) sizeBytes(name string) (int64, error) {
	v, err := s.attr(name, "size")
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", name, err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %q: %w", name, v, err)
	}
	return n * 512, nil
}

// readOnly reports whether the kernel has the device read-only (an SD card's lock switch).
func (s *sysfs) readOnly(name string) bool {
	v, _ := s.attr(name, "ro")
	return v == "1"
}

// model describes the hardware: "vendor model" for SCSI/USB, the card name for MMC, the
// backing file for a loop device.
func (s *sysfs) model(name string) string {
	var parts []string
	for _, a := range []string{"vendor", "model"} {
		if v, err := s.attr(name, "device", a); err == nil && v != "" && !strings.HasPrefix(v, "0x") {
			parts = append(parts, v)
		}
	}
	if len(parts) == 2 && strings.HasPrefix(strings.ToLower(parts[1]), strings.ToLower(parts[0])) {
		parts = parts[1:]
	}
	if len(parts) > 0 {
		return strings.Join(parts, " ")
	}
	if v, err := s.attr(name, "device", "name"); err == nil && v != "" {
		return v
	}
	if v, err := s.attr(name, "loop", "backing_file"); err == nil && v != "" {
		return "loop on " + v
	}
	return ""
}

// mount is one line of /proc/self/mountinfo, as far as we need it.
type mount struct {
	majorMinor string // "8:1"
	point      string // "/media/card"
	source     string // "/dev/sdb1", what was mounted
}

// readMountInfo parses a mountinfo file (proc(5)): the third field is the device's
// major:minor and the fifth the mount point, with space, tab, newline and backslash escaped
// in octal; the source comes second after the "-" that ends the optional fields.
func readMountInfo(path string) ([]mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var mounts []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		m := mount{majorMinor: fields[2], point: unescapeOctal(fields[4])}
		for i := 5; i+2 < len(fields); i++ {
			if fields[i] == "-" {
				m.source = unescapeOctal(fields[i+2])
				break
			}
		}
		mounts = append(mounts, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mounts %s: %w", path, err)
	}
	return mounts, nil
}

// readSwaps lists the active swap areas of a /proc/swaps file: a header line, then the path
// (octal-escaped like mountinfo) and type of each area.
func readSwaps(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil // a kernel without swap support
		}
		return nil, fmt.Errorf("read swaps: %w", err)
	}
	var swaps []string
	for i, line := range strings.Split(string(b), "\n") {
		if fields := strings.Fields(line); i > 0 && len(fields) > 0 {
			swaps = append(swaps, unescapeOctal(fields[0]))
		}
	}
	return swaps, nil
}

// unescapeOctal undoes the kernel's \ooo escapes in /proc paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
