package update

import (
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Slot is a root partition being written: a block device on a Pi, a file in tests.
type Slot interface {
	io.ReaderAt
	io.WriterAt
	// Sync makes everything written so far durable.
	Sync() error
	// DropCache forgets cached contents, so that reads come from the medium.
	DropCache() error
	// ZeroFrom makes every byte from off to the slot's end zero.
	ZeroFrom(off int64) error
	Close() error
}

// fileSlot is a Slot on an open file or block device.
type fileSlot struct {
	f     *os.File
	block bool
}

// openSlot opens path for writing. A block device is opened exclusively: the kernel refuses
// when anything has it mounted, a last guard against writing the running root.
func openSlot(path string) (*fileSlot, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open slot: %w", err)
	}
	flags := os.O_RDWR
	block := st.Mode()&os.ModeDevice != 0
	if block {
		flags |= unix.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		if errors.Is(err, unix.EBUSY) {
			return nil, fmt.Errorf("open slot %s: in use (mounted?): %w", path, err)
		}
		return nil, fmt.Errorf("open slot: %w", err)
	}
	return &fileSlot{f: f, block: block}, nil
}

func (s *fileSlot) ReadAt(p []byte, off int64) (int, error)  { return s.f.ReadAt(p, off) }
func (s *fileSlot) WriteAt(p []byte, off int64) (int, error) { return s.f.WriteAt(p, off) }
func (s *fileSlot) Close() error                             { return s.f.Close() }

func (s *fileSlot) Sync() error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.f.Name(), err)
	}
	return nil
}

func (s *fileSlot) DropCache() error {
	if s.block {
		if err := unix.IoctlSetInt(int(s.f.Fd()), unix.BLKFLSBUF, 0); err != nil {
			return fmt.Errorf("flush the buffers of %s: %w", s.f.Name(), err)
		}
		return nil
	}
	if err := unix.Fadvise(int(s.f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("drop the cache of %s: %w", s.f.Name(), err)
	}
	return nil
}

// ZeroFrom zeroes the slot from off to its end: what an earlier root left there must not
// complete a root cut short (a squashfs keeps its tables at its end). A block device is
// zeroed by the kernel (BLKZEROOUT: a discard or write-zeroes where the card has one), a file
// gets a hole.
func (s *fileSlot) ZeroFrom(off int64) error {
	size, err := s.f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("size of %s: %w", s.f.Name(), err)
	}
	start := min((off+511)&^511, size)
	if _, err := s.f.WriteAt(make([]byte, start-off), off); err != nil {
		return fmt.Errorf("zero %s: %w", s.f.Name(), err)
	}
	if start == size {
		return nil
	}
	if s.block {
		r := [2]uint64{uint64(start), uint64(size - start)}
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, s.f.Fd(), unix.BLKZEROOUT, uintptr(unsafe.Pointer(&r[0]))); errno != 0 {
			return fmt.Errorf("zero %s from byte %d: %w", s.f.Name(), start, errno)
		}
		return nil
	}
	if err := unix.Fallocate(int(s.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, start, size-start); err != nil {
		return fmt.Errorf("zero %s from byte %d: %w", s.f.Name(), start, err)
	}
	return nil
}
