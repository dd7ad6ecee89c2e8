package image

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExt4E2fsck(t *testing.T) {
	need(t, "e2fsck", "debugfs")
	for _, size := range []int64{64 << 20, 200<<20 + 12345, 1300 << 20} {
		img := filepath.Join(t.TempDir(), "perm.img")
		f, err := os.Create(img)
		if err != nil {
			t.Fatal(err)
		}
		p := ext4Params{label: "perm", time: time.Unix(1e9, 0)}
		p.uuid[0], p.hashSeed[0] = 1, 2
		used, err := writeExt4(f, size, p)
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(used)
		f.Close()
		if b, err := exec.Command("e2fsck", "-fn", img).CombinedOutput(); err != nil {
			t.Errorf("size %d: e2fsck -fn: %v\n%s", size, err, b)
		}
		b, err := exec.Command("debugfs", "-R", "stats", img).CombinedOutput()
		if err != nil || !strings.Contains(string(b), "Filesystem volume name:   perm") {
			t.Errorf("size %d: debugfs stats: %v\n%s", size, err, b)
		}
	}
}
