package update

import (
	"fmt"
	"os"

	"github.com/pigw/pigw/internal/blockdev"
)

// SlotInfo names a root slot.
type SlotInfo struct {
	Name string // "a" (partition 2) or "b" (partition 3)
	Path string // where it is written: /dev/mmcblk0p3
	Size int64  // bytes
}

// Layout says where the root slots are and which one runs.
type Layout interface {
	Running() (SlotInfo, error)
	Other() (SlotInfo, error)
	// Committed is the slot the boot partition's cmdline.txt starts.
	Committed() (string, error)
	// Commit makes slot the one cmdline.txt starts.
	Commit(slot string) error
	// SetTryboot makes slot the one trycmd.txt starts (the firmware's tryboot, Pi 4 and 5).
	SetTryboot(slot string) error
}

// Partitions is the layout of a pigw card: boot FAT on partition 1, roots A and B on 2 and 3.
// The running slot is the partition "/" was mounted from, as the kernel has it, not the root=
// of the command line: during a trial the two differ.
type Partitions struct {
	Finder blockdev.Finder
	Root   string // "/"
}

func slotName(partition int) (string, error) {
	switch partition {
	case 2:
		return "a", nil
	case 3:
		return "b", nil
	}
	return "", fmt.Errorf("partition %d: root slots are partitions 2 (A) and 3 (B)", partition)
}

func (l Partitions) running() (blockdev.Partition, error) {
	p, err := l.Finder.Mounted(l.Root)
	if err != nil {
		return p, fmt.Errorf("the running root: %w", err)
	}
	if _, err := slotName(p.Number); err != nil {
		return p, fmt.Errorf("the running root %s: %w", p.Dev, err)
	}
	return p, nil
}

func info(p blockdev.Partition) SlotInfo {
	name, _ := slotName(p.Number)
	return SlotInfo{Name: name, Path: p.Dev, Size: p.Size * 512}
}

func (l Partitions) Running() (SlotInfo, error) {
	p, err := l.running()
	return info(p), err
}

func (l Partitions) Other() (SlotInfo, error) {
	p, err := l.running()
	if err != nil {
		return SlotInfo{}, err
	}
	o, err := l.Finder.Sibling(p, 5-p.Number)
	if err != nil {
		return SlotInfo{}, fmt.Errorf("the other root slot: %w", err)
	}
	return info(o), nil
}

// FileSlot is the layout of a system that runs from no slot but has a file to write updates
// to: `pigw run --update-slot FILE` on a PC, for tests. It runs and commits slot "a"; the file
// is slot "b".
type FileSlot struct{ Path string }

func (l FileSlot) Running() (SlotInfo, error) { return SlotInfo{Name: "a"}, nil }
func (l FileSlot) Committed() (string, error) { return "a", nil }

func (l FileSlot) Other() (SlotInfo, error) {
	st, err := os.Stat(l.Path)
	if err != nil {
		return SlotInfo{}, fmt.Errorf("update slot: %w", err)
	}
	return SlotInfo{Name: "b", Path: l.Path, Size: st.Size()}, nil
}
