package boot

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ext4's soft dependency is an alias, "crypto-crc32c", that two modules offer; the one that
// needs SSE4.2 fails on a CPU without it, the generic one loads, and ext4 loads after them.
// Debian's kernel is built so, and the QEMU guests run on such a CPU.
func TestLoadSoftDependencyAlias(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"modules.dep": `kernel/fs/jbd2/jbd2.ko:
kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko
kernel/arch/x86/crypto/crc32c-intel.ko:
kernel/crypto/crc32c_generic.ko:
kernel/fs/vfat/vfat.ko:
`,
		"modules.softdep": "softdep ext4 pre: crypto-crc32c\nsoftdep jbd2 pre: crypto-crc32c\nsoftdep vfat pre: no-such-alias\n",
		"modules.alias":   "alias crypto-crc32c crc32c_intel\nalias crypto-crc32c crc32c_generic\nalias crc32c crc32c_generic\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := readIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	var loaded []string
	ix.insmod = func(path, _ string) error {
		name := strings.TrimSuffix(filepath.Base(path), ".ko")
		if name == "crc32c-intel" {
			return errors.New("no such device")
		}
		loaded = append(loaded, name)
		return nil
	}
	ix.inKernel = func(string) bool { return false }
	done := map[string]bool{}
	for _, m := range []string{"ext4", "vfat"} {
		if err := ix.load(slog.New(slog.DiscardHandler), m, "", done, 0); err != nil {
			t.Fatalf("load %s: %v", m, err)
		}
	}
	if want := []string{"crc32c_generic", "jbd2", "ext4", "vfat"}; !slices.Equal(loaded, want) {
		t.Errorf("loaded %q, want %q", loaded, want)
	}
}
