package image

import (
	"encoding/binary"
	"fmt"
	"io"
)

// The Pi's boot ROM reads an MBR partition table, so the image has one, with four primary
// partitions aligned to 4 MiB (the erase-block size SD cards are tuned for).

const (
	sector = 512
	align  = 4 << 20

	typeFAT32LBA = 0x0c
	typeLinux    = 0x83
)

// A partition is one entry of the table, in bytes.
type partition struct {
	name     string
	typ      byte
	bootable bool
	start    int64
	size     int64
}

// partUUID is how Linux names partition n of an MBR disk: the disk signature in hex, a dash,
// and the partition number in two digits.
func partUUID(diskID uint32, n int) string { return fmt.Sprintf("%08x-%02d", diskID, n) }

// writeMBR writes the table at the start of the disk.
func writeMBR(w io.WriterAt, diskID uint32, parts []partition) error {
	if len(parts) > 4 {
		return fmt.Errorf("MBR: %d partitions, at most 4 fit", len(parts))
	}
	var mbr [sector]byte
	binary.LittleEndian.PutUint32(mbr[440:], diskID)
	for i, p := range parts {
		if p.start%sector != 0 || p.size%sector != 0 {
			return fmt.Errorf("MBR: partition %d (%s) not on sector boundaries", i+1, p.name)
		}
		first, n := p.start/sector, p.size/sector
		if first+n > 1<<32-1 {
			return fmt.Errorf("MBR: partition %d (%s) ends beyond 2 TiB", i+1, p.name)
		}
		e := mbr[446+16*i : 446+16*(i+1)]
		if p.bootable {
			e[0] = 0x80
		}
		copy(e[1:4], chs(first))
		e[4] = p.typ
		copy(e[5:8], chs(first+n-1))
		binary.LittleEndian.PutUint32(e[8:], uint32(first))
		binary.LittleEndian.PutUint32(e[12:], uint32(n))
	}
	mbr[510], mbr[511] = 0x55, 0xaa
	_, err := w.WriteAt(mbr[:], 0)
	return err
}

// chs gives the cylinder-head-sector address of an LBA in the usual 255 heads, 63 sectors
// geometry, or the "beyond reach" value past 1023 cylinders. Nothing modern reads it.
func chs(lba int64) []byte {
	const heads, sectors = 255, 63
	c := lba / (heads * sectors)
	if c > 1023 {
		return []byte{0xfe, 0xff, 0xff}
	}
	h := (lba / sectors) % heads
	s := lba%sectors + 1
	return []byte{byte(h), byte(s) | byte(c>>8)<<6, byte(c)}
}
