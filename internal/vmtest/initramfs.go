package vmtest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// buildInitramfs writes the gzipped cpio archive for o to dst.
func buildInitramfs(dst string, k *kernel, o Options) error {
	files := map[string][]byte{}
	for p, b := range o.Files {
		if !path.IsAbs(p) {
			return fmt.Errorf("file %q: path is not absolute", p)
		}
		files[path.Clean(p)] = b
	}
	init, err := os.ReadFile(o.Init)
	if err != nil {
		return err
	}
	files["/init"] = init
	if len(o.Modules) > 0 {
		mods, err := moduleFiles(k, o.Modules)
		if err != nil {
			return err
		}
		for p, b := range mods {
			files[p] = b
		}
	}

	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := writeInitramfs(f, files); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeInitramfs writes files as a gzipped cpio (newc) archive with their parent
// directories, /dev/console, /proc, /sys and /dev. Every timestamp and owner is zero and
// the order is sorted, so the same files give the same bytes.
func writeInitramfs(w io.Writer, files map[string][]byte) error {
	const (
		modeDir  = 0o040000
		modeFile = 0o100000
		modeChar = 0o020000
	)
	type entry struct {
		mode         uint32
		rmaj, rmin   uint32
		data         []byte
		isDir, isDev bool
	}
	entries := map[string]entry{
		"dev":         {mode: modeDir | 0o755, isDir: true},
		"proc":        {mode: modeDir | 0o555, isDir: true},
		"sys":         {mode: modeDir | 0o555, isDir: true},
		"dev/console": {mode: modeChar | 0o600, rmaj: 5, rmin: 1, isDev: true},
	}
	for p, b := range files {
		name := strings.TrimPrefix(p, "/")
		perm := uint32(0o644)
		if bytes.HasPrefix(b, []byte("\x7fELF")) || bytes.HasPrefix(b, []byte("#!")) {
			perm = 0o755
		}
		entries[name] = entry{mode: modeFile | perm, data: b}
		for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = entry{mode: modeDir | 0o755, isDir: true}
			}
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names) // a parent sorts before what it contains

	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(zw, 1<<20)
	var off int64
	write := func(ino uint32, name string, e entry) {
		nlink := uint32(1)
		if e.isDir {
			nlink = 2
		}
		hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.rmaj, e.rmin, len(name)+1, 0)
		n, _ := bw.WriteString(hdr)
		m, _ := bw.WriteString(name + "\x00")
		off += int64(n + m)
		pad(bw, &off)
		d, _ := bw.Write(e.data)
		off += int64(d)
		pad(bw, &off)
	}
	for i, n := range names {
		write(uint32(i+1), n, entries[n])
	}
	write(0, "TRAILER!!!", entry{})
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

func pad(w *bufio.Writer, off *int64) {
	for *off%4 != 0 {
		w.WriteByte(0)
		*off++
	}
}

// modName is the name of a module as the kernel sees it: "kernel/fs/fat/vfat.ko" and
// "crc32c-intel" give "vfat" and "crc32c_intel".
func modName(p string) string {
	b := path.Base(p)
	if i := strings.Index(b, ".ko"); i >= 0 {
		b = b[:i]
	}
	return strings.ReplaceAll(b, "-", "_")
}

// moduleIndex is what modules.dep, modules.builtin, modules.softdep and modules.alias say.
type moduleIndex struct {
	path    map[string]string   // name -> path relative to the module dir
	deps    map[string][]string // path -> dependency paths
	depLine map[string]string   // path -> its modules.dep line
	builtin map[string]bool     // names
	softPre map[string][]string // name -> "pre:" names or aliases
	alias   map[string][]string // exact alias -> names (wildcard aliases are ignored)
	softRaw map[string]string   // name -> its modules.softdep line
	aliases map[string][]string // name -> its modules.alias lines
}

func readModuleIndex(modDir string) (*moduleIndex, error) {
	x := &moduleIndex{
		path: map[string]string{}, deps: map[string][]string{}, depLine: map[string]string{},
		builtin: map[string]bool{}, softPre: map[string][]string{}, alias: map[string][]string{},
		softRaw: map[string]string{}, aliases: map[string][]string{},
	}
	lines := func(name string, required bool, fn func(string)) error {
		b, err := os.ReadFile(filepath.Join(modDir, name))
		if err != nil {
			if !required && os.IsNotExist(err) {
				return nil
			}
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				fn(l)
			}
		}
		return nil
	}
	err := lines("modules.dep", true, func(l string) {
		mod, deps, ok := strings.Cut(l, ":")
		if !ok {
			return
		}
		x.path[modName(mod)] = mod
		x.deps[mod] = strings.Fields(deps)
		x.depLine[mod] = l
	})
	if err != nil {
		return nil, err
	}
	if err := lines("modules.builtin", false, func(l string) { x.builtin[modName(l)] = true }); err != nil {
		return nil, err
	}
	err = lines("modules.softdep", false, func(l string) {
		// softdep MOD pre: A B post: C
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "softdep" {
			return
		}
		name := modName(f[1])
		x.softRaw[name] = l
		pre := false
		for _, w := range f[2:] {
			switch w {
			case "pre:":
				pre = true
			case "post:":
				pre = false
			default:
				if pre {
					x.softPre[name] = append(x.softPre[name], w)
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	err = lines("modules.alias", false, func(l string) {
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "alias" {
			return
		}
		name := modName(f[2])
		x.aliases[name] = append(x.aliases[name], l)
		if !strings.ContainsAny(f[1], "*?[") {
			x.alias[f[1]] = append(x.alias[f[1]], name)
		}
	})
	return x, err
}

// resolve returns the module names a name or an exact alias stands for.
func (x *moduleIndex) resolve(s string) []string {
	if n := modName(s); x.path[n] != "" || x.builtin[n] {
		return []string{n}
	}
	return x.alias[s]
}

// moduleFiles returns the initramfs files for the named modules: the .ko files with their
// dependencies and soft pre-dependencies, and the reduced index files.
func moduleFiles(k *kernel, names []string) (map[string][]byte, error) {
	x, err := readModuleIndex(k.modDir)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{} // paths
	seen := map[string]bool{} // names
	var add func(name string, soft bool) error
	add = func(name string, soft bool) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		if x.builtin[name] {
			return nil
		}
		p := x.path[name]
		if p == "" {
			if soft {
				return nil
			}
			return fmt.Errorf("kernel %s has no module %q", k.version, name)
		}
		want[p] = true
		for _, d := range x.deps[p] {
			if err := add(modName(d), false); err != nil {
				return err
			}
		}
		for _, s := range x.softPre[name] {
			for _, n := range x.resolve(s) {
				if err := add(n, true); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, n := range names {
		rs := x.resolve(n)
		if len(rs) == 0 {
			return nil, fmt.Errorf("kernel %s has no module %q", k.version, n)
		}
		for _, r := range rs {
			if err := add(r, false); err != nil {
				return nil, err
			}
		}
	}

	base := "/lib/modules/" + k.version + "/"
	out := map[string][]byte{}
	paths := make([]string, 0, len(want))
	for p := range want {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var dep, soft, alias strings.Builder
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(k.modDir, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		out[base+p] = b
		dep.WriteString(x.depLine[p] + "\n")
		n := modName(p)
		if l := x.softRaw[n]; l != "" {
			soft.WriteString(l + "\n")
		}
		for _, l := range x.aliases[n] {
			alias.WriteString(l + "\n")
		}
	}
	out[base+"modules.dep"] = []byte(dep.String())
	out[base+"modules.softdep"] = []byte(soft.String())
	out[base+"modules.alias"] = []byte(alias.String())
	if b, err := os.ReadFile(filepath.Join(k.modDir, "modules.builtin")); err == nil {
		out[base+"modules.builtin"] = b
	}
	return out, nil
}
