// Package kmod reads the index files that depmod writes next to a kernel's modules
// (/lib/modules/<version>/modules.dep, modules.builtin, modules.softdep). Two parts of pigw
// read them: PID 1 on the device, to load modules with their dependencies, and the image
// builder on the build machine, to copy only the modules the image needs. It is plain Go with
// no system calls, so the builder keeps running on any OS.
package kmod

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Index is a kernel's module index. Module names have '-' written as '_', as the kernel
// itself treats them.
type Index struct {
	Dir     string              // the module directory, such as /lib/modules/6.12.47-v8
	Path    map[string]string   // module name → its file, relative to Dir
	Deps    map[string][]string // module name → the files it needs, as modules.dep lists them (deepest last)
	Pre     map[string][]string // module name → the names of its soft pre-dependencies
	Builtin map[string]bool     // modules the kernel has built in
}

// Name is the module name of a module file or name: "kernel/fs/ext4/ext4.ko.xz" → "ext4",
// "brcmfmac-wcc" → "brcmfmac_wcc".
func Name(file string) string {
	base := path.Base(file)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// Read reads the index of the module directory dir. modules.dep must be there (an error
// wrapping fs.ErrNotExist says it is not); modules.builtin and modules.softdep may be
// missing.
func Read(dir string) (*Index, error) {
	ix := &Index{Dir: dir, Path: map[string]string{}, Deps: map[string][]string{}, Pre: map[string][]string{}, Builtin: map[string]bool{}}
	if err := EachLine(filepath.Join(dir, "modules.dep"), func(line string) {
		mod, deps, ok := strings.Cut(line, ":")
		if !ok {
			return
		}
		ix.Path[Name(mod)] = mod
		ix.Deps[Name(mod)] = strings.Fields(deps)
	}); err != nil {
		return nil, err
	}
	_ = EachLine(filepath.Join(dir, "modules.builtin"), func(line string) { ix.Builtin[Name(line)] = true })
	_ = EachLine(filepath.Join(dir, "modules.softdep"), func(line string) {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "softdep" {
			return
		}
		for i := 2; i < len(f) && f[i] != "post:"; i++ {
			if f[i] != "pre:" {
				ix.Pre[Name(f[1])] = append(ix.Pre[Name(f[1])], Name(f[i]))
			}
		}
	})
	return ix, nil
}

// EachLine calls fn with each line of the file that is not blank or a # comment, trimmed.
func EachLine(file string, fn func(string)) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			fn(l)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	return nil
}
