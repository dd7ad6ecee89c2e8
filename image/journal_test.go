package image

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestJournalBlocks(t *testing.T) {
	tests := []struct {
		fsBlocks, want int64 // want 0: an error
	}{
		{2047, 0},
		{2048, 1024},
		{32767, 1024},
		{32768, 4096},
		{256<<10 - 1, 4096},
		{256 << 10, 8192},
		{512<<10 - 1, 8192},
		{512 << 10, 16384},
		{4<<20 - 1, 16384},
		{1 << 32, 16384},
	}
	for _, tt := range tests {
		got, err := journalBlocks(tt.fsBlocks)
		if tt.want == 0 {
			if err == nil {
				t.Errorf("journalBlocks(%d) = %d, want an error", tt.fsBlocks, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("journalBlocks(%d) = %d, %v, want %d", tt.fsBlocks, got, err, tt.want)
		}
	}
}

// journalBlock0 returns the first block of the journal of the filesystem in img.
func journalBlock0(t *testing.T, img string) []byte {
	t.Helper()
	out := strings.Fields(hostTool(t, "debugfs", "-R", "bmap <8> 0", img))
	block, err := strconv.ParseInt(out[len(out)-1], 10, 64)
	if err != nil {
		t.Fatalf("debugfs bmap <8> 0: %v", err)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, e4Block)
	if _, err := f.ReadAt(b, block*e4Block); err != nil {
		t.Fatalf("read journal block %d: %v", block, err)
	}
	return b
}

// TestJournalLikeMke2fs checks the journal's size and superblock against those mke2fs
// makes for a filesystem of the same UUID and block count.
func TestJournalLikeMke2fs(t *testing.T) {
	need(t, "mke2fs", "debugfs", "dumpe2fs")
	for _, size := range []int64{64 << 20, 252 << 20, 1300 << 20} {
		t.Run(fmt.Sprint(size>>20, "MiB"), func(t *testing.T) {
			img, blocks := makeExt4(t, size)
			ref := filepath.Join(t.TempDir(), "ref.img")
			hostTool(t, "mke2fs", "-F", "-q", "-t", "ext4", "-b", "4096", "-O", "^metadata_csum,^64bit",
				"-U", "01000000-0000-0000-0000-000000000000", ref, fmt.Sprint(blocks))
			if got, want := journalBlock0(t, img), journalBlock0(t, ref); !bytes.Equal(got, want) {
				t.Errorf("journal superblock\n%x\nmke2fs's\n%x", got[:0x50], want[:0x50])
			}
		})
	}
}

// TestJournalKernel mounts the filesystem with the kernel, writes a file as the appliance
// does, copies the image as a power cut would leave it, and checks that the kernel replays
// the journal of the copy.
func TestJournalKernel(t *testing.T) {
	need(t, "losetup", "mount", "umount", "e2fsck")
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	fs, _ := os.ReadFile("/proc/filesystems")
	if err := exec.Command("losetup", "-f").Run(); err != nil || !strings.Contains(string(fs), "\text4\n") {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no ext4 in /proc/filesystems or no free loop device (losetup -f: %v)", err)
		}
		t.Skipf("no ext4 in /proc/filesystems or no free loop device (losetup -f: %v)", err)
	}
	img, _ := makeExt4(t, 64<<20)
	crash := filepath.Join(t.TempDir(), "crash.img")
	dir := mountExt4(t, img)
	if err := durableWrite(dir, "state", []byte("acknowledged")); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(img, crash); err != nil {
		t.Fatal(err)
	}
	hostTool(t, "umount", dir)
	hostTool(t, "e2fsck", "-fn", img)
	if head := hostTool(t, "dumpe2fs", "-h", crash); !strings.Contains(head, "needs_recovery") {
		t.Errorf("the copy taken while mounted does not need recovery:\n%s", head)
	}
	dir = mountExt4(t, crash)
	if b, err := os.ReadFile(filepath.Join(dir, "state")); err != nil || string(b) != "acknowledged" {
		t.Errorf("after replay: %q, %v, want the acknowledged write", b, err)
	}
	hostTool(t, "umount", dir)
	hostTool(t, "e2fsck", "-fn", crash)
}

// mountExt4 mounts img on a new directory through a loop device, and unmounts it and
// detaches the device when the test ends.
func mountExt4(t *testing.T, img string) string {
	t.Helper()
	dev := strings.TrimSpace(hostTool(t, "losetup", "-f", "--show", img))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	dir := t.TempDir()
	hostTool(t, "mount", "-t", "ext4", dev, dir)
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// durableWrite writes name in dir the way the appliance keeps its state: a temporary file,
// fsync, rename, fsync of the directory.
func durableWrite(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
