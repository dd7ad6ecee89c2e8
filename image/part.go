package image

import (
	"fmt"
	"io"

	"github.com/pigw/pigw/internal/mbr"
)

// The Pi's boot ROM reads an MBR partition table, so the image has one, with four primary
// partitions aligned to 4 MiB (the erase-block size SD cards are tuned for). PID 1 grows the
// last one, /perm, to the end of the card with the same codec and alignment (internal/mbr).

const (
	sector = mbr.SectorSize
	align  = mbr.Align
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
	t := mbr.Table{DiskID: diskID}
	for i, p := range parts {
		if p.start%sector != 0 || p.size%sector != 0 {
			return fmt.Errorf("MBR: partition %d (%s) not on sector boundaries", i+1, p.name)
		}
		first, n := p.start/sector, p.size/sector
		if first+n > mbr.MaxSectors {
			return fmt.Errorf("MBR: partition %d (%s) ends beyond 2 TiB", i+1, p.name)
		}
		t.Partitions[i] = mbr.Partition{Type: p.typ, Bootable: p.bootable, Start: uint32(first), Sectors: uint32(n)}
	}
	b := make([]byte, sector)
	if err := t.Put(b); err != nil {
		return err
	}
	_, err := w.WriteAt(b, 0)
	return err
}
