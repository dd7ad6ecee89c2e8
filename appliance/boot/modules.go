package boot

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// storageModules are what mounting /perm and the boot partition needs on a kernel that builds
// them as modules (Debian's does; the Pi kernel builds most in). Missing ones are skipped
// (see loadPresent).
var storageModules = []string{"virtio_pci", "virtio_blk", "crc32c_generic", "ext4", "vfat", "nls_cp437", "nls_ascii"}

// moduleDir is /lib/modules/<running kernel>.
func moduleDir() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	return filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:])), nil
}

// modIndex is modules.dep, modules.softdep and modules.builtin of the running kernel.
type modIndex struct {
	dir     string
	path    map[string]string   // module name → path relative to dir
	deps    map[string][]string // module name → paths it needs, as modules.dep lists them
	pre     map[string][]string // module name → soft pre-dependencies (names)
	builtin map[string]bool

	insmod   func(path, params string) error // loads one module file: insmod, or a test's fake
	inKernel func(name string) bool          // whether the module is loaded or loading
}

func modName(path string) string {
	base := filepath.Base(path)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

func loadIndex() (*modIndex, error) {
	dir, err := moduleDir()
	if err != nil {
		return nil, err
	}
	return readIndex(dir)
}

// readIndex reads the index files of the module directory dir.
func readIndex(dir string) (*modIndex, error) {
	ix := &modIndex{dir: dir, path: map[string]string{}, deps: map[string][]string{}, pre: map[string][]string{}, builtin: map[string]bool{},
		insmod: insmod, inKernel: inKernel}
	if err := eachLine(filepath.Join(dir, "modules.dep"), func(line string) {
		mod, deps, ok := strings.Cut(line, ":")
		if !ok {
			return
		}
		ix.path[modName(mod)] = mod
		ix.deps[modName(mod)] = strings.Fields(deps)
	}); err != nil {
		return nil, err
	}
	_ = eachLine(filepath.Join(dir, "modules.builtin"), func(line string) { ix.builtin[modName(line)] = true })
	_ = eachLine(filepath.Join(dir, "modules.softdep"), func(line string) {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "softdep" {
			return
		}
		for i := 2; i < len(f) && f[i] != "post:"; i++ {
			if f[i] != "pre:" {
				ix.pre[modName(f[1])] = append(ix.pre[modName(f[1])], modName(f[i]))
			}
		}
	})
	return ix, nil
}

func eachLine(path string, fn func(string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			fn(l)
		}
	}
	return sc.Err()
}

// LoadModules loads the named modules and what they depend on (modules.dep, and the soft
// pre-dependencies of modules.softdep), dependencies first. Built-in and already loaded
// modules are fine; a name the kernel does not have is an error naming it. A name may be
// followed by the module's parameters, as modprobe takes them ("i2c-stub chip_addr=0x76");
// they go to that module only, not to its dependencies.
func LoadModules(log *slog.Logger, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	ix, err := loadIndex()
	if err != nil {
		return err
	}
	done := map[string]bool{}
	var errs []error
	for _, n := range names {
		name, params, _ := strings.Cut(strings.TrimSpace(n), " ")
		if err := ix.load(log, modName(name), strings.TrimSpace(params), done, 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// loadPresent loads those of names that the running kernel has as modules, as LoadModules
// does; names it builds in or lacks are skipped, and a kernel without modules.dep (one that
// builds everything in, such as gokrazy's) has nothing to load.
func loadPresent(log *slog.Logger, names ...string) error {
	ix, err := loadIndex()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	done := map[string]bool{}
	var errs []error
	for _, n := range names {
		if _, ok := ix.path[modName(n)]; ok {
			errs = append(errs, ix.load(log, modName(n), "", done, 0))
		}
	}
	return errors.Join(errs...)
}

func (ix *modIndex) load(log *slog.Logger, name, params string, done map[string]bool, depth int) error {
	if done[name] || ix.builtin[name] || ix.inKernel(name) {
		return nil
	}
	done[name] = true
	path, ok := ix.path[name]
	if !ok {
		return fmt.Errorf("module %s: not in %s/modules.dep", name, ix.dir)
	}
	if depth > 32 {
		return fmt.Errorf("module %s: dependencies nest too deep", name)
	}
	for _, p := range ix.pre[name] {
		_ = ix.load(log, p, "", done, depth+1) // soft: best effort
	}
	deps := ix.deps[name]
	for i := len(deps) - 1; i >= 0; i-- { // modules.dep lists the deepest dependency last
		if err := ix.load(log, modName(deps[i]), "", done, depth+1); err != nil {
			return fmt.Errorf("module %s: %w", name, err)
		}
	}
	if err := ix.insmod(filepath.Join(ix.dir, path), params); err != nil {
		return fmt.Errorf("module %s: %w", name, err)
	}
	log.Debug("loaded module", "module", name, "params", params)
	return nil
}

// insmod loads one module file with its parameters; compressed ones are decompressed by the
// kernel.
func insmod(path, params string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	flags := 0
	if !strings.HasSuffix(path, ".ko") {
		flags = unix.MODULE_INIT_COMPRESSED_FILE
	}
	if err := unix.FinitModule(int(f.Fd()), params, flags); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("load %s: %w", path, err)
	}
	return nil
}
