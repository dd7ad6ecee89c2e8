package update

import (
	"errors"
	"fmt"
	"io"
	"os"

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
