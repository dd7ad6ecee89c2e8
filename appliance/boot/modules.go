package boot

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/pigw/pigw/internal/kmod"
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

// modIndex is the running kernel's module index, with how to load a module.
type modIndex struct {
	*kmod.Index
	insmod   func(path, params string) error // loads one module file: insmod, or a test's fake
	inKernel func(name string) bool          // whether the module is loaded or loading
}

// modName is a module's name from its file or name ('-' written as '_').
func modName(path string) string { return kmod.Name(path) }

func loadIndex() (*modIndex, error) {
	dir, err := moduleDir()
	if err != nil {
		return nil, err
	}
	return readIndex(dir)
}

// readIndex reads the index files of the module directory dir.
func readIndex(dir string) (*modIndex, error) {
	ix, err := kmod.Read(dir)
	if err != nil {
		return nil, err
	}
	return &modIndex{Index: ix, insmod: insmod, inKernel: inKernel}, nil
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
	return loadModules(log, names, false)
}

// loadPresent loads those of names that the running kernel has as modules, as LoadModules
// does; names it builds in or lacks are skipped, and a kernel without modules.dep (one that
// builds everything in, such as gokrazy's) has nothing to load.
func loadPresent(log *slog.Logger, names ...string) error {
	return loadModules(log, names, true)
}

func loadModules(log *slog.Logger, names []string, presentOnly bool) error {
	ix, err := loadIndex()
	if presentOnly && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	done := map[string]bool{}
	var errs []error
	for _, n := range names {
		name, params, _ := strings.Cut(strings.TrimSpace(n), " ")
		if _, ok := ix.Path[modName(name)]; presentOnly && !ok {
			continue
		}
		errs = append(errs, ix.load(log, modName(name), strings.TrimSpace(params), done, 0))
	}
	return errors.Join(errs...)
}

func (ix *modIndex) load(log *slog.Logger, name, params string, done map[string]bool, depth int) error {
	if done[name] || ix.Builtin[name] || ix.inKernel(name) {
		return nil
	}
	done[name] = true
	path, ok := ix.Path[name]
	if !ok {
		return fmt.Errorf("module %s: not in %s/modules.dep", name, ix.Dir)
	}
	if depth > 32 {
		return fmt.Errorf("module %s: dependencies nest too deep", name)
	}
	// Soft pre-dependencies are best effort, and often an alias that several modules offer
	// (ext4's "crypto-crc32c": crc32c_intel, which needs SSE4.2, and crc32c_generic): each
	// is tried, as modprobe does.
	for _, p := range ix.Pre[name] {
		mods, _ := ix.resolve(p)
		for _, m := range mods {
			if err := ix.load(log, m, "", done, depth+1); err != nil {
				log.Debug("soft dependency not loaded", "module", name, "dependency", m, "err", err)
			}
		}
	}
	deps := ix.Deps[name]
	for i := len(deps) - 1; i >= 0; i-- { // modules.dep lists the deepest dependency last
		if err := ix.load(log, modName(deps[i]), "", done, depth+1); err != nil {
			return fmt.Errorf("module %s: %w", name, err)
		}
	}
	if err := ix.insmod(filepath.Join(ix.Dir, path), params); err != nil {
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
