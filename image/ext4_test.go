package image

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testExt4Params are fixed, so that the images of a test are alike from run to run.
func testExt4Params() ext4Params {
	p := ext4Params{label: "perm", time: time.Unix(1e9, 0)}
	p.uuid[0], p.hashSeed[0] = 1, 2
	return p
}

// makeExt4 writes a filesystem of at most size bytes to a new file and returns its path and
// the number of blocks it uses.
func makeExt4(t *testing.T, size int64) (string, int64) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "perm.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fsSize, _, err := writeExt4(f, size, testExt4Params())
	if err != nil {
		t.Fatalf("writeExt4(%d): %v", size, err)
	}
	if err := f.Truncate(fsSize); err != nil {
		t.Fatal(err)
	}
	return img, fsSize / e4Block
}

// hostTool runs a host tool and returns its combined output, failing the test if it fails.
func hostTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	b, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
	return string(b)
}

func TestExt4E2fsck(t *testing.T) {
	need(t, "e2fsck", "debugfs", "dumpe2fs")
	tests := []struct {
		size    int64
		journal int64 // blocks
	}{
		{64 << 20, 1024},
		{200<<20 + 12345, 4096},
		{252 << 20, 4096},
		{1300 << 20, 8192},
		{3 << 30, 16384},
		{20 << 30, 16384}, // mke2fs would take 32768, in two extents
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size>>20, "MiB"), func(t *testing.T) {
			img, blocks := makeExt4(t, tt.size)
			fsck := hostTool(t, "e2fsck", "-fn", img)
			if strings.Contains(strings.ToLower(fsck), "journal") {
				t.Errorf("e2fsck -fn mentions the journal:\n%s", fsck)
			}
			head := hostTool(t, "dumpe2fs", "-h", img)
			for _, want := range []string{
				`Filesystem volume name:\s+perm\n`,
				`Filesystem features:.*\bhas_journal\b`,
				`Filesystem state:\s+clean\n`,
				fmt.Sprintf(`Block count:\s+%d\n`, blocks),
				`Journal inode:\s+8\n`,
				`Journal backup:\s+inode blocks\n`,
				`Journal features:\s+\(none\)\n`,
				fmt.Sprintf(`Total journal blocks:\s+%d\n`, tt.journal),
				`Journal sequence:\s+0x00000001\n`,
				`Journal start:\s+0\n`,
			} {
				if !regexp.MustCompile(want).MatchString(head) {
					t.Errorf("dumpe2fs -h: no match for %q in\n%s", want, head)
				}
			}
			if strings.Contains(head, "needs_recovery") || strings.Contains(head, "Journal UUID") {
				t.Errorf("dumpe2fs -h: needs recovery or an external journal:\n%s", head)
			}
			stat := hostTool(t, "debugfs", "-R", "stat <8>", img)
			for _, want := range []string{
				`Type: regular\s+Mode:\s+0600\s`,
				`Links: 1\s`,
				fmt.Sprintf(`Size: %d\n`, tt.journal*e4Block),
				fmt.Sprintf(`EXTENTS:\n\(0-%d\):\d+-\d+\n`, tt.journal-1), // one extent
			} {
				if !regexp.MustCompile(want).MatchString(stat) {
					t.Errorf("debugfs stat <8>: no match for %q in\n%s", want, stat)
				}
			}
			log := hostTool(t, "debugfs", "-R", "logdump", img)
			if !strings.Contains(log, "Journal starts at block 0, transaction 1\n") || strings.Contains(log, "Found") {
				t.Errorf("debugfs logdump: the journal is not clean and empty:\n%s", log)
			}
		})
	}
}

func TestExt4Reproducible(t *testing.T) {
	a, _ := makeExt4(t, 64<<20)
	b, _ := makeExt4(t, 64<<20)
	ab, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(ab) != string(bb) {
		t.Error("two filesystems from the same parameters differ")
	}
}
