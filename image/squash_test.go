package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSquashfsUnsquashfs(t *testing.T) {
	need(t, "unsquashfs")
	tr := newTree()
	big := make([]byte, 3*sqBlockSize+17)
	for i := range big {
		big[i] = byte(i * 7 % 251)
	}
	tr.addData("pigw", 0o755, big)
	tr.addData("etc/pigw.yaml", 0o644, []byte("coap: {}\n"))
	tr.addData("empty", 0o644, nil)
	tr.addSymlink("etc/resolv.conf", "/tmp/resolv.conf")
	tr.mkdirAll("proc")
	for i := 0; i < 300; i++ { // more than one directory header and metadata block
		tr.addData(filepath.Join("many", strings.Repeat("x", i%40)+string(rune('a'+i%26))+strconv.Itoa(i)), 0o644, []byte(strconv.Itoa(i)))
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "root.sqfs")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := writeSquashfs(context.Background(), f, tr, time.Unix(1e9, 0)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if b, err := exec.Command("unsquashfs", "-no-xattrs", "-d", out, img).CombinedOutput(); err != nil {
		t.Fatalf("unsquashfs: %v\n%s", err, b)
	}
	for _, p := range tr.paths() {
		n := tr[p]
		host := filepath.Join(out, p)
		fi, err := os.Lstat(host)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		switch {
		case n.isSymlink():
			if target, _ := os.Readlink(host); target != n.target {
				t.Errorf("%s: link to %q, want %q", p, target, n.target)
			}
		case n.isDir():
			if !fi.IsDir() {
				t.Errorf("%s: not a directory", p)
			}
		default:
			got, _ := os.ReadFile(host)
			if string(got) != string(n.data) || fi.Mode().Perm() != n.mode.Perm() {
				t.Errorf("%s: %d bytes mode %v, want %d bytes mode %v", p, len(got), fi.Mode(), len(n.data), n.mode)
			}
		}
	}
}
