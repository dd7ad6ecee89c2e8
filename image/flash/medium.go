package flash

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Medium is a target opened for writing, as Flash uses it. OpenMedium gives the real one; a
// test can wrap it, for example to corrupt what reads back.
type Medium interface {
	WriteAt(p []byte, off int64) (int, error)
	ReadAt(p []byte, off int64) (int, error)
	// Flush makes everything written durable and drops cached copies of it, so that what
	// ReadAt returns afterwards comes from the medium itself.
	Flush() error
	Close() error
}

// PartitionRereader is a Medium whose kernel view of the partition table can be refreshed
// after a write: a block device.
type PartitionRereader interface {
	RereadPartitions() error
}

// OpenMedium opens t for writing and reading back. A block device is opened exclusively, so
// the kernel refuses if something claimed it since Inspect looked, and with O_DIRECT, so
// writes bypass the page cache: progress then shows what reached the card, not the cache.
func OpenMedium(t *Target) (Medium, error) {
	if !t.Block {
		f, err := os.OpenFile(t.Path, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", t.Path, err)
		}
		return fileMedium{f}, nil
	}
	f, err := os.OpenFile(t.Path, os.O_RDWR|unix.O_EXCL|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EBUSY) {
		return nil, refuse(t.Path, "the kernel reports it busy (mounted, swap, or in use by another device)")
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.Path, err)
	}
	sector, err := unix.IoctlGetInt(int(f.Fd()), unix.BLKSSZGET)
	if err != nil || sector <= 0 {
		sector = 512
	}
	return &blockMedium{f: f, sector: int64(sector), direct: true}, nil
}

// fileMedium is a regular file: written through the page cache, which Flush then drops.
type fileMedium struct{ f *os.File }

func (m fileMedium) WriteAt(p []byte, off int64) (int, error) { return m.f.WriteAt(p, off) }
func (m fileMedium) ReadAt(p []byte, off int64) (int, error)  { return m.f.ReadAt(p, off) }
func (m fileMedium) Close() error                             { return m.f.Close() }

func (m fileMedium) Flush() error {
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", m.f.Name(), err)
	}
	if err := unix.Fadvise(int(m.f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("drop cached pages of %s: %w", m.f.Name(), err)
	}
	return nil
}

// blockMedium is a block device opened with O_DIRECT. Direct I/O needs offsets and lengths in
// whole sectors; an image whose size is not, ends with a partial chunk, for which the file
// falls back to buffered I/O (Flush writes that out and drops it from the cache).
type blockMedium struct {
	f      *os.File
	sector int64
	direct bool
}

func (m *blockMedium) WriteAt(p []byte, off int64) (int, error) {
	if err := m.fit(len(p), off); err != nil {
		return 0, err
	}
	return m.f.WriteAt(p, off)
}

func (m *blockMedium) ReadAt(p []byte, off int64) (int, error) {
	if err := m.fit(len(p), off); err != nil {
		return 0, err
	}
	return m.f.ReadAt(p, off)
}

// fit turns O_DIRECT off for a transfer that is not in whole sectors.
func (m *blockMedium) fit(n int, off int64) error {
	if !m.direct || (int64(n)%m.sector == 0 && off%m.sector == 0) {
		return nil
	}
	fd := int(m.f.Fd())
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_DIRECT)
	}
	if err != nil {
		return fmt.Errorf("%s: leave direct I/O for the last %d bytes: %w", m.f.Name(), n, err)
	}
	m.direct = false
	return nil
}

func (m *blockMedium) Flush() error {
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", m.f.Name(), err)
	}
	err := unix.IoctlSetInt(int(m.f.Fd()), unix.BLKFLSBUF, 0)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		// BLKFLSBUF needs CAP_SYS_ADMIN; a member of group disk can still drop the pages.
		err = unix.Fadvise(int(m.f.Fd()), 0, 0, unix.FADV_DONTNEED)
	}
	if err != nil {
		return fmt.Errorf("flush buffers of %s (BLKFLSBUF): %w", m.f.Name(), err)
	}
	return nil
}

// RereadPartitions asks the kernel to read the new partition table (BLKRRPART), so that the
// card's partitions appear without replugging it.
func (m *blockMedium) RereadPartitions() error {
	if err := unix.IoctlSetInt(int(m.f.Fd()), unix.BLKRRPART, 0); err != nil {
		return fmt.Errorf("re-read partition table of %s (BLKRRPART): %w", m.f.Name(), err)
	}
	return nil
}

func (m *blockMedium) Close() error { return m.f.Close() }
