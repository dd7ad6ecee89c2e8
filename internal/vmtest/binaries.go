package vmtest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// findHostBinary returns the absolute path of a host program: p itself when it is absolute,
// else the first of PATH, /usr/sbin, /sbin, /usr/bin and /bin that has it.
func findHostBinary(p string) (string, error) {
	if filepath.IsAbs(p) {
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return filepath.Clean(p), nil
	}
	if strings.Contains(p, "/") {
		return "", fmt.Errorf("%q: give an absolute path or a bare program name", p)
	}
	if lp, err := exec.LookPath(p); err == nil {
		if abs, err := filepath.Abs(lp); err == nil {
			return abs, nil
		}
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		c := filepath.Join(d, p)
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s: not found on the host (run `make vm-kernel`, which installs the WiFi lab's tools)", p)
}

// lddPaths returns the shared libraries and the dynamic loader that ldd lists for bin, by
// the paths ldd prints; nothing for a static binary.
func lddPaths(bin string) ([]string, error) {
	cmd := exec.Command("ldd", bin)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	text := string(out) + stderr.String()
	if strings.Contains(text, "not a dynamic executable") || strings.Contains(text, "statically linked") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %v: %s", bin, err, strings.TrimSpace(text))
	}
	var libs []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if i := strings.Index(l, " (0x"); i >= 0 {
			l = l[:i]
		}
		if _, p, ok := strings.Cut(l, "=>"); ok {
			l = strings.TrimSpace(p)
		}
		switch {
		case l == "" || strings.HasPrefix(l, "linux-vdso") || strings.HasPrefix(l, "linux-gate"):
			// The kernel's vDSO: no file.
		case strings.HasPrefix(l, "not found") || !strings.HasPrefix(l, "/"):
			return nil, fmt.Errorf("ldd %s: a library is missing on the host: %s", bin, strings.TrimSpace(string(out)))
		default:
			libs = append(libs, path.Clean(l))
		}
	}
	return libs, nil
}

// binaryFiles returns initramfs files for host programs (absolute paths or bare names found
// like findHostBinary does): each program at the path it has on the host, and every shared
// library and the dynamic loader ldd lists at the paths ldd prints, with their contents
// (symbolic links followed), so the programs run in a guest without /etc/ld.so.cache: the
// loader searches /lib/x86_64-linux-gnu and /usr/lib/x86_64-linux-gnu by itself.
func binaryFiles(bins []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	var errs []error
	for _, b := range bins {
		p, err := findHostBinary(b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		libs, err := lddPaths(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range append([]string{p}, libs...) {
			if _, ok := files[f]; ok {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !bytes.HasPrefix(data, []byte("\x7fELF")) {
				errs = append(errs, fmt.Errorf("%s (for %s) is not an ELF file", f, b))
				continue
			}
			files[f] = data
		}
	}
	return files, errors.Join(errs...)
}

// RootFiles returns the files of dir, a directory laid out as a root filesystem (such as an
// overlay's root/ or an unpacked squashfs), as initramfs files by absolute path: regular files,
// and symbolic links with the content of their target (the initramfs holds no links), which is
// looked up inside dir as the guest would (an absolute target from dir). A link whose target
// dir does not hold, such as the image's /etc/resolv.conf -> /tmp/resolv.conf, made at run
// time, is left out.
func RootFiles(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(p, dir+"/")
		real, ok, err := inRoot(dir, rel)
		if err != nil || !ok {
			return err
		}
		data, err := os.ReadFile(real)
		if err != nil {
			return err
		}
		files["/"+filepath.ToSlash(rel)] = data
		return nil
	})
	return files, err
}

// inRoot follows the symbolic links of rel, a path in the root filesystem dir, inside dir, and
// returns the host path of the file it ends at; false when there is none.
func inRoot(dir, rel string) (string, bool, error) {
	p := path.Clean("/" + rel)
	for range 40 {
		host := filepath.Join(dir, p)
		fi, err := os.Lstat(host)
		if os.IsNotExist(err) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return host, fi.Mode().IsRegular(), nil
		}
		target, err := os.Readlink(host)
		if err != nil {
			return "", false, err
		}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(p), target)
		}
		p = path.Clean("/" + target) // ".." stops at the root, as in the guest
	}
	return "", false, fmt.Errorf("%s in %s: too many levels of symbolic links", rel, dir)
}
