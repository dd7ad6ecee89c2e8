package grow

import (
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"github.com/pigw/pigw/internal/blockdev"
	"github.com/pigw/pigw/internal/mbr"
	"golang.org/x/sys/unix"
)

// inspect finds, in sysfs, the partition dev is and the disk it is on.
func inspect(dev string) (disk, error) {
	p, err := blockdev.Kernel().ByPath(dev)
	if err != nil {
		return disk{part: dev}, err
	}
	return disk{
		dev: p.Disk, part: dev, pno: p.Number, sectorSize: p.SectorSize,
		sectors: uint64(p.DiskSize), partStart: uint64(p.Start), partSize: uint64(p.Size),
	}, nil
}

// readTable reads the disk's first sector and its partition table.
func readTable(dev string) ([]byte, mbr.Table, error) {
	f, err := os.Open(dev)
	if err != nil {
		return nil, mbr.Table{}, err
	}
	defer f.Close()
	sector := make([]byte, mbr.SectorSize)
	if _, err := f.ReadAt(sector, 0); err != nil {
		return nil, mbr.Table{}, fmt.Errorf("read the partition table of %s: %w", dev, err)
	}
	t, err := mbr.Parse(sector)
	if err != nil {
		return nil, mbr.Table{}, notPigw("%s: %v", dev, err)
	}
	return sector, t, nil
}

// writeTable writes the disk's first sector and flushes it to the medium (fsync of a block
// device writes its dirty pages and flushes the device's write cache).
func writeTable(dev string, sector []byte) error {
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(sector, 0); err != nil {
		f.Close()
		return fmt.Errorf("write the partition table of %s: %w", dev, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("flush the partition table of %s: %w", dev, err)
	}
	return f.Close()
}

// resizePartition tells the kernel that partition pno of dev has a new size, in sectors.
func resizePartition(dev string, pno int, start, sectors uint64) error {
	f, err := os.Open(dev)
	if err != nil {
		return err
	}
	defer f.Close()
	p := unix.BlkpgPartition{Start: int64(start * mbr.SectorSize), Length: int64(sectors * mbr.SectorSize), Pno: int32(pno)}
	arg := unix.BlkpgIoctlArg{Op: unix.BLKPG_RESIZE_PARTITION, Datalen: int32(unsafe.Sizeof(p)), Data: (*byte)(unsafe.Pointer(&p))}
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.BLKPG, uintptr(unsafe.Pointer(&arg))); errno != 0 {
		return fmt.Errorf("BLKPG_RESIZE_PARTITION %s partition %d to %d sectors: %w", dev, pno, sectors, errno)
	}
	return nil
}

// ext4 superblock fields (at byte 1024 of the partition).
const (
	sbOffset       = 1024
	sbBlocksLo     = 4
	sbLogBlockSize = 24
	sbMagic        = 56
	sbIncompat     = 96
	sbBlocksHi     = 0x150
	ext4Magic      = 0xef53
	incompat64Bit  = 0x80
)

// readFS reads the block size and count from the ext4 superblock on dev.
func readFS(dev string) (fsInfo, error) {
	f, err := os.Open(dev)
	if err != nil {
		return fsInfo{}, err
	}
	defer f.Close()
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, sbOffset); err != nil {
		return fsInfo{}, fmt.Errorf("read the superblock of %s: %w", dev, err)
	}
	le := binary.LittleEndian
	if le.Uint16(sb[sbMagic:]) != ext4Magic {
		return fsInfo{}, fmt.Errorf("%s: no ext4 superblock", dev)
	}
	shift := le.Uint32(sb[sbLogBlockSize:])
	if shift > 6 {
		return fsInfo{}, fmt.Errorf("%s: a block size of 2^%d KiB is not ext4's", dev, shift)
	}
	fs := fsInfo{blockSize: 1024 << shift, blocks: uint64(le.Uint32(sb[sbBlocksLo:]))}
	if le.Uint32(sb[sbIncompat:])&incompat64Bit != 0 {
		fs.blocks |= uint64(le.Uint32(sb[sbBlocksHi:])) << 32
	}
	return fs, nil
}

// ext4IOCResizeFS is EXT4_IOC_RESIZE_FS, _IOW('f', 16, __u64): grow the mounted filesystem
// to a block count.
const ext4IOCResizeFS = 0x40086610

// resizeFS grows the ext4 mounted at dir to blocks.
func resizeFS(dir string, blocks uint64) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	n := blocks
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), ext4IOCResizeFS, uintptr(unsafe.Pointer(&n))); errno != 0 {
		return fmt.Errorf("EXT4_IOC_RESIZE_FS %s to %d blocks: %w", dir, blocks, errno)
	}
	return nil
}
