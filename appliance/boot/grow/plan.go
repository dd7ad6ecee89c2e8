package grow

import (
	"errors"
	"fmt"

	"github.com/pigw/pigw/internal/mbr"
)

// minGrow is the least growth worth doing: less is not worth a write of the partition table
// (the one step that is not power-safe, see the package doc), and leaves room for the few
// blocks the kernel may leave out at the end of a filesystem (a last block group too small
// for its own metadata), so that a grown /perm is never grown again.
const minGrow = 16 << 20

// permPartition is /perm's entry in pigw's table.
const permPartition = 4

// disk is what the kernel says about /perm's partition and the disk it is on.
type disk struct {
	dev        string // the whole disk: /dev/mmcblk0, /dev/vda
	part       string // /perm's partition: /dev/mmcblk0p4, /dev/vda4
	pno        int    // the partition's number, 0 when part is a whole disk
	sectorSize int    // the disk's logical sector size
	sectors    uint64 // the disk's size, in 512-byte sectors
	partStart  uint64 // the partition as the kernel has it, in 512-byte sectors
	partSize   uint64
}

// fsInfo is what /perm's superblock says.
type fsInfo struct {
	blockSize uint64
	blocks    uint64
}

func (f fsInfo) bytes() uint64 { return f.blocks * f.blockSize }

// plan is what growing /perm takes; its zero value is nothing.
type plan struct {
	table    *mbr.Table // to write, with partition 4 grown; nil: the table stays
	kernel   uint64     // partition 4's new size for the kernel, in sectors; 0: it stays
	fsBlocks uint64     // the filesystem's new block count; 0: it stays
	from, to uint64     // /perm's size now and after, in bytes
}

func (p plan) empty() bool { return p.table == nil && p.kernel == 0 && p.fsBlocks == 0 }

// errNotPigw wraps the reasons a disk is left alone.
var errNotPigw = errors.New("not pigw's disk layout")

func notPigw(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errNotPigw, fmt.Sprintf(format, args...))
}

// makePlan checks that the disk is laid out as pigw's image lays it out, with /perm in its
// last partition, and says what it takes for /perm to reach the disk's last 4 MiB boundary
// (or the table's 2 TiB reach). Each step is planned from what is on the disk, not from what
// a previous boot meant to do, so that a boot cut short is finished by the next.
func makePlan(t mbr.Table, d disk, fs fsInfo) (plan, error) {
	if err := checkLayout(t, d); err != nil {
		return plan{}, err
	}
	p4 := t.Partitions[permPartition-1]
	end := min(d.sectors, mbr.MaxSectors) / mbr.AlignSectors * mbr.AlignSectors
	var pl plan
	size := uint64(p4.Sectors)
	if end > p4.End() && (end-p4.End())*mbr.SectorSize >= minGrow {
		nt := t
		size = end - uint64(p4.Start)
		nt.Partitions[permPartition-1].Sectors = uint32(size)
		pl.table = &nt
	}
	if d.partSize < size {
		pl.kernel = size
	}
	if fs.blockSize == 0 || fs.bytes() > size*mbr.SectorSize {
		return plan{}, fmt.Errorf("the filesystem (%d blocks of %d bytes) is larger than its partition (%d sectors)", fs.blocks, fs.blockSize, size)
	}
	if size*mbr.SectorSize-fs.bytes() >= minGrow {
		pl.fsBlocks = size * mbr.SectorSize / fs.blockSize
	}
	if pl.empty() {
		return plan{}, nil
	}
	pl.from, pl.to = fs.bytes(), max(pl.fsBlocks*fs.blockSize, fs.bytes())
	return pl, nil
}

// checkLayout says why t and d are not a pigw card whose /perm can grow: a FAT32 boot
// partition at 4 MiB, three Linux partitions after it, all starting on 4 MiB boundaries, in
// order, with /perm the fourth and last, as the kernel has it, and within the disk.
func checkLayout(t mbr.Table, d disk) error {
	if d.pno == 0 {
		return notPigw("%s is a whole disk, not a partition", d.part)
	}
	if d.pno != permPartition {
		return notPigw("/perm is partition %d of %s, pigw's is partition %d", d.pno, d.dev, permPartition)
	}
	if d.sectorSize != mbr.SectorSize {
		return notPigw("%s has %d-byte logical sectors, pigw's table counts %d-byte ones", d.dev, d.sectorSize, mbr.SectorSize)
	}
	var end uint64
	for i, p := range t.Partitions {
		want := byte(mbr.TypeLinux)
		if i == 0 {
			want = mbr.TypeFAT32LBA
		}
		switch {
		case p.Type != want:
			return notPigw("partition %d has type %#02x, pigw's has %#02x", i+1, p.Type, want)
		case p.Sectors == 0:
			return notPigw("partition %d is empty", i+1)
		case p.Start%mbr.AlignSectors != 0:
			return notPigw("partition %d starts at sector %d, not on a 4 MiB boundary", i+1, p.Start)
		case i == 0 && p.Start != mbr.AlignSectors:
			return notPigw("partition 1 starts at sector %d, pigw's at %d (4 MiB)", p.Start, mbr.AlignSectors)
		case uint64(p.Start) < end:
			return notPigw("partition %d starts at sector %d, before partition %d ends (%d)", i+1, p.Start, i, end)
		}
		end = p.End()
	}
	p4 := t.Partitions[permPartition-1]
	if uint64(p4.Start) != d.partStart || uint64(p4.Sectors) < d.partSize {
		return notPigw("the table's partition 4 (sectors %d+%d) is not the kernel's %s (%d+%d)", p4.Start, p4.Sectors, d.part, d.partStart, d.partSize)
	}
	if p4.End() > d.sectors {
		return notPigw("partition 4 ends at sector %d, past the end of %s (%d sectors): an image larger than the card?", p4.End(), d.dev, d.sectors)
	}
	return nil
}
