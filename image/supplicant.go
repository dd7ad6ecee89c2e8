package image

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/pigw/pigw/appliance/boot"
)

// The root may carry wpa_supplicant (an overlay such as the one make wpa-supplicant writes).
// pigw's WiFi backend "auto" runs the first wpa_supplicant PID 1's PATH finds, so one that
// cannot start on the Pi would leave the Pi without WiFi: the builder checks that it is an
// arm64 program whose dynamic loader and libraries, recursively, are all in the root, and
// says which backend auto will use.

// libDirs are where the aarch64 glibc loader looks for libraries without ld.so.cache (the
// image has none) after an object's own DT_RPATH or DT_RUNPATH.
var libDirs = []string{"lib/aarch64-linux-gnu", "usr/lib/aarch64-linux-gnu", "lib", "usr/lib"}

// supplicant is what the root holds of wpa_supplicant.
type supplicant struct {
	path  string   // absolute, as PATH finds it
	libs  []string // the loader and every library, absolute paths in the root, sorted
	bytes int64    // of the program and libs
}

// findSupplicant returns the root's wpa_supplicant as PID 1's PATH finds it, checked, or nil
// when there is none.
func (t tree) findSupplicant() (*supplicant, error) {
	for _, dir := range strings.Split(boot.Path, ":") {
		p, n, err := t.resolve(strings.TrimPrefix(dir, "/") + "/wpa_supplicant")
		if err != nil || n == nil || n.isDir() || n.mode&0o111 == 0 {
			continue
		}
		s := &supplicant{path: dir + "/wpa_supplicant"}
		if err := t.checkELF(s, p, n); err != nil {
			return nil, fmt.Errorf("root %s: %w: the WiFi backend auto would run it and fail (lay an arm64 wpa_supplicant with its libraries over the image: make image WPA_SUPPLICANT=1)", s.path, err)
		}
		return s, nil
	}
	return nil, nil
}

// checkELF checks the program p and, recursively, its loader and libraries.
func (t tree) checkELF(s *supplicant, prog string, n *node) error {
	seen := map[string]bool{prog: true}
	var walk func(p string, n *node, needer string) error
	walk = func(p string, n *node, needer string) error {
		f, err := readELF(n)
		if err != nil {
			return fmt.Errorf("/%s%s: not an ELF file: %w", p, needer, err)
		}
		if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_AARCH64 {
			return fmt.Errorf("/%s%s is built for %v (%v); the Pi needs arm64 (EM_AARCH64, ELFCLASS64)", p, needer, f.Machine, f.Class)
		}
		s.bytes += n.size
		if p != prog {
			s.libs = append(s.libs, "/"+p)
		}
		var deps []string
		if interp := interpreter(f); interp != "" {
			deps = append(deps, interp)
		}
		needed, err := f.ImportedLibraries()
		if err != nil {
			return fmt.Errorf("/%s: reading its libraries: %w", p, err)
		}
		search := append(runPaths(f, path.Dir(p)), libDirs...)
		for _, lib := range append(deps, needed...) {
			lp, ln := t.findLib(lib, search)
			if ln == nil {
				where := "in the root"
				if !strings.HasPrefix(lib, "/") {
					where = "in any of /" + strings.Join(search, ", /")
				}
				return fmt.Errorf("/%s needs %s, which is not %s", p, lib, where)
			}
			if !seen[lp] {
				seen[lp] = true
				if err := walk(lp, ln, " (needed by /"+p+")"); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(prog, n, ""); err != nil {
		return err
	}
	sort.Strings(s.libs)
	return nil
}

// findLib finds a library by absolute path (the loader) or by name in the search dirs, and
// returns its resolved path.
func (t tree) findLib(lib string, search []string) (string, *node) {
	if strings.HasPrefix(lib, "/") {
		search = []string{""}
	}
	for _, d := range search {
		p, n, err := t.resolve(path.Join(d, lib))
		if err == nil && n != nil && !n.isDir() {
			return p, n
		}
	}
	return "", nil
}

// resolve follows symlinks in every component of p (relative to the root) and returns the
// path it ends at and its node; a nil node when nothing is there.
func (t tree) resolve(p string) (string, *node, error) {
	p = strings.Trim(path.Clean("/"+p), "/")
	for hops := 0; hops < 40; hops++ {
		parts := strings.Split(p, "/")
		cur, redirected := "", false
		for i, c := range parts {
			if c == "" {
				continue
			}
			next := join(cur, c)
			n := t[next]
			if n == nil {
				return next, nil, nil
			}
			if n.isSymlink() {
				target := n.target
				if !strings.HasPrefix(target, "/") {
					target = path.Join("/"+cur, target)
				}
				p = strings.Trim(path.Clean(target+"/"+strings.Join(parts[i+1:], "/")), "/")
				redirected = true
				break
			}
			cur = next
		}
		if !redirected {
			return cur, t[cur], nil
		}
	}
	return "", nil, fmt.Errorf("/%s: too many levels of symbolic links", p)
}

func readELF(n *node) (*elf.File, error) {
	r, err := n.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return elf.NewFile(bytes.NewReader(b))
}

// interpreter is the dynamic loader the program asks for (PT_INTERP), or "".
func interpreter(f *elf.File) string {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return ""
			}
			return string(bytes.TrimRight(b, "\x00"))
		}
	}
	return ""
}

// runPaths are an object's DT_RPATH and DT_RUNPATH directories, relative to the root, with
// $ORIGIN (the object's directory) put in.
func runPaths(f *elf.File, origin string) []string {
	var dirs []string
	for _, tag := range []elf.DynTag{elf.DT_RPATH, elf.DT_RUNPATH} {
		vals, _ := f.DynString(tag)
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", "/"+origin), "$ORIGIN", "/"+origin)
				if strings.HasPrefix(d, "/") {
					dirs = append(dirs, strings.Trim(path.Clean(d), "/"))
				}
			}
		}
	}
	return dirs
}
