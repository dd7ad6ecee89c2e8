package image

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// The boot partition is FAT32, which the Pi firmware reads. It is written here rather than
// with go-diskfs, whose FAT32 writer stamps "." and ".." entries with the current time and
// writes ".." entries that fsck.fat rejects. Everything is laid out before anything is
// written: directories and files get contiguous clusters in sorted path order, every entry
// has the build's fixed time, and names that are not plain upper-case 8.3 get long-name
// entries (VFAT) after a generated short name.

// bootLabel is how appliance/boot finds the partition (boot.BootLabel).
const bootLabel = "PIGWBOOT"

const (
	fatReserved  = 32 // sectors before the first FAT: boot sector, FSInfo, their backups
	fatBackup    = 6  // the backup boot sector; its FSInfo follows
	fatEOC       = 0x0fffffff
	fatMinClust  = 65525 // fewer clusters than this is FAT16 by definition
	fatAttrDir   = 0x10
	fatAttrFile  = 0x20
	fatAttrLabel = 0x08
	fatAttrLFN   = 0x0f
	fatEntry     = 32
)

type fatLayout struct {
	sectors     int64 // total
	perCluster  int64 // sectors per cluster
	fatSectors  int64
	clusters    int64
	clusterSize int64
	dataStart   int64 // byte offset of cluster 2
}

func newFATLayout(size int64) (fatLayout, error) {
	l := fatLayout{sectors: size / sector}
	for l.perCluster = 8; l.perCluster > 1 && (l.sectors-fatReserved)/l.perCluster < fatMinClust+1024; l.perCluster /= 2 {
	}
	l.fatSectors = (((l.sectors-fatReserved)/l.perCluster+2)*4 + sector - 1) / sector
	l.clusters = (l.sectors - fatReserved - 2*l.fatSectors) / l.perCluster
	if l.clusters < fatMinClust {
		return l, fmt.Errorf("FAT32: %d bytes is too small (at least %d MiB)", size, 33)
	}
	l.clusterSize = l.perCluster * sector
	l.dataStart = (fatReserved + 2*l.fatSectors) * sector
	return l, nil
}

// fatDir is a directory's entries, encoded once its children's clusters are known.
type fatDir struct {
	entries [][]byte // one per child: long-name entries, then the short entry without cluster
}

// writeFAT writes t as a FAT32 filesystem of size bytes at offset in w, and returns the bytes
// in use: the reserved sectors, the FATs and the clusters allocated.
func writeFAT(ctx context.Context, w io.WriterAt, offset, size int64, t tree, volID uint32, mtime time.Time) (int64, error) {
	l, err := newFATLayout(size)
	if err != nil {
		return 0, err
	}
	date, tim := fatTime(mtime)
	// Clusters, in sorted path order: the root directory first, as cluster 2.
	first := map[string]uint32{}
	length := map[string]int64{} // bytes
	names := map[string][][]byte{}
	for _, p := range t.paths() {
		n := t[p]
		switch {
		case n.isSymlink():
			return 0, fmt.Errorf("/%s: FAT has no symlinks", p)
		case n.isDir():
			ents, err := fatNames(t.children(p))
			if err != nil {
				return 0, fmt.Errorf("/%s: %w", p, err)
			}
			names[p] = ents
			count := int64(2) // "." and "..", or the volume label (and room for the end)
			for _, e := range ents {
				count += int64(len(e)) / fatEntry
			}
			length[p] = (count + 1) * fatEntry
		default:
			length[p] = n.size
		}
	}
	fat := make([]uint32, l.clusters+2)
	fat[0], fat[1] = 0x0ffffff8, fatEOC
	next := uint32(2)
	for _, p := range t.paths() {
		k := uint32((length[p] + l.clusterSize - 1) / l.clusterSize)
		if k == 0 {
			continue
		}
		if int64(next)+int64(k) > l.clusters+2 {
			return 0, fmt.Errorf("FAT32: the boot files need more than the partition's %d MiB", size>>20)
		}
		first[p] = next
		for i := uint32(0); i < k; i++ {
			fat[next+i] = next + i + 1
		}
		fat[next+k-1] = fatEOC
		next += k
	}
	at := func(c uint32) int64 { return offset + l.dataStart + int64(c-2)*l.clusterSize }
	for _, p := range t.paths() {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n := t[p]
		if !n.isDir() {
			if err := fatCopy(w, at(first[p]), p, n); err != nil {
				return 0, err
			}
			continue
		}
		b := make([]byte, 0, length[p])
		if p == "" {
			b = append(b, fatShort(padName(bootLabel), fatAttrLabel, 0, 0, date, tim)...)
		} else {
			parent := uint32(0) // ".." of a directory in the root says 0
			if d := parentDir(p); d != "" {
				parent = first[d]
			}
			b = append(b, fatShort([]byte(".          "), fatAttrDir, first[p], 0, date, tim)...)
			b = append(b, fatShort([]byte("..         "), fatAttrDir, parent, 0, date, tim)...)
		}
		for i, c := range t.children(p) {
			e := names[p][i]
			cp := join(p, c)
			attr, size := byte(fatAttrFile), uint32(t[cp].size)
			if t[cp].isDir() {
				attr, size = fatAttrDir, 0
			}
			short := fatShort(e[len(e)-fatEntry:len(e)-fatEntry+11], attr, first[cp], size, date, tim)
			b = append(append(b, e[:len(e)-fatEntry]...), short...)
		}
		if _, err := w.WriteAt(b, at(first[p])); err != nil {
			return 0, err
		}
	}
	fb := make([]byte, l.fatSectors*sector)
	for i, v := range fat {
		binary.LittleEndian.PutUint32(fb[4*i:], v)
	}
	for i := int64(0); i < 2; i++ {
		if _, err := w.WriteAt(fb, offset+(fatReserved+i*l.fatSectors)*sector); err != nil {
			return 0, err
		}
	}
	boot := fatBootSector(l, offset/sector, volID)
	info := fatInfo(uint32(l.clusters+2-int64(next)), next)
	for _, s := range []int64{0, fatBackup} {
		if _, err := w.WriteAt(append(boot, info...), offset+s*sector); err != nil {
			return 0, err
		}
	}
	return l.dataStart + int64(next-2)*l.clusterSize, nil
}

func parentDir(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return ""
}

func fatCopy(w io.WriterAt, at int64, p string, n *node) error {
	r, err := n.open()
	if err != nil {
		return err
	}
	defer r.Close()
	k, err := io.Copy(io.NewOffsetWriter(w, at), r)
	if err != nil {
		return fmt.Errorf("write /%s: %w", p, err)
	}
	if k != n.size {
		return fmt.Errorf("%s changed while the image was built", n.src)
	}
	return nil
}

// fatShort encodes a short directory entry.
func fatShort(name []byte, attr byte, cluster, size uint32, date, tim uint16) []byte {
	e := make([]byte, fatEntry)
	copy(e, name[:11])
	e[11] = attr
	le := binary.LittleEndian
	le.PutUint16(e[14:], tim) // created
	le.PutUint16(e[16:], date)
	le.PutUint16(e[18:], date) // accessed
	le.PutUint16(e[20:], uint16(cluster>>16))
	le.PutUint16(e[22:], tim) // written
	le.PutUint16(e[24:], date)
	le.PutUint16(e[26:], uint16(cluster))
	le.PutUint32(e[28:], size)
	return e
}

// fatTime is t in FAT's local-time fields, taken as UTC, within FAT's 1980..2107.
func fatTime(t time.Time) (date, tim uint16) {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Year()-1980)<<9 | uint16(t.Month())<<5 | uint16(t.Day())
	tim = uint16(t.Hour())<<11 | uint16(t.Minute())<<5 | uint16(t.Second()/2)
	return date, tim
}

func fatBootSector(l fatLayout, hidden int64, volID uint32) []byte {
	b := make([]byte, sector)
	le := binary.LittleEndian
	copy(b, []byte{0xeb, 0x58, 0x90})
	copy(b[3:], "PIGW    ")
	le.PutUint16(b[11:], sector)
	b[13] = byte(l.perCluster)
	le.PutUint16(b[14:], fatReserved)
	b[16] = 2    // FATs
	b[21] = 0xf8 // fixed disk
	le.PutUint16(b[24:], 63)
	le.PutUint16(b[26:], 255)
	le.PutUint32(b[28:], uint32(hidden))
	le.PutUint32(b[32:], uint32(l.sectors))
	le.PutUint32(b[36:], uint32(l.fatSectors))
	le.PutUint32(b[44:], 2) // root directory cluster
	le.PutUint16(b[48:], 1) // FSInfo sector
	le.PutUint16(b[50:], fatBackup)
	b[64] = 0x80
	b[66] = 0x29
	le.PutUint32(b[67:], volID)
	copy(b[71:], padName(bootLabel))
	copy(b[82:], "FAT32   ")
	b[510], b[511] = 0x55, 0xaa
	return b
}

func fatInfo(free, next uint32) []byte {
	b := make([]byte, sector)
	le := binary.LittleEndian
	le.PutUint32(b[0:], 0x41615252)
	le.PutUint32(b[484:], 0x61417272)
	le.PutUint32(b[488:], free)
	le.PutUint32(b[492:], next)
	le.PutUint32(b[508:], 0xaa550000)
	return b
}
