package update

import (
	"errors"
	"fmt"
	"os"

	"github.com/pigw/pigw/internal/fat32"
)

// The card's root= lives in files of the boot partition's FAT: cmdline.txt for every boot,
// trycmd.txt for the Pi 4 and 5 firmware's one tryboot. Both are read and rewritten raw,
// through internal/fat32, so that the read-only vfat mount at /boot is not in the way.

// Committed is the slot cmdline.txt starts.
func (l Partitions) Committed() (string, error) {
	f, err := l.bootPartition(os.O_RDONLY)
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, _, n, err := rootIn(readOnly{f}, "cmdline.txt")
	if err != nil {
		return "", err
	}
	return slotName(n)
}

// Commit flips root= in cmdline.txt to slot: the next normal boot starts it.
func (l Partitions) Commit(slot string) error { return l.setRoot("cmdline.txt", slot) }

// SetTryboot points the tryboot command line (trycmd.txt) at slot.
func (l Partitions) SetTryboot(slot string) error { return l.setRoot("trycmd.txt", slot) }

// setRoot points root= of file at slot, in place: one byte of one sector, synced and read back.
func (l Partitions) setRoot(file, slot string) error {
	digit := map[string]byte{"a": '2', "b": '3'}[slot]
	if digit == 0 {
		return fmt.Errorf("slot %q: must be a or b", slot)
	}
	f, err := l.bootPartition(os.O_RDWR)
	if err != nil {
		return err
	}
	defer f.Close()
	ff, off, _, err := rootIn(f, file)
	if err != nil {
		return err
	}
	if err := ff.WriteAt([]byte{digit}, int64(off+1)); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync the boot partition: %w", err)
	}
	_, _, n, err := rootIn(f, file)
	if err != nil {
		return err
	}
	if got, _ := slotName(n); got != slot {
		return fmt.Errorf("%s reads partition %d after it was pointed at slot %s", file, n, slot)
	}
	return nil
}

// bootPartition opens partition 1 of the running root's disk.
func (l Partitions) bootPartition(flag int) (*os.File, error) {
	p, err := l.running()
	if err != nil {
		return nil, err
	}
	boot, err := l.Finder.Sibling(p, 1)
	if err != nil {
		return nil, fmt.Errorf("the boot partition: %w", err)
	}
	f, err := os.OpenFile(boot.Dev, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("the boot partition: %w", err)
	}
	return f, nil
}

// rootIn finds root=PARTUUID=<id>-<nn> in file on the FAT on dev: the file, the offset of <nn>
// in it, and the partition number.
func rootIn(dev fat32.Device, file string) (*fat32.File, int, int, error) {
	fs, err := fat32.Open(dev)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("the boot partition: %w", err)
	}
	f, err := fs.Lookup(file)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("the boot partition: %w", err)
	}
	b, err := f.ReadAll()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", file, err)
	}
	off, n, err := rootPartition(b)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", file, err)
	}
	return f, off, n, nil
}

// readOnly is a file opened for reading as a fat32.Device.
type readOnly struct{ *os.File }

func (readOnly) WriteAt([]byte, int64) (int, error) {
	return 0, errors.New("the boot partition is open read-only")
}

// Commit of a file slot: a PC does not boot from it.
func (l FileSlot) Commit(string) error { return errFileSlot }

// SetTryboot of a file slot: a PC does not boot from it.
func (l FileSlot) SetTryboot(string) error { return errFileSlot }

var errFileSlot = errors.New("a file slot (--update-slot) cannot be booted: nothing starts it")
