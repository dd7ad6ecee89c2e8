package boot

// The kernel loads some modules itself, at the moment a driver or a subsystem finds it needs
// one: it runs the usermode helper named in /proc/sys/kernel/modprobe as
// "<helper> -q -- <name>" and waits for it to exit. The name is a module's, or an alias that
// some module declares: "fs-vfat" for a mount, "crypto-ccm" for a cipher, "net-pf-16-…" for a
// socket family, and, on the Pi, "brcmfmac-wcc" for the WiFi chip's vendor code, which
// brcmfmac asks for while it probes the chip. The image has no /sbin/modprobe, so pigw is the
// helper: SetModprobeHelper points the kernel at the pigw binary, and Modprobe is what that
// binary does when the kernel runs it.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/pigw/pigw/internal/kmod"
)

// modprobeFile is where the kernel reads the path of its module helper.
const modprobeFile = "/proc/sys/kernel/modprobe"

// SetModprobeHelper makes path, an absolute path to the pigw binary (os.Executable's result),
// the kernel's module helper. A kernel without module support has no helper to set: that is
// no error.
func SetModprobeHelper(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("modprobe helper %q: not an absolute path", path)
	}
	if len(path) >= 256 { // KMOD_PATH_LEN: the kernel would cut it short
		return fmt.Errorf("modprobe helper %q: path longer than the kernel takes", path)
	}
	err := os.WriteFile(modprobeFile, []byte(path+"\n"), 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("modprobe helper: %w", err)
	}
	return nil
}

// Modprobe loads what name stands for in the running kernel's module directory, as modprobe
// does for the kernel: a module name ('-' and '_' are the same), else every module whose
// modules.alias pattern (a shell glob) matches name. Dependencies load first, modules already
// loaded or loading are left alone, and built-in ones (by name or by alias) need nothing. name
// may be followed by parameters for the module ("i2c-stub chip_addr=0x76"), as in
// LoadModules.
func Modprobe(log *slog.Logger, name string) error {
	dir, err := moduleDir()
	if err != nil {
		return fmt.Errorf("modprobe %s: %w", name, err)
	}
	ix, err := readIndex(dir)
	if err != nil {
		return fmt.Errorf("modprobe %s: %w", name, err)
	}
	return ix.modprobe(log, name)
}

func (ix *modIndex) modprobe(log *slog.Logger, spec string) error {
	name, params, _ := strings.Cut(strings.TrimSpace(spec), " ")
	mods, err := ix.resolve(name)
	if err != nil {
		return fmt.Errorf("modprobe %s: %w", name, err)
	}
	done := map[string]bool{}
	var errs []error
	for _, m := range mods {
		if err := ix.load(log, m, strings.TrimSpace(params), done, 0); err != nil {
			errs = append(errs, fmt.Errorf("modprobe %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// resolve returns the modules to load for name: none when the kernel builds it in.
func (ix *modIndex) resolve(name string) ([]string, error) {
	if name == "" {
		return nil, errors.New("empty module name")
	}
	if m := strings.ReplaceAll(name, "-", "_"); ix.Path[m] != "" {
		return []string{m}, nil
	} else if ix.Builtin[m] {
		return nil, nil
	}
	key := normalizeAlias(name)
	var mods []string
	seen := map[string]bool{}
	match := func(pattern, mod string) {
		if m := modName(mod); !seen[m] && globMatch(normalizeAlias(pattern), key) {
			seen[m] = true
			mods = append(mods, m)
		}
	}
	files := []string{"modules.alias"}
	if strings.HasPrefix(name, "symbol:") { // symbol_request(): the module exporting a symbol
		files = append(files, "modules.symbols")
	}
	for _, f := range files {
		err := kmod.EachLine(filepath.Join(ix.Dir, f), func(line string) {
			if w := strings.Fields(line); len(w) == 3 && w[0] == "alias" {
				match(w[1], w[2])
			}
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if len(mods) > 0 {
		return mods, nil
	}
	if ix.builtinAlias(key) {
		return nil, nil
	}
	return nil, fmt.Errorf("no module or alias of that name in %s", ix.Dir)
}

// builtinAlias reports whether a built-in module has an alias matching key (normalized), as
// modules.builtin.modinfo lists them: NUL-terminated "module.alias=pattern" entries.
func (ix *modIndex) builtinAlias(key string) bool {
	b, err := os.ReadFile(filepath.Join(ix.Dir, "modules.builtin.modinfo"))
	if err != nil {
		return false
	}
	for e := range bytes.SplitSeq(b, []byte{0}) {
		_, pattern, ok := strings.Cut(string(e), ".alias=")
		if ok && globMatch(normalizeAlias(pattern), key) {
			return true
		}
	}
	return false
}

// inKernel reports whether the module is loaded, being loaded, or built in with parameters.
// A module that is being loaded counts: when its init asks for another module that depends
// on it (brcmfmac for brcmfmac-wcc), loading it again would wait for that init, which waits
// for the helper.
func inKernel(name string) bool {
	b, err := os.ReadFile(filepath.Join("/sys/module", name, "initstate"))
	if err == nil {
		s := strings.TrimSpace(string(b))
		return s == "live" || s == "coming"
	}
	_, err = os.Stat(filepath.Join("/sys/module", name))
	return err == nil
}

// normalizeAlias makes '-' and '_' the same outside bracket expressions, as depmod and
// modprobe treat them, for names and patterns alike.
func normalizeAlias(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '-':
			b[i] = '_'
		case '[':
			if j := bytes.IndexByte(b[i+1:], ']'); j >= 0 {
				i += j + 1
			}
		}
	}
	return string(b)
}

// globMatch reports whether the shell pattern matches all of s. '*' matches any run of bytes,
// '/' included (modaliases have slashes, so path.Match will not do), '?' one byte, "[a-z]" a
// class ("[!…]" or "[^…]" its complement), and '\' quotes the next byte. A '[' without its ']'
// is an ordinary byte.
func globMatch(pattern, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0 // where the last '*' was, and what it has swallowed up to
	for sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				px, sx = px+1, sx+1
				continue
			case '[':
				if ok, n, valid := matchClass(pattern[px:], s[sx]); valid {
					if ok {
						px, sx = px+n, sx+1
						continue
					}
					break
				}
				if s[sx] == '[' {
					px, sx = px+1, sx+1
					continue
				}
			case '\\':
				if px+1 < len(pattern) && pattern[px+1] == s[sx] {
					px, sx = px+2, sx+1
					continue
				}
			default:
				if c == s[sx] {
					px, sx = px+1, sx+1
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++ // let the last '*' swallow one more byte, and try again after it
		px, sx = starP+1, starS
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// matchClass matches c against the bracket expression that pattern starts with. It returns
// whether c is in the class, the expression's length, and whether it is one at all (closed
// by a ']').
func matchClass(pattern string, c byte) (match bool, n int, valid bool) {
	i := 1
	negate := i < len(pattern) && (pattern[i] == '!' || pattern[i] == '^')
	if negate {
		i++
	}
	for first := true; i < len(pattern); first = false {
		if pattern[i] == ']' && !first {
			return match != negate, i + 1, true
		}
		lo := pattern[i]
		if lo == '\\' && i+1 < len(pattern) {
			i++
			lo = pattern[i]
		}
		hi := lo
		if i+2 < len(pattern) && pattern[i+1] == '-' && pattern[i+2] != ']' {
			hi = pattern[i+2]
			if hi == '\\' && i+3 < len(pattern) {
				i++
				hi = pattern[i+2]
			}
			i += 2
		}
		if lo <= c && c <= hi {
			match = true
		}
		i++
	}
	return false, 0, false
}
