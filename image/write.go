package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pigw/pigw/internal/mbr"
)

// write lays out the partitions and writes the filesystems into Out.tmp, then renames it.
func write(ctx context.Context, o *Options, p *progress, in *inputs, digest []byte, mtime time.Time, res *Result) error {
	tmp := o.Out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	ok := false
	defer func() {
		f.Close()
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := f.Truncate(o.Size); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	boot := Partition{Name: "boot (FAT32)", Start: align, Size: bootSize}
	rootA := Partition{Name: "root A (squashfs)", Start: boot.Start + boot.Size}
	if err := p.step("write the root squashfs", func() (err error) {
		rootA.Used, err = writeSquashfs(ctx, io.NewOffsetWriter(f, rootA.Start), in.root, mtime)
		return err
	}); err != nil {
		return fmt.Errorf("write root partition: %w", err)
	}
	rootA.Size = max(minRootSize, (rootA.Used+align-1)/align*align)
	// Root B starts as a copy of A: both partitions hold a bootable root, and an update
	// overwrites the one not running.
	rootB := Partition{Name: "root B (squashfs)", Start: rootA.Start + rootA.Size, Size: rootA.Size, Used: rootA.Used}
	if _, err := io.Copy(io.NewOffsetWriter(f, rootB.Start), io.NewSectionReader(f, rootA.Start, rootA.Used)); err != nil {
		return fmt.Errorf("write root B partition: %w", err)
	}
	perm := Partition{Name: "/perm (ext4)", Start: rootB.Start + rootB.Size}
	perm.Size = (o.Size - perm.Start) / align * align
	if perm.Size < minPermSize {
		return fmt.Errorf("--size %d MiB: too small, the partitions need at least %d MiB (the root squashfs is %d MiB)",
			o.Size>>20, (perm.Start+minPermSize)>>20, rootA.Used>>20)
	}
	parts := []partition{
		{name: boot.Name, typ: mbr.TypeFAT32LBA, bootable: true, start: boot.Start, size: boot.Size},
		{name: rootA.Name, typ: mbr.TypeLinux, start: rootA.Start, size: rootA.Size},
		{name: rootB.Name, typ: mbr.TypeLinux, start: rootB.Start, size: rootB.Size},
		{name: perm.Name, typ: mbr.TypeLinux, start: perm.Start, size: perm.Size},
	}
	if err := p.step("write the boot partition (FAT32)", func() (err error) {
		boot.Used, err = writeFAT(ctx, f, boot.Start, boot.Size, in.boot, seed32(digest, "fat volume id"), mtime)
		if err != nil {
			return err
		}
		return writeMBR(f, res.DiskID, parts)
	}); err != nil {
		return fmt.Errorf("write boot partition: %w", err)
	}
	if err := p.step("write /perm (ext4)", func() (err error) {
		ep := ext4Params{label: permLabel, time: mtime}
		copy(ep.uuid[:], seed(digest, "ext4 uuid", 16))
		ep.uuid[6] = ep.uuid[6]&0x0f | 0x40 // a version 4 UUID in form
		ep.uuid[8] = ep.uuid[8]&0x3f | 0x80
		copy(ep.hashSeed[:], seed(digest, "ext4 hash seed", 16))
		_, perm.Used, err = writeExt4(io.NewOffsetWriter(f, perm.Start), perm.Size, ep)
		return err
	}); err != nil {
		return fmt.Errorf("write /perm partition: %w", err)
	}
	if err := p.step("sync "+o.Out, func() error {
		if err := f.Sync(); err != nil {
			return err
		}
		return os.Rename(tmp, o.Out)
	}); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	ok = true
	res.Partitions = []Partition{boot, rootA, rootB, perm}
	return nil
}
