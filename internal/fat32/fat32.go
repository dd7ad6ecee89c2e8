// Package fat32 reads the files of a FAT32 file system's root directory and rewrites bytes of
// them in place, on a block device or an image file.
//
// An update commits by changing one byte of cmdline.txt on the Pi's boot partition (the root's
// partition number), and trials change trycmd.txt. That write must not go through the vfat
// mount, which is read-only on the appliance, and must not move the file: rewriting bytes
// inside the clusters the file already has keeps every other byte of the partition as it was,
// and a sector write is atomic on the cards and disks pigw runs on. The file may be anywhere on
// the partition, in fragments, with long names around it, since users edit the boot partition
// on their PCs; so the reader follows the directory and the cluster chain rather than
// expecting the layout pigw's image builder writes.
package fat32

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// Limits on what Lookup follows, so that a damaged or hostile file system costs bounded work:
// the boot partition's files are small, and FAT32 allows 65,536 entries in a directory.
const (
	MaxFileSize = 16 << 20
	maxDirBytes = 65536 * 32
)

// Device is what the file system lives on.
type Device interface {
	io.ReaderAt
	io.WriterAt
}

// FS is a FAT32 file system.
type FS struct {
	dev         Device
	bytesPerSec int64
	clusterSize int64
	fatOffset   int64
	dataOffset  int64
	rootCluster uint32
	clusters    uint32 // data clusters: valid numbers are 2 .. clusters+1
}

// Open reads the boot sector of the file system on dev.
func Open(dev Device) (*FS, error) {
	var bs [512]byte
	if _, err := dev.ReadAt(bs[:], 0); err != nil {
		return nil, fmt.Errorf("FAT32 boot sector: %w", err)
	}
	le16 := func(o int) int64 { return int64(binary.LittleEndian.Uint16(bs[o:])) }
	le32 := func(o int) int64 { return int64(binary.LittleEndian.Uint32(bs[o:])) }
	bps, spc, reserved, nfats := le16(11), int64(bs[13]), le16(14), int64(bs[16])
	total, fatSize, rootEntries := le32(32), le32(36), le16(17)
	switch {
	case bs[510] != 0x55 || bs[511] != 0xaa:
		return nil, errors.New("FAT32 boot sector: no 55 AA signature")
	case bps != 512 && bps != 1024 && bps != 2048 && bps != 4096:
		return nil, fmt.Errorf("FAT32 boot sector: %d bytes per sector", bps)
	case spc == 0 || spc&(spc-1) != 0:
		return nil, fmt.Errorf("FAT32 boot sector: %d sectors per cluster, not a power of 2", spc)
	case rootEntries != 0 || fatSize == 0 || nfats == 0 || reserved == 0:
		return nil, errors.New("FAT32 boot sector: not FAT32 (FAT12/16 layout)")
	}
	fs := &FS{
		dev: dev, bytesPerSec: bps, clusterSize: bps * spc,
		fatOffset:   reserved * bps,
		dataOffset:  (reserved + nfats*fatSize) * bps,
		rootCluster: uint32(le32(44)),
	}
	dataSectors := total - reserved - nfats*fatSize
	if dataSectors <= 0 {
		return nil, fmt.Errorf("FAT32 boot sector: %d sectors in all, none left for data", total)
	}
	fs.clusters = uint32(min(dataSectors/spc, fatSize*bps/4-2))
	if !fs.valid(fs.rootCluster) {
		return nil, fmt.Errorf("FAT32 boot sector: root directory cluster %d outside 2..%d", fs.rootCluster, fs.clusters+1)
	}
	return fs, nil
}

func (fs *FS) valid(c uint32) bool { return c >= 2 && c <= fs.clusters+1 }

// chain returns the clusters of the chain that starts at first, at most limit of them.
func (fs *FS) chain(first uint32, limit int64) ([]uint32, error) {
	var cs []uint32
	for c := first; ; {
		if !fs.valid(c) {
			return nil, fmt.Errorf("cluster chain: cluster %d outside 2..%d", c, fs.clusters+1)
		}
		if int64(len(cs)) >= limit {
			return nil, fmt.Errorf("cluster chain from %d: longer than %d clusters (a loop?)", first, limit)
		}
		cs = append(cs, c)
		var e [4]byte
		if _, err := fs.dev.ReadAt(e[:], fs.fatOffset+int64(c)*4); err != nil {
			return nil, fmt.Errorf("FAT entry %d: %w", c, err)
		}
		next := binary.LittleEndian.Uint32(e[:]) & 0x0fffffff
		if next >= 0x0ffffff8 {
			return cs, nil
		}
		c = next
	}
}

func (fs *FS) clusterOffset(c uint32) int64 { return fs.dataOffset + int64(c-2)*fs.clusterSize }

// File is a file of the root directory.
type File struct {
	fs       *FS
	Name     string // as found, 8.3 with a dot
	Size     int64
	clusters []uint32
}

// Lookup finds name in the root directory, by its long name or its 8.3 name, in any case.
func (fs *FS) Lookup(name string) (*File, error) {
	short, hasShort := shortName(name)
	dir, err := fs.chain(fs.rootCluster, maxDirBytes/fs.clusterSize+1)
	if err != nil {
		return nil, fmt.Errorf("root directory: %w", err)
	}
	buf := make([]byte, fs.clusterSize)
	var long longName
	for _, c := range dir {
		if _, err := fs.dev.ReadAt(buf, fs.clusterOffset(c)); err != nil {
			return nil, fmt.Errorf("root directory: %w", err)
		}
		for e := buf; len(e) >= 32; e = e[32:] {
			switch {
			case e[0] == 0:
				return nil, fmt.Errorf("%s: not in the root directory", name)
			case e[0] == 0xe5:
				long.reset()
				continue
			case e[11]&0x3f == 0x0f:
				long.add(e)
				continue
			}
			ln := long.name(e[:11])
			long.reset()
			if e[11]&0x18 != 0 { // volume label or directory
				continue
			}
			if !strings.EqualFold(ln, name) && !(hasShort && bytes.Equal(e[:11], short[:])) {
				continue
			}
			return fs.file(name, e)
		}
	}
	return nil, fmt.Errorf("%s: not in the root directory", name)
}

// file is the file of directory entry e.
func (fs *FS) file(name string, e []byte) (*File, error) {
	f := &File{fs: fs, Name: name, Size: int64(binary.LittleEndian.Uint32(e[28:]))}
	first := uint32(binary.LittleEndian.Uint16(e[20:]))<<16 | uint32(binary.LittleEndian.Uint16(e[26:]))
	if f.Size == 0 {
		return f, nil
	}
	if f.Size > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this reader follows", name, f.Size, MaxFileSize)
	}
	need := (f.Size + fs.clusterSize - 1) / fs.clusterSize
	var err error
	if f.clusters, err = fs.chain(first, need); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(f.clusters)) < need {
		return nil, fmt.Errorf("%s: %d bytes in a chain of %d clusters of %d", name, f.Size, len(f.clusters), fs.clusterSize)
	}
	return f, nil
}

// longName gathers the long-name entries that precede a short entry (VFAT): up to 20 of 13
// UTF-16 units each, numbered from 1, the last one flagged 0x40.
type longName struct {
	parts [20][13]uint16
	n     int // parts seen, 0: none
	sum   byte
}

func (l *longName) reset() { l.n = 0 }

func (l *longName) add(e []byte) {
	seq := int(e[0] & 0x1f)
	if e[0]&0x40 != 0 {
		l.reset()
		l.sum = e[13]
	}
	if seq < 1 || seq > len(l.parts) || e[13] != l.sum {
		l.reset()
		return
	}
	var u [13]uint16
	for i, o := range []int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30} {
		u[i] = binary.LittleEndian.Uint16(e[o:])
	}
	l.parts[seq-1] = u
	l.n = max(l.n, seq)
}

// name is the long name for the short entry name short, "" when there is none or its
// checksum does not match.
func (l *longName) name(short []byte) string {
	if l.n == 0 {
		return ""
	}
	var sum byte
	for _, c := range short {
		sum = (sum>>1 | sum<<7) + c
	}
	if sum != l.sum {
		return ""
	}
	var u []uint16
	for _, p := range l.parts[:l.n] {
		for _, c := range p {
			if c == 0 || c == 0xffff {
				return string(utf16.Decode(u))
			}
			u = append(u, c)
		}
	}
	return string(utf16.Decode(u))
}

// shortName is name's directory-entry form, "CMDLINE TXT", if name is an 8.3 name.
func shortName(name string) ([11]byte, bool) {
	var n [11]byte
	base, ext, _ := strings.Cut(strings.ToUpper(name), ".")
	if base == "" || len(base) > 8 || len(ext) > 3 || strings.ContainsAny(base+ext, ` ."*+,/:;<=>?[\]|`) {
		return n, false
	}
	copy(n[:], base+strings.Repeat(" ", 8-len(base))+ext+strings.Repeat(" ", 3-len(ext)))
	return n, true
}

// deviceOffset maps an offset in the file to one on the device.
func (f *File) deviceOffset(off int64) int64 {
	cs := f.fs.clusterSize
	return f.fs.clusterOffset(f.clusters[off/cs]) + off%cs
}

// ReadAll reads the whole file.
func (f *File) ReadAll() ([]byte, error) {
	b := make([]byte, f.Size)
	for off := int64(0); off < f.Size; {
		n := min(f.fs.clusterSize-off%f.fs.clusterSize, f.Size-off)
		if _, err := f.fs.dev.ReadAt(b[off:off+n], f.deviceOffset(off)); err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name, err)
		}
		off += n
	}
	return b, nil
}

// WriteAt rewrites bytes of the file in place; it cannot grow the file.
func (f *File) WriteAt(b []byte, off int64) error {
	if off < 0 || off+int64(len(b)) > f.Size {
		return fmt.Errorf("write %s: bytes %d..%d outside its %d", f.Name, off, off+int64(len(b)), f.Size)
	}
	for len(b) > 0 {
		n := min(f.fs.clusterSize-off%f.fs.clusterSize, int64(len(b)))
		if _, err := f.fs.dev.WriteAt(b[:n], f.deviceOffset(off)); err != nil {
			return fmt.Errorf("write %s: %w", f.Name, err)
		}
		b, off = b[n:], off+n
	}
	return nil
}
