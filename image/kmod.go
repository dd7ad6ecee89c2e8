package image

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pigw/pigw/internal/kmod"
)

// The root filesystem carries only the kernel modules the configuration loads, with what
// they depend on, and a modules.dep and modules.alias listing just those: pigw's loader
// (appliance/boot) reads them with modules.softdep, modules.builtin and
// modules.builtin.modinfo, which are copied as they are.

// kmodIndex is the index of the kernel the image carries.
type kmodIndex struct{ *kmod.Index }

func readKmodIndex(dir string) (*kmodIndex, error) {
	ix, err := kmod.Read(dir)
	if err != nil {
		return nil, err
	}
	return &kmodIndex{ix}, nil
}

// closure returns the paths of the named modules and their dependencies, sorted. Built-in
// modules need nothing; a name the kernel does not have is an error.
func (ix *kmodIndex) closure(names []string) ([]string, error) {
	set := map[string]bool{}
	for _, n := range names {
		n = kmod.Name(n)
		if ix.Builtin[n] {
			continue
		}
		p, ok := ix.Path[n]
		if !ok {
			return nil, fmt.Errorf("kernel module %s: neither built into the kernel nor in %s/modules.dep", n, ix.Dir)
		}
		set[p] = true
		for _, d := range ix.Deps[n] {
			set[d] = true
		}
	}
	var ps []string
	for p := range set {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps, nil
}

// aliasesOf returns the lines of the kernel's modules.alias that name one of the modules at
// paths: pigw, as the kernel's module helper, resolves the names a driver asks for (such as
// brcmfmac's "brcmfmac-wcc", or "fs-vfat") through them.
func (ix *kmodIndex) aliasesOf(paths []string) string {
	have := map[string]bool{}
	for _, p := range paths {
		have[kmod.Name(p)] = true
	}
	var b strings.Builder
	_ = kmod.EachLine(filepath.Join(ix.Dir, "modules.alias"), func(l string) {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "alias" && have[kmod.Name(f[2])] {
			b.WriteString(l + "\n")
		}
	})
	return b.String()
}

// addModules puts the modules into the root tree under lib/modules/<kver>, with a modules.dep
// and a modules.alias of theirs, and the kernel's modules.builtin(.modinfo) and softdep.
func (ix *kmodIndex) addModules(root tree, kver string, names []string) ([]string, error) {
	paths, err := ix.closure(names)
	if err != nil {
		return nil, err
	}
	base := "lib/modules/" + kver
	var dep strings.Builder
	for _, p := range paths {
		if err := root.addFile(base+"/"+p, 0o644, filepath.Join(ix.Dir, p)); err != nil {
			return nil, err
		}
		fmt.Fprintf(&dep, "%s:", p)
		for _, d := range ix.Deps[kmod.Name(p)] {
			fmt.Fprintf(&dep, " %s", d)
		}
		dep.WriteString("\n")
	}
	root.addData(base+"/modules.dep", 0o644, []byte(dep.String()))
	root.addData(base+"/modules.alias", 0o644, []byte(ix.aliasesOf(paths)))
	for _, f := range []string{"modules.builtin", "modules.builtin.modinfo", "modules.softdep"} {
		if _, err := os.Stat(filepath.Join(ix.Dir, f)); err == nil {
			if err := root.addFile(base+"/"+f, 0o644, filepath.Join(ix.Dir, f)); err != nil {
				return nil, err
			}
		}
	}
	return paths, nil
}
