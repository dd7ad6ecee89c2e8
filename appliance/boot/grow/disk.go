package grow

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"github.com/pigw/pigw/internal/mbr"
	"golang.org/x/sys/unix"
)

// inspect finds, in sysfs, the partition dev is and the disk it is on.
func inspect(dev string) (disk, error) {
	d := disk{part: dev}
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		return d, fmt.Errorf("stat %s: %w", dev, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return d, fmt.Errorf("%s is not a block device", dev)
	}
	sys, err := filepath.EvalSymlinks(fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev)))
	if err != nil {
		return d, fmt.Errorf("%s in sysfs: %w", dev, err)
	}
	if _, err := os.Stat(filepath.Join(sys, "partition")); err != nil {
		return d, nil // a whole disk: pno 0
	}
	if d.pno, err = sysInt(sys, "partition"); err != nil {
		return d, err
	}
	start, err := sysInt(sys, "start")
	if err != nil {
		return d, err
	}
	size, err := sysInt(sys, "size")
	if err != nil {
		return d, err
	}
	d.partStart, d.partSize = uint64(start), uint64(size)
	parent := filepath.Dir(sys)
	d.dev = "/dev/" + filepath.Base(parent)
	sectors, err := sysInt(parent, "size") // always in 512-byte units
	if err != nil {
		return d, err
	}
	d.sectors = uint64(sectors)
	if d.sectorSize, err = sysInt(parent, "queue/logical_block_size"); err != nil {
		return d, err
	}
	return d, nil
}

func sysInt(dir, name string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s/%s: %w", dir, name, err)
	}
	return n, nil
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
