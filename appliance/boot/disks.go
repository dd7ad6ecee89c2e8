package boot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Disks are found by what is on them, the same way on a Pi (mmcblk0p4) and in QEMU (vda):
// /perm is the ext4 filesystem labelled "perm", the boot partition the FAT filesystem labelled
// "PIGWBOOT" or "BOOT", or else the first FAT filesystem. The kernel command line can name
// either device instead (pigw_perm=/dev/vda4, pigw_boot=/dev/vda1).

const (
	PermLabel = "perm"
	BootLabel = "PIGWBOOT"
)

// findDisk returns the device the command line names, or the first block device whose first
// 4 KiB satisfy match (with exact matches first). When none does, the error says what each
// device holds, so a damaged or missing disk is plain in the log.
func findDisk(cmdlineKey string, match func(head []byte) (exact, ok bool)) (string, error) {
	if dev := Cmdline()[cmdlineKey]; dev != "" {
		return dev, nil
	}
	names, err := filepath.Glob("/sys/class/block/*")
	if err != nil || len(names) == 0 {
		return "", fmt.Errorf("no block devices in /sys/class/block (is the disk driver loaded?)")
	}
	sort.Strings(names)
	fallback := ""
	var seen []string
	for _, n := range names {
		dev := "/dev/" + filepath.Base(n)
		head, err := readHead(dev)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s: unreadable (%v)", dev, err))
			continue
		}
		seen = append(seen, dev+": "+describe(head))
		exact, ok := match(head)
		if exact {
			return dev, nil
		}
		if ok && fallback == "" {
			fallback = dev
		}
	}
	if fallback != "" {
		return fallback, nil
	}
	return "", fmt.Errorf("not found on any disk [%s] (name the device with %s=/dev/...)", strings.Join(seen, "; "), cmdlineKey)
}

// describe says what a device starts with, for error messages.
func describe(head []byte) string {
	if binary.LittleEndian.Uint16(head[1024+56:1024+58]) == 0xEF53 {
		return fmt.Sprintf("ext4 labelled %q", bytes.TrimRight(head[1024+120:1024+136], "\x00"))
	}
	if _, fat := isBoot(head); fat {
		return "FAT"
	}
	if head[510] == 0x55 && head[511] == 0xAA {
		return "partition table"
	}
	if bytes.Count(head[1024:2048], []byte{0}) == 1024 {
		return "no filesystem (zeroed superblock area)"
	}
	return "no filesystem pigw knows"
}

func readHead(dev string) ([]byte, error) {
	f, err := os.Open(dev)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := f.ReadAt(head, 0)
	if n < 2048 {
		return nil, fmt.Errorf("read %s: %w", dev, err)
	}
	return head[:n], nil
}

// isPerm is an ext2/3/4 superblock (at 1024, magic 0xEF53 at offset 56) labelled "perm".
func isPerm(head []byte) (bool, bool) {
	sb := head[1024:]
	if binary.LittleEndian.Uint16(sb[56:58]) != 0xEF53 {
		return false, false
	}
	label := string(bytes.TrimRight(sb[120:136], "\x00"))
	return label == PermLabel, false
}

// ext4Blocks reads an ext4 superblock's block count (the low 32 bits: /perm has no 64bit
// feature) and whether its journal waits for a replay (INCOMPAT_RECOVER).
func ext4Blocks(head []byte) (blocks uint32, recovering bool) {
	if len(head) < 2048 {
		return 0, false
	}
	sb := head[1024:]
	if binary.LittleEndian.Uint16(sb[56:58]) != 0xEF53 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(sb[4:8]), binary.LittleEndian.Uint32(sb[96:100])&0x4 != 0
}

// isBoot is a FAT boot sector; labelled PIGWBOOT or BOOT it is the one.
func isBoot(head []byte) (bool, bool) {
	if head[510] != 0x55 || head[511] != 0xAA {
		return false, false
	}
	var label string
	switch {
	case string(head[82:87]) == "FAT32":
		label = string(head[71:82])
	case string(head[54:59]) == "FAT16" || string(head[54:59]) == "FAT12":
		label = string(head[43:54])
	default:
		return false, false
	}
	label = strings.TrimSpace(label)
	return label == BootLabel || label == "BOOT", true
}
