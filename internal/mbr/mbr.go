// Package mbr reads and writes the MBR partition table of a pigw card: the image builder
// writes it, and PID 1 rewrites its last entry when /perm grows to the end of the card. One
// codec for both, so that the table PID 1 writes is the one the builder would have written
// for a card of that size.
//
// The Pi's boot ROM reads an MBR (not a GPT), so that is what pigw's cards carry. Only the
// four primary entries are read; extended partitions are not pigw's and are left alone.
package mbr

import (
	"encoding/binary"
	"fmt"
)

const (
	// SectorSize is the unit of every address in the table: a card's logical sector.
	SectorSize = 512
	// Align is where pigw's partitions start and end: 4 MiB, the erase-block size SD cards
	// are tuned for. A partition on these boundaries never shares an erase block with
	// another, and is what the Pi's own tools make.
	Align = 4 << 20
	// AlignSectors is Align in sectors.
	AlignSectors = Align / SectorSize
	// MaxSectors is the furthest an entry can reach: 32-bit sector numbers, 2 TiB.
	MaxSectors = 1<<32 - 1

	TypeFAT32LBA = 0x0c
	TypeLinux    = 0x83
)

// Partition is one entry of the table, in sectors. An entry with no sectors is empty.
type Partition struct {
	Type     byte
	Bootable bool
	Start    uint32 // first sector
	Sectors  uint32
}

// End is the sector after the partition's last.
func (p Partition) End() uint64 { return uint64(p.Start) + uint64(p.Sectors) }

// Table is a disk's MBR: its signature (the disk ID in root=PARTUUID=<id>-02) and its four
// primary entries.
type Table struct {
	DiskID     uint32
	Partitions [4]Partition
}

// Parse reads the table from a disk's first sector.
func Parse(sector []byte) (Table, error) {
	var t Table
	if len(sector) < SectorSize {
		return t, fmt.Errorf("MBR: %d bytes, want a %d-byte sector", len(sector), SectorSize)
	}
	if sector[510] != 0x55 || sector[511] != 0xaa {
		return t, fmt.Errorf("MBR: no partition table (bytes 510-511 are %#02x %#02x, want 0x55 0xaa)", sector[510], sector[511])
	}
	le := binary.LittleEndian
	t.DiskID = le.Uint32(sector[440:])
	for i := range t.Partitions {
		e := sector[446+16*i : 446+16*(i+1)]
		if e[0] != 0 && e[0] != 0x80 {
			return t, fmt.Errorf("MBR: entry %d has status %#02x, want 0x00 or 0x80 (a boot sector without a partition table?)", i+1, e[0])
		}
		t.Partitions[i] = Partition{Type: e[4], Bootable: e[0] == 0x80, Start: le.Uint32(e[8:]), Sectors: le.Uint32(e[12:])}
	}
	return t, nil
}

// Put writes t into sector, a disk's first sector, and leaves its first 440 bytes (boot
// code) as they are.
func (t Table) Put(sector []byte) error {
	if len(sector) != SectorSize {
		return fmt.Errorf("MBR: %d bytes, want a %d-byte sector", len(sector), SectorSize)
	}
	le := binary.LittleEndian
	le.PutUint32(sector[440:], t.DiskID)
	for i, p := range t.Partitions {
		if p.End() > MaxSectors {
			return fmt.Errorf("MBR: partition %d ends at sector %d, beyond the table's reach (%d sectors, 2 TiB)", i+1, p.End(), uint64(MaxSectors))
		}
		e := sector[446+16*i : 446+16*(i+1)]
		clear(e)
		if p.Sectors == 0 {
			continue
		}
		if p.Bootable {
			e[0] = 0x80
		}
		copy(e[1:4], chs(p.Start))
		e[4] = p.Type
		copy(e[5:8], chs(uint32(p.End()-1)))
		le.PutUint32(e[8:], p.Start)
		le.PutUint32(e[12:], p.Sectors)
	}
	sector[510], sector[511] = 0x55, 0xaa
	return nil
}

// chs gives the cylinder-head-sector address of a sector in the usual 255 heads, 63 sectors
// geometry, or the "beyond reach" value past 1023 cylinders. Nothing modern reads it.
func chs(lba uint32) []byte {
	const heads, sectors = 255, 63
	c := lba / (heads * sectors)
	if c > 1023 {
		return []byte{0xfe, 0xff, 0xff}
	}
	h := (lba / sectors) % heads
	s := lba%sectors + 1
	return []byte{byte(h), byte(s) | byte(c>>8)<<6, byte(c)}
}
