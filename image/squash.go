package image

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// The root filesystem is squashfs 4.0 with zlib ("gzip") compression, which every kernel with
// squashfs reads (CONFIG_SQUASHFS_ZLIB is on by default). The writer is small because the
// image needs little: directories, regular files and symlinks owned by root, no fragments
// (each file's tail is a compressed block of its own), no xattrs, no NFS export table. Entries
// are written in sorted order with one fixed mtime, so the same tree gives the same bytes.
//
// Layout: superblock, data blocks, inode table, directory table, id table.

const (
	sqMagic      = 0x73717368
	sqBlockSize  = 128 << 10
	sqBlockLog   = 17
	sqMetaSize   = 8192
	sqZlib       = 1
	sqNoFrags    = 0x10
	sqNoXattrs   = 0x200
	sqUncompData = 1 << 24 // in a data block's size: stored as is
	sqUncompMeta = 0x8000  // in a metadata block's header
	sqInvalid    = ^uint64(0)

	sqDir, sqFile, sqSymlink = 1, 2, 3
)

// sqMeta accumulates a metadata table: 8 KiB blocks, each compressed when that helps.
type sqMeta struct {
	out bytes.Buffer // finished blocks
	cur []byte       // the block being filled
}

// ref is where the next byte goes: block position in the table << 16 | offset in the block.
func (m *sqMeta) ref() (block uint32, offset uint16) { return uint32(m.out.Len()), uint16(len(m.cur)) }

func (m *sqMeta) write(b []byte) {
	m.cur = append(m.cur, b...)
	for len(m.cur) >= sqMetaSize {
		m.flush(m.cur[:sqMetaSize])
		m.cur = append([]byte(nil), m.cur[sqMetaSize:]...)
	}
}

func (m *sqMeta) flush(block []byte) {
	z := compress(block)
	hdr := uint16(len(z))
	if z == nil {
		z, hdr = block, uint16(len(block))|sqUncompMeta
	}
	binary.Write(&m.out, binary.LittleEndian, hdr)
	m.out.Write(z)
}

func (m *sqMeta) finish() []byte {
	if len(m.cur) > 0 {
		m.flush(m.cur)
		m.cur = nil
	}
	return m.out.Bytes()
}

// compress returns b zlib-compressed, or nil when that is not smaller.
func compress(b []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	if z.Len() >= len(b) {
		return nil
	}
	return z.Bytes()
}

type sqWriter struct {
	ctx    context.Context
	w      io.WriterAt
	t      tree
	pos    int64
	mtime  uint32
	num    map[string]uint32 // inode numbers
	inodes sqMeta
	dirs   sqMeta
}

type sqEntry struct {
	name   string
	typ    uint16
	num    uint32
	block  uint32
	offset uint16
}

// writeSquashfs writes t as a squashfs filesystem at the start of w and returns its size,
// padded to 4 KiB.
func writeSquashfs(ctx context.Context, w io.WriterAt, t tree, mtime time.Time) (int64, error) {
	s := &sqWriter{ctx: ctx, w: w, t: t, pos: 96, mtime: uint32(mtime.Unix()), num: map[string]uint32{}}
	// Inode numbers in the order inodes are written: children before their directory.
	var n uint32
	var number func(dir string)
	number = func(dir string) {
		for _, c := range t.children(dir) {
			if p := join(dir, c); t[p].isDir() {
				number(p)
			} else {
				n++
				s.num[p] = n
			}
		}
		n++
		s.num[dir] = n
	}
	number("")
	rootBlock, rootOff, err := s.dir("", n+1)
	if err != nil {
		return 0, err
	}
	inodeStart := s.pos
	if err := s.put(s.inodes.finish()); err != nil {
		return 0, err
	}
	dirStart := s.pos
	if err := s.put(s.dirs.finish()); err != nil {
		return 0, err
	}
	fragStart := s.pos
	var ids sqMeta
	ids.write([]byte{0, 0, 0, 0}) // one id, 0: everything is root's
	if err := s.put(ids.finish()); err != nil {
		return 0, err
	}
	idStart := s.pos
	if err := s.put(binary.LittleEndian.AppendUint64(nil, uint64(fragStart))); err != nil {
		return 0, err
	}
	sb := make([]byte, 0, 96)
	le := binary.LittleEndian
	sb = le.AppendUint32(sb, sqMagic)
	sb = le.AppendUint32(sb, n)
	sb = le.AppendUint32(sb, s.mtime)
	sb = le.AppendUint32(sb, sqBlockSize)
	sb = le.AppendUint32(sb, 0) // fragments
	sb = le.AppendUint16(sb, sqZlib)
	sb = le.AppendUint16(sb, sqBlockLog)
	sb = le.AppendUint16(sb, sqNoFrags|sqNoXattrs)
	sb = le.AppendUint16(sb, 1) // ids
	sb = le.AppendUint16(sb, 4) // version 4.0
	sb = le.AppendUint16(sb, 0)
	sb = le.AppendUint64(sb, uint64(rootBlock)<<16|uint64(rootOff))
	sb = le.AppendUint64(sb, uint64(s.pos)) // bytes used
	sb = le.AppendUint64(sb, uint64(idStart))
	sb = le.AppendUint64(sb, sqInvalid) // xattr id table
	sb = le.AppendUint64(sb, uint64(inodeStart))
	sb = le.AppendUint64(sb, uint64(dirStart))
	sb = le.AppendUint64(sb, uint64(fragStart))
	sb = le.AppendUint64(sb, sqInvalid) // export table
	if _, err := w.WriteAt(sb, 0); err != nil {
		return 0, err
	}
	return (s.pos + 4095) &^ 4095, nil
}

func (s *sqWriter) put(b []byte) error {
	if _, err := s.w.WriteAt(b, s.pos); err != nil {
		return err
	}
	s.pos += int64(len(b))
	return nil
}

// header is the part common to all inodes.
func (s *sqWriter) header(typ uint16, p string) []byte {
	b := binary.LittleEndian.AppendUint16(nil, typ)
	b = binary.LittleEndian.AppendUint16(b, uint16(s.t[p].mode.Perm()))
	b = binary.LittleEndian.AppendUint32(b, 0) // uid and gid: index 0 of the id table
	b = binary.LittleEndian.AppendUint32(b, s.mtime)
	return binary.LittleEndian.AppendUint32(b, s.num[p])
}

// dir writes the inodes below dir, its listing and its own inode, and returns where that is.
func (s *sqWriter) dir(dir string, parent uint32) (uint32, uint16, error) {
	var ents []sqEntry
	subdirs := 0
	for _, c := range s.t.children(dir) {
		if err := s.ctx.Err(); err != nil {
			return 0, 0, err
		}
		p := join(dir, c)
		e := sqEntry{name: c, num: s.num[p]}
		var err error
		switch n := s.t[p]; {
		case n.isDir():
			e.typ = sqDir
			subdirs++
			e.block, e.offset, err = s.dir(p, s.num[dir])
		case n.isSymlink():
			e.typ = sqSymlink
			e.block, e.offset = s.inodes.ref()
			b := s.header(sqSymlink, p)
			b = binary.LittleEndian.AppendUint32(b, 1)
			b = binary.LittleEndian.AppendUint32(b, uint32(len(n.target)))
			s.inodes.write(append(b, n.target...))
		default:
			e.typ = sqFile
			e.block, e.offset, err = s.file(p, n)
		}
		if err != nil {
			return 0, 0, err
		}
		ents = append(ents, e)
	}
	lblock, loff := s.dirs.ref()
	listing := sqListing(ents)
	if len(listing)+3 > 0xffff {
		return 0, 0, fmt.Errorf("squashfs: directory /%s has too many entries", dir)
	}
	s.dirs.write(listing)
	block, off := s.inodes.ref()
	b := s.header(sqDir, dir)
	b = binary.LittleEndian.AppendUint32(b, lblock)
	b = binary.LittleEndian.AppendUint32(b, uint32(2+subdirs))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(listing)+3))
	b = binary.LittleEndian.AppendUint16(b, loff)
	b = binary.LittleEndian.AppendUint32(b, parent)
	s.inodes.write(b)
	return block, off, nil
}

// sqListing encodes directory entries: runs of up to 256 entries whose inodes share a
// metadata block, each run after a header naming that block and a base inode number.
func sqListing(ents []sqEntry) []byte {
	var b []byte
	for i := 0; i < len(ents); {
		j := i + 1
		for j < len(ents) && j-i < 256 && ents[j].block == ents[i].block &&
			int64(ents[j].num)-int64(ents[i].num) < 32768 && int64(ents[j].num)-int64(ents[i].num) > -32768 {
			j++
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(j-i-1))
		b = binary.LittleEndian.AppendUint32(b, ents[i].block)
		b = binary.LittleEndian.AppendUint32(b, ents[i].num)
		for _, e := range ents[i:j] {
			b = binary.LittleEndian.AppendUint16(b, e.offset)
			b = binary.LittleEndian.AppendUint16(b, uint16(int16(int64(e.num)-int64(ents[i].num))))
			b = binary.LittleEndian.AppendUint16(b, e.typ)
			b = binary.LittleEndian.AppendUint16(b, uint16(len(e.name)-1))
			b = append(b, e.name...)
		}
		i = j
	}
	return b
}

// file writes a file's data blocks and its inode.
func (s *sqWriter) file(p string, n *node) (uint32, uint16, error) {
	if n.size >= 1<<32 || s.pos >= 1<<32 {
		return 0, 0, fmt.Errorf("squashfs: /%s: beyond 4 GiB", p)
	}
	r, err := n.open()
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	start := s.pos
	var sizes []uint32
	buf := make([]byte, sqBlockSize)
	var total int64
	for {
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			total += int64(k)
			block := buf[:k]
			size := uint32(k) | sqUncompData
			if z := compress(block); z != nil {
				block, size = z, uint32(len(z))
			}
			if err := s.put(block); err != nil {
				return 0, 0, err
			}
			sizes = append(sizes, size)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("read %s: %w", n.src, err)
		}
	}
	if total != n.size {
		return 0, 0, fmt.Errorf("%s changed while the image was built", n.src)
	}
	block, off := s.inodes.ref()
	b := s.header(sqFile, p)
	if total == 0 {
		start = 0
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(start))
	b = binary.LittleEndian.AppendUint32(b, 0xffffffff) // no fragment
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	for _, sz := range sizes {
		b = binary.LittleEndian.AppendUint32(b, sz)
	}
	s.inodes.write(b)
	return block, off, nil
}
