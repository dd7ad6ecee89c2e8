package image

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// /perm is an empty ext4 filesystem with lost+found, made here because no pure-Go writer
// makes one reproducibly. It keeps to what every ext4 driver and e2fsck know: 4 KiB blocks,
// 32-bit block numbers, extents, file types in directory entries, hashed directories,
// sparse superblock backups, 256-byte inodes, an internal journal (journal.go). No metadata
// checksums, no flex_bg, no resize inode. The inode tables and the journal's log are left as
// zeros, which the image file already holds.

const (
	e4Block         = 4096
	e4BlocksPerGrp  = 8 * e4Block // one block of bitmap
	e4InodesPerGrp  = 8192        // an inode per 16 KiB
	e4InodeSize     = 256
	e4ITableBlocks  = e4InodesPerGrp * e4InodeSize / e4Block
	e4RootIno       = 2
	e4LostFoundIno  = 11
	e4LostFoundBlks = 4
	e4MinGroupTail  = 64 // a last group smaller than its metadata plus this is left out

	e4CompatDirIndex     = 0x20
	e4IncompatFiletype   = 0x2
	e4IncompatExtents    = 0x40
	e4ROSparseSuper      = 0x1
	e4ROLargeFile        = 0x2
	e4RODirNlink         = 0x20
	e4ROExtraIsize       = 0x40
	e4ExtentsFl          = 0x80000
	e4ExtentMagic        = 0xf30a
	e4FlagSignedHash     = 0x1
	e4DirEntryTypeDir    = 2
	e4ModeDir            = 0o040000
	e4HalfMD4            = 1
	e4StateClean         = 1
	e4ErrorsContinue     = 1
	e4DefaultMaxMntCount = 0xffff // -1: no check by mount count
)

// ext4Params are what makes the filesystem unique: its label, UUID, hash seed and time.
type ext4Params struct {
	label    string
	uuid     [16]byte
	hashSeed [16]byte
	time     time.Time
}

func hasSuper(g int64) bool {
	if g <= 1 {
		return true
	}
	for _, b := range []int64{3, 5, 7} {
		n := b
		for n < g {
			n *= b
		}
		if n == g {
			return true
		}
	}
	return false
}

// writeExt4 writes an empty filesystem of at most size bytes at the start of w, and returns
// its size and the bytes its metadata, journal and lost+found take.
func writeExt4(w io.WriterAt, size int64, p ext4Params) (fsSize, used int64, err error) {
	blocks := size / e4Block
	groups := (blocks + e4BlocksPerGrp - 1) / e4BlocksPerGrp
	gdtBlocks := (groups*32 + e4Block - 1) / e4Block
	overhead := func(g int64) int64 {
		o := int64(2 + e4ITableBlocks)
		if hasSuper(g) {
			o += 1 + gdtBlocks
		}
		return o
	}
	if tail := blocks - (groups-1)*e4BlocksPerGrp; tail < overhead(groups-1)+e4MinGroupTail {
		groups--
		blocks = groups * e4BlocksPerGrp
	}
	if groups < 1 || blocks < overhead(0)+e4MinGroupTail {
		return 0, 0, fmt.Errorf("ext4: %d bytes is too small", size)
	}
	if blocks >= 1<<32 {
		return 0, 0, fmt.Errorf("ext4: %d bytes is too large (16 TiB at most)", size)
	}
	le := binary.LittleEndian
	put := func(b []byte, block int64) error {
		_, err := w.WriteAt(b, block*e4Block)
		return err
	}
	gdt := make([]byte, gdtBlocks*e4Block)
	var freeBlocks, freeInodes int64
	jBlocks, err := journalBlocks(blocks)
	if err != nil {
		return 0, 0, err
	}
	// Group 0 holds, after its metadata, the root directory, lost+found, then the journal:
	// one contiguous run, as mke2fs lays out a one-group filesystem.
	firstData := overhead(0)
	root, lf := firstData, firstData+1
	journal := lf + e4LostFoundBlks
	if journal+jBlocks > min(blocks, e4BlocksPerGrp) {
		return 0, 0, fmt.Errorf("ext4: %d bytes is too small for a %d-block journal", size, jBlocks)
	}
	for g := int64(0); g < groups; g++ {
		start := g * e4BlocksPerGrp
		n := min(e4BlocksPerGrp, blocks-start)
		meta := start
		if hasSuper(g) {
			meta += 1 + gdtBlocks
		}
		used := overhead(g)
		usedInodes := int64(0)
		dirs := 0
		if g == 0 {
			used = journal + jBlocks    // root, lost+found and the journal follow the metadata
			usedInodes = e4LostFoundIno // the reserved inodes 1-10 (8 the journal), and lost+found
			dirs = 2
		}
		bb := make([]byte, e4Block)
		setBits(bb, 0, used)
		setBits(bb, n, e4BlocksPerGrp) // past the end of a short last group
		ib := make([]byte, e4Block)
		setBits(ib, 0, usedInodes)
		setBits(ib, e4InodesPerGrp, 8*e4Block)
		if err := put(bb, meta); err != nil {
			return 0, 0, err
		}
		if err := put(ib, meta+1); err != nil {
			return 0, 0, err
		}
		d := gdt[g*32:]
		le.PutUint32(d[0:], uint32(meta))
		le.PutUint32(d[4:], uint32(meta+1))
		le.PutUint32(d[8:], uint32(meta+2))
		le.PutUint16(d[12:], uint16(n-used))
		le.PutUint16(d[14:], uint16(e4InodesPerGrp-usedInodes))
		le.PutUint16(d[16:], uint16(dirs))
		freeBlocks += n - used
		freeInodes += e4InodesPerGrp - usedInodes
	}
	t := uint32(p.time.Unix())
	itable := overhead(0) - e4ITableBlocks
	jInode := extentInode(e4ModeFile|0o600, 1, journal, jBlocks, t)
	for _, in := range []struct {
		ino uint32
		b   []byte
	}{
		{e4RootIno, extentInode(e4ModeDir|0o755, 3, root, 1, t)},
		{e4LostFoundIno, extentInode(e4ModeDir|0o700, 2, lf, e4LostFoundBlks, t)},
		{e4JournalIno, jInode},
	} {
		if _, err := w.WriteAt(in.b, itable*e4Block+int64(in.ino-1)*e4InodeSize); err != nil {
			return 0, 0, fmt.Errorf("ext4: write inode %d: %w", in.ino, err)
		}
	}
	if err := put(journalSuper(p.uuid, jBlocks), journal); err != nil {
		return 0, 0, fmt.Errorf("ext4: write the journal superblock: %w", err)
	}
	rb := make([]byte, e4Block)
	off := dirent(rb, 0, e4RootIno, ".", 12)
	off = dirent(rb, off, e4RootIno, "..", 12)
	dirent(rb, off, e4LostFoundIno, "lost+found", e4Block-off)
	if err := put(rb, root); err != nil {
		return 0, 0, err
	}
	for i := int64(0); i < e4LostFoundBlks; i++ {
		b := make([]byte, e4Block)
		if i == 0 {
			off := dirent(b, 0, e4LostFoundIno, ".", 12)
			dirent(b, off, e4RootIno, "..", e4Block-off)
		} else {
			le.PutUint16(b[4:], e4Block) // one unused entry over the whole block
		}
		if err := put(b, lf+i); err != nil {
			return 0, 0, err
		}
	}
	sb := ext4Super(p, blocks, groups, freeBlocks, freeInodes, t)
	journalBackup(sb, jInode)
	for g := int64(0); g < groups; g++ {
		if !hasSuper(g) {
			continue
		}
		le.PutUint16(sb[90:], uint16(g))
		at := g * e4BlocksPerGrp * e4Block
		if g == 0 {
			at = 1024
		}
		if _, err := w.WriteAt(sb, at); err != nil {
			return 0, 0, err
		}
		if err := put(gdt, g*e4BlocksPerGrp+1); err != nil {
			return 0, 0, err
		}
	}
	return blocks * e4Block, (blocks - freeBlocks) * e4Block, nil
}

func setBits(b []byte, from, to int64) {
	for i := from; i < to; i++ {
		b[i/8] |= 1 << (i % 8)
	}
}

// dirent writes a directory entry at off and returns the offset after it.
func dirent(b []byte, off int, ino uint32, name string, recLen int) int {
	binary.LittleEndian.PutUint32(b[off:], ino)
	binary.LittleEndian.PutUint16(b[off+4:], uint16(recLen))
	b[off+6] = byte(len(name))
	b[off+7] = e4DirEntryTypeDir
	copy(b[off+8:], name)
	return off + recLen
}

// extentInode returns an inode whose n blocks (at most 32768, an extent's limit) start at
// block, as one extent in the inode. Its size is that of the n blocks.
func extentInode(mode uint16, links uint16, block, n int64, t uint32) []byte {
	le := binary.LittleEndian
	b := make([]byte, e4InodeSize)
	le.PutUint16(b[0:], mode)
	le.PutUint32(b[4:], uint32(n*e4Block))       // size
	le.PutUint32(b[108:], uint32(n*e4Block>>32)) // size_high
	for _, o := range []int{8, 12, 16} {         // atime, ctime, mtime
		le.PutUint32(b[o:], t)
	}
	le.PutUint16(b[26:], links)
	le.PutUint32(b[28:], uint32(n*e4Block/512))
	le.PutUint32(b[32:], e4ExtentsFl)
	x := b[40:]
	le.PutUint16(x[0:], e4ExtentMagic)
	le.PutUint16(x[2:], 1) // entries
	le.PutUint16(x[4:], 4) // room for 4 in the inode
	le.PutUint32(x[12:], 0)
	le.PutUint16(x[16:], uint16(n))
	le.PutUint32(x[20:], uint32(block))
	le.PutUint16(b[128:], 32) // i_extra_isize
	le.PutUint32(b[144:], t)  // crtime
	return b
}

func ext4Super(p ext4Params, blocks, groups, freeBlocks, freeInodes int64, t uint32) []byte {
	le := binary.LittleEndian
	sb := make([]byte, 1024)
	le.PutUint32(sb[0:], uint32(groups*e4InodesPerGrp))
	le.PutUint32(sb[4:], uint32(blocks))
	le.PutUint32(sb[12:], uint32(freeBlocks))
	le.PutUint32(sb[16:], uint32(freeInodes))
	le.PutUint32(sb[24:], 2) // log2(block size) - 10
	le.PutUint32(sb[28:], 2)
	le.PutUint32(sb[32:], e4BlocksPerGrp)
	le.PutUint32(sb[36:], e4BlocksPerGrp)
	le.PutUint32(sb[40:], e4InodesPerGrp)
	le.PutUint32(sb[48:], t) // wtime
	le.PutUint16(sb[54:], e4DefaultMaxMntCount)
	le.PutUint16(sb[56:], 0xef53)
	le.PutUint16(sb[58:], e4StateClean)
	le.PutUint16(sb[60:], e4ErrorsContinue)
	le.PutUint32(sb[64:], t) // lastcheck
	le.PutUint32(sb[76:], 1) // dynamic revision
	le.PutUint32(sb[84:], e4LostFoundIno)
	le.PutUint16(sb[88:], e4InodeSize)
	le.PutUint32(sb[92:], e4CompatDirIndex|e4CompatHasJournal)
	le.PutUint32(sb[96:], e4IncompatFiletype|e4IncompatExtents)
	le.PutUint32(sb[100:], e4ROSparseSuper|e4ROLargeFile|e4RODirNlink|e4ROExtraIsize)
	copy(sb[104:120], p.uuid[:])
	copy(sb[120:136], p.label)
	le.PutUint32(sb[224:], e4JournalIno) // s_journal_uuid stays zero: the journal is internal
	copy(sb[236:252], p.hashSeed[:])
	sb[252] = e4HalfMD4
	le.PutUint32(sb[264:], t) // mkfs_time
	le.PutUint16(sb[348:], 32)
	le.PutUint16(sb[350:], 32)
	le.PutUint32(sb[352:], e4FlagSignedHash)
	return sb
}
