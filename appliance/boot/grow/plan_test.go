package grow

import (
	"errors"
	"strings"
	"testing"

	"github.com/pigw/pigw/internal/mbr"
)

// image is the table of a 1 GiB pigw image (image.DefaultSize): boot 256 MiB at 4 MiB, root
// A and B 256 MiB each, /perm 252 MiB.
var image = mbr.Table{DiskID: 0x5eed1234, Partitions: [4]mbr.Partition{
	{Type: mbr.TypeFAT32LBA, Bootable: true, Start: 8192, Sectors: 524288},
	{Type: mbr.TypeLinux, Start: 532480, Sectors: 524288},
	{Type: mbr.TypeLinux, Start: 1056768, Sectors: 524288},
	{Type: mbr.TypeLinux, Start: 1581056, Sectors: 516096},
}}

const (
	imageSectors = 2097152  // 1 GiB
	card32       = 62333952 // a "32 GB" card: 31914983424 bytes
	card32P4     = 60751872 // partition 4 to the card's last 4 MiB boundary (62332928)
	card32Blocks = 7593984  // card32P4 in 4 KiB blocks
	imageBlocks  = 64512    // 252 MiB
	tib3         = 3 << 40 / 512
	tib2P4       = 4294959104 - 1581056 // the last 4 MiB boundary within 2^32-1 sectors
)

// withP4 is the image's table with partition 4 of n sectors.
func withP4(t mbr.Table, n uint32) *mbr.Table {
	t.Partitions[3].Sectors = n
	return &t
}

func TestPlan(t *testing.T) {
	onCard := func(sectors uint64) disk {
		return disk{dev: "/dev/mmcblk0", part: "/dev/mmcblk0p4", pno: 4, sectorSize: 512, sectors: sectors, partStart: 1581056, partSize: 516096}
	}
	fs := func(blocks uint64) fsInfo { return fsInfo{blockSize: 4096, blocks: blocks} }
	tests := []struct {
		name  string
		table mbr.Table
		disk  disk
		fs    fsInfo
		want  plan
	}{
		{"card of the image's size", image, onCard(imageSectors), fs(imageBlocks), plan{}},
		{"8 MiB more: not worth it", image, onCard(imageSectors + 16384), fs(imageBlocks), plan{}},
		{"16 MiB more", image, onCard(imageSectors + 32768), fs(imageBlocks),
			plan{table: withP4(image, 516096+32768), kernel: 516096 + 32768, fsBlocks: imageBlocks + 4096, from: 252 << 20, to: 268 << 20}},
		{"16 MiB and a bit more: the end rounds down to 4 MiB", image, onCard(imageSectors + 32768 + 8191), fs(imageBlocks),
			plan{table: withP4(image, 516096+32768), kernel: 516096 + 32768, fsBlocks: imageBlocks + 4096, from: 252 << 20, to: 268 << 20}},
		{"32 GB card", image, onCard(card32), fs(imageBlocks),
			plan{table: withP4(image, card32P4), kernel: card32P4, fsBlocks: card32Blocks, from: 252 << 20, to: card32Blocks * 4096}},
		{"3 TiB card: to the table's 2 TiB reach", image, onCard(tib3), fs(imageBlocks),
			plan{table: withP4(image, tib2P4), kernel: tib2P4, fsBlocks: tib2P4 / 8, from: 252 << 20, to: tib2P4 * 512}},
		{"table grown, the kernel not told", *withP4(image, card32P4), onCard(card32), fs(imageBlocks),
			plan{kernel: card32P4, fsBlocks: card32Blocks, from: 252 << 20, to: card32Blocks * 4096}},
		{"cut before the filesystem grew", *withP4(image, card32P4), func() disk { d := onCard(card32); d.partSize = card32P4; return d }(), fs(imageBlocks),
			plan{fsBlocks: card32Blocks, from: 252 << 20, to: card32Blocks * 4096}},
		{"cut while the filesystem grew", *withP4(image, card32P4), func() disk { d := onCard(card32); d.partSize = card32P4; return d }(), fs(3000000),
			plan{fsBlocks: card32Blocks, from: 3000000 * 4096, to: card32Blocks * 4096}},
		{"grown", *withP4(image, card32P4), func() disk { d := onCard(card32); d.partSize = card32P4; return d }(), fs(card32Blocks), plan{}},
		{"grown, a short last group left out", *withP4(image, card32P4), func() disk { d := onCard(card32); d.partSize = card32P4; return d }(), fs(card32Blocks - 600), plan{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := makePlan(tt.table, tt.disk, tt.fs)
			if err != nil {
				t.Fatal(err)
			}
			if (got.table == nil) != (tt.want.table == nil) || got.table != nil && *got.table != *tt.want.table {
				t.Errorf("table %+v, want %+v", got.table, tt.want.table)
			}
			got.table, tt.want.table = nil, nil
			if got != tt.want {
				t.Errorf("plan %+v, want %+v", got, tt.want)
			}
			if got.fsBlocks != 0 && (got.fsBlocks*4096)%mbr.Align != 0 {
				t.Errorf("the filesystem grows to %d blocks, not a multiple of 4 MiB", got.fsBlocks)
			}
		})
	}
}

func TestPlanLeavesOtherDisksAlone(t *testing.T) {
	card := disk{dev: "/dev/sda", part: "/dev/sda4", pno: 4, sectorSize: 512, sectors: card32, partStart: 1581056, partSize: 516096}
	with := func(i int, f func(p *mbr.Partition)) mbr.Table {
		t := image
		f(&t.Partitions[i])
		return t
	}
	tests := []struct {
		name  string
		table mbr.Table
		disk  func(d *disk)
		want  string
	}{
		{"whole disk", image, func(d *disk) { d.pno = 0; d.part = "/dev/vdb" }, "/dev/vdb is a whole disk"},
		{"partition 2", image, func(d *disk) { d.pno = 2 }, "/perm is partition 2 of /dev/sda, pigw's is partition 4"},
		{"4 KiB sectors", image, func(d *disk) { d.sectorSize = 4096 }, "4096-byte logical sectors"},
		{"NTFS first", with(0, func(p *mbr.Partition) { p.Type = 0x07 }), nil, "partition 1 has type 0x07, pigw's has 0x0c"},
		{"GPT", with(0, func(p *mbr.Partition) { p.Type = 0xee; p.Start = 1 }), nil, "partition 1 has type 0xee"},
		{"boot at 1 MiB", with(0, func(p *mbr.Partition) { p.Start = 2048 }), nil, "partition 1 starts at sector 2048, not on a 4 MiB boundary"},
		{"boot at 8 MiB", with(0, func(p *mbr.Partition) { p.Start = 16384 }), nil, "partition 1 starts at sector 16384, pigw's at 8192"},
		{"swap", with(2, func(p *mbr.Partition) { p.Type = 0x82 }), nil, "partition 3 has type 0x82"},
		{"three partitions", with(3, func(p *mbr.Partition) { *p = mbr.Partition{} }), nil, "partition 4 has type 0x00"},
		{"unaligned", with(3, func(p *mbr.Partition) { p.Start += 8 }), nil, "partition 4 starts at sector 1581064, not on a 4 MiB boundary"},
		{"overlap", with(2, func(p *mbr.Partition) { p.Sectors += 8192 }), nil, "partition 4 starts at sector 1581056, before partition 3 ends (1589248)"},
		{"kernel elsewhere", image, func(d *disk) { d.partStart = 1589248 }, "is not the kernel's /dev/sda4 (1589248+516096)"},
		{"kernel larger", image, func(d *disk) { d.partSize = 600000 }, "is not the kernel's"},
		{"image larger than the card", image, func(d *disk) { d.sectors = imageSectors - 16384 }, "past the end of /dev/sda"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := card
			if tt.disk != nil {
				tt.disk(&d)
			}
			p, err := makePlan(tt.table, d, fsInfo{blockSize: 4096, blocks: imageBlocks})
			if !errors.Is(err, errNotPigw) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("makePlan: %v, want %q", err, tt.want)
			}
			if !p.empty() {
				t.Errorf("plan %+v, want nothing", p)
			}
		})
	}
}

func TestPlanFilesystemLargerThanPartition(t *testing.T) {
	d := disk{dev: "/dev/sda", part: "/dev/sda4", pno: 4, sectorSize: 512, sectors: imageSectors, partStart: 1581056, partSize: 516096}
	_, err := makePlan(image, d, fsInfo{blockSize: 4096, blocks: imageBlocks + 1})
	if err == nil || errors.Is(err, errNotPigw) || !strings.Contains(err.Error(), "larger than its partition") {
		t.Errorf("makePlan: %v", err)
	}
}
