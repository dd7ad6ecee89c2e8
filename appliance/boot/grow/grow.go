// Package grow makes /perm fill its card on the first boot. The image is small (a quick
// download and flash); the card it is written to is larger, and the space after the last
// partition would otherwise stay unused. As PID 1, once /perm is mounted, pigw grows
// partition 4 in the MBR to the card's last 4 MiB boundary (the builder's alignment, see
// internal/mbr), tells the kernel, and grows the mounted ext4 into it, online, while the
// appliance already serves: the kernel writes zeroed inode tables for every new 128 MiB
// block group (2 MiB each, 480 MiB for a 32 GB card), which takes a while on an SD card, and
// the filesystem stays usable meanwhile.
//
// # Why a power cut does no harm
//
// There are three steps, each idempotent, each planned at every boot from what is on the
// card (not from a note of what a previous boot meant to do), in an order where the card is
// consistent between any two of them:
//
//  1. The MBR's entry 4 gets its new size: one 512-byte write of sector 0, then a flush of
//     the card's write cache. Before it, the card is as flashed; after it, partition 4 is
//     larger than its filesystem, which ext4 does not mind (it does not use the end), so
//     the card boots as before.
//  2. The kernel is told the partition's new size (BLKPG_RESIZE_PARTITION, allowed while it
//     is mounted). This only changes the running kernel's view; the next boot reads the
//     table anyway.
//  3. The ext4 grows (EXT4_IOC_RESIZE_FS, online). The kernel writes each new group's
//     bitmaps and zeroed inode table, then adds the group (its descriptor and the
//     superblock's counts) in a journal transaction. /perm has no resize inode, so when it
//     needs a second block of group descriptors (past 128 groups, 16 GiB) the kernel first
//     converts it to meta_bg, in a transaction of its own. A cut leaves, once the next mount
//     has replayed the journal, a consistent filesystem of some size between the old and
//     the new; that boot sees a partition larger than its filesystem and grows it the rest
//     of the way.
//
// The kernel sizes its view of a filesystem before it replays the journal, so after a cut
// in step 3 it would mount /perm with its old number of groups and trip a BUG_ON when asked
// to grow it further; package boot mounts /perm a second time when the replay changed its
// size (see remountIfResized there), and the tests cut QEMU in the middle of step 3.
//
// What is not safe: step 1 rewrites the sector that holds the whole partition table. Cards
// write a sector as a unit in practice, but nothing guarantees that a cut in the middle of
// that write leaves the old sector or the new one. A card that loses it neither boots nor
// shows its partitions; its data is intact, and writing back the image's own table
// (`sfdisk -d pigw-rpi.img | sfdisk /dev/sdX`: the filesystem has not grown yet at that
// point) recovers it. The window is one sector's write, once in the card's life; Raspberry
// Pi OS takes the same risk when it grows its root on the first boot.
//
// Nothing is done to a disk that is not laid out as pigw's image lays it out (see
// checkLayout): /perm on a whole disk, on another partition number, behind a partition
// table pigw did not write, or a table that disagrees with the kernel, is left as it is,
// and the log says why.
package grow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pigw/pigw/internal/mbr"
)

// Growth is a growing /perm.
type Growth struct {
	done chan struct{}
	err  error
}

// Start grows the partition that holds /perm (dev, the device mounted at dir) and the
// filesystem on it to the end of the disk, when there is room. The partition table and the
// kernel's view of it are done before Start returns; the filesystem grows in the background,
// until ctx is done or it is finished: the kernel's online resize cannot be interrupted, so
// a caller that unmounts /perm waits for it (Wait). When there is nothing to do, or dev is
// "", Start returns a Growth that is done.
func Start(ctx context.Context, log *slog.Logger, dev, dir string) *Growth {
	g := &Growth{done: make(chan struct{})}
	if dev == "" {
		close(g.done)
		return g
	}
	began := time.Now()
	d, pl, err := prepare(log, dev)
	if err != nil || pl.empty() {
		g.err = err
		close(g.done)
		return g
	}
	if pl.fsBlocks == 0 { // the partition grew, its filesystem had no need to
		log.Info("/perm grown", "device", d.part, "size", mib(pl.to), "took", time.Since(began).Round(time.Millisecond))
		close(g.done)
		return g
	}
	go func() {
		defer close(g.done)
		if err := ctx.Err(); err != nil {
			g.err = fmt.Errorf("stopping before the filesystem grew: %w", err)
			log.Warn("/perm not grown: the appliance is stopping; the next boot grows it", "err", err)
			return
		}
		g.err = resizeFS(dir, pl.fsBlocks)
		if g.err != nil {
			log.Error("/perm not grown: it keeps its size, and the next boot tries again", "device", d.part, "err", g.err)
			return
		}
		size := pl.to
		if fs, err := readFS(d.part); err == nil {
			size = fs.bytes()
		}
		log.Info("/perm grown", "device", d.part, "size", mib(size), "took", time.Since(began).Round(time.Millisecond))
	}()
	return g
}

// prepare plans the growth of /perm and does its partition steps. The plan's fsBlocks is
// what is left for the background.
func prepare(log *slog.Logger, dev string) (disk, plan, error) {
	d, pl, sector, err := plan4(dev)
	if errors.Is(err, errNotPigw) {
		log.Info("/perm not grown: the disk is left as it is", "device", dev, "why", err)
		return d, plan{}, err
	}
	if err != nil {
		log.Error("/perm not grown", "device", dev, "err", err)
		return d, plan{}, err
	}
	if pl.empty() {
		return d, pl, nil
	}
	log.Info("growing /perm", "device", d.part, "from", mib(pl.from), "to", mib(pl.to), "disk", d.dev, "disk_size", mib(d.sectors*mbr.SectorSize))
	if pl.table != nil {
		if err := writeTable(d.dev, sector); err != nil {
			log.Error("/perm not grown: the partition table was not written; the card is as it was", "disk", d.dev, "err", err)
			return d, plan{}, err
		}
		log.Info("partition 4 grown to the end of the disk", "disk", d.dev, "size", mib(uint64(pl.table.Partitions[permPartition-1].Sectors)*mbr.SectorSize))
	}
	if pl.kernel != 0 {
		if err := resizePartition(d.dev, d.pno, d.partStart, pl.kernel); err != nil {
			log.Error("/perm not grown: the kernel keeps the partition's old size until the next boot", "disk", d.dev, "err", err)
			return d, plan{}, err
		}
	}
	return d, pl, nil
}

// plan4 reads what the kernel, the partition table and the superblock say about /perm on
// dev and plans its growth. When the table is to change, sector is the disk's first sector
// with the new table in it.
func plan4(dev string) (d disk, pl plan, sector []byte, err error) {
	if d, err = inspect(dev); err != nil {
		return d, plan{}, nil, fmt.Errorf("inspect its disk: %w", err)
	}
	if d.pno == 0 {
		return d, plan{}, nil, notPigw("%s is a whole disk, not a partition", dev)
	}
	sector, t, err := readTable(d.dev)
	if err != nil {
		return d, plan{}, nil, err
	}
	fs, err := readFS(d.part)
	if err != nil {
		return d, plan{}, nil, err
	}
	if pl, err = makePlan(t, d, fs); err != nil || pl.table == nil {
		return d, pl, nil, err
	}
	if err := pl.table.Put(sector); err != nil {
		return d, plan{}, nil, err
	}
	return d, pl, sector, nil
}

// Err is why /perm did not grow (a disk left alone included) once the growth has ended; nil
// when it grew, had nothing to do, or is still growing.
func (g *Growth) Err() error {
	select {
	case <-g.done:
		return g.err
	default:
		return nil
	}
}

// Wait returns when the growth has ended, saying in the log that it waits when it has to.
func (g *Growth) Wait(log *slog.Logger) {
	select {
	case <-g.done:
		return
	default:
	}
	log.Info("waiting for /perm to finish growing")
	<-g.done
}

func mib(b uint64) string { return fmt.Sprintf("%dMiB", b>>20) }
