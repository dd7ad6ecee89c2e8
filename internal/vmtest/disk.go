package vmtest

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// hostTool finds a host program, also in /usr/sbin and /sbin (not in a normal user's PATH),
// or skips the test (fails it under CI).
func hostTool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	skipOrFatal(t, name+" not found: run `make vm-kernel`, which installs it")
	return ""
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("vmtest: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func makeSparse(t testing.TB, p string, sizeMB int) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(sizeMB) << 20); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// MakeExt4 creates (or overwrites) a raw ext4 image of sizeMB at path, with mkfs.ext4 and
// the host's default features (metadata_csum: the guest needs crc32c).
func MakeExt4(t testing.TB, p string, sizeMB int, label string) {
	t.Helper()
	mkfs := hostTool(t, "mkfs.ext4")
	makeSparse(t, p, sizeMB)
	run(t, mkfs, "-F", "-q", "-L", label, p)
}

// MakeVFAT creates (or overwrites) a raw FAT image of sizeMB at path with mkfs.vfat and
// copies files into it with mtools: "/pigw.yaml" or "/overlays/x.dtbo" -> content.
// Mounting it in the guest needs the vfat, nls_cp437 and nls_ascii modules.
func MakeVFAT(t testing.TB, p string, sizeMB int, label string, files map[string][]byte) {
	t.Helper()
	mkfs := hostTool(t, "mkfs.vfat")
	makeSparse(t, p, sizeMB)
	run(t, mkfs, "-n", label, p)
	if len(files) == 0 {
		return
	}
	mcopy, mmd := hostTool(t, "mcopy"), hostTool(t, "mmd")
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	tmp := t.TempDir()
	made := map[string]bool{"/": true}
	var mkdir func(d string)
	mkdir = func(d string) {
		if made[d] {
			return
		}
		mkdir(path.Dir(d))
		run(t, mmd, "-i", p, "::"+d)
		made[d] = true
	}
	for i, n := range names {
		n = path.Clean("/" + n)
		mkdir(path.Dir(n))
		src := filepath.Join(tmp, strconv.Itoa(i))
		if err := os.WriteFile(src, files[names[i]], 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, mcopy, "-o", "-i", p, src, "::"+n)
	}
}
