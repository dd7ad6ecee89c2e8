package boot

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"fs_vfat", "fs_vfat", true},
		{"fs_vfat", "fs_vfa", false},
		{"fs_vfat", "fs_vfatx", false},
		{"", "", true},
		{"*", "", true},
		{"*", "anything/at:all", true},
		{"a*", "a", true},
		{"*c", "abc", true},
		{"*c", "abd", false},
		{"a*b*c", "axxbyybzc", true},
		{"a*b*c", "axxbyybz", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"devname:mapper/*", "devname:mapper/control", true}, // '*' crosses '/', unlike path.Match
		{"pci:v00008086d*sv*sd*bc*sc*i*", "pci:v00008086d00001234sv0000sd0000bc02sc00i00", true},
		{"pci:v00008086d*sv*sd*bc*sc*i*", "pci:v000010ECd00001234sv0000sd0000bc02sc00i00", false},
		{"usb:v13FDp3940d0[0-2]*dc*", "usb:v13FDp3940d0150dcFF", true},
		{"usb:v13FDp3940d0[0-2]*dc*", "usb:v13FDp3940d0350dcFF", false},
		{"x[!0-2]", "x3", true},
		{"x[!0-2]", "x1", false},
		{"x[^a]", "xb", true},
		{"x[]]", "x]", true},
		{"x[a-]", "x-", true},
		{"x[abc", "x[abc", true}, // an unclosed '[' is itself
		{"x[abc", "xa", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{"crypto_ccm(aes)", "crypto_ccm(aes)", true},
		{"crypto_ccm", "crypto_ccm(aes)", false}, // the whole string, not a prefix
	} {
		if got := globMatch(c.pattern, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestNormalizeAlias(t *testing.T) {
	for in, want := range map[string]string{
		"net-pf-16-proto-16-family-nl80211": "net_pf_16_proto_16_family_nl80211",
		"usb:v1645p0007d01[0-2]*dc*":        "usb:v1645p0007d01[0-2]*dc*",
		"a-[x-z]-b":                         "a_[x-z]_b",
		"a[-":                               "a[_",
	} {
		if got := normalizeAlias(in); got != want {
			t.Errorf("normalizeAlias(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeModules writes a module directory: a WiFi driver with a vendor module that depends on
// it, a filesystem reached through its alias, two drivers sharing a device alias, a built-in
// module with a built-in alias.
func fakeModules(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"modules.dep": `kernel/net/wireless/cfg80211.ko.xz:
kernel/drivers/net/wireless/brcmfmac/brcmfmac.ko.xz: kernel/net/wireless/cfg80211.ko.xz
kernel/drivers/net/wireless/brcmfmac/wcc/brcmfmac-wcc.ko.xz: kernel/drivers/net/wireless/brcmfmac/brcmfmac.ko.xz kernel/net/wireless/cfg80211.ko.xz
kernel/drivers/cdrom/cdrom.ko:
kernel/fs/isofs/isofs.ko: kernel/drivers/cdrom/cdrom.ko
kernel/drivers/usb/storage/usb-storage.ko:
kernel/drivers/usb/storage/uas.ko: kernel/drivers/usb/storage/usb-storage.ko
kernel/crypto/ccm.ko:
kernel/fs/broken.ko: kernel/fs/missing.ko
`,
		"modules.alias": `# Aliases extracted from modules themselves.
alias iso9660 isofs
alias fs-iso9660 isofs
alias usb:v13FDp3940d0[0-2]*dc*dsc*dp*ic*isc*ip*in* uas
alias usb:v13FDp3940d0[0-2]*dc*dsc*dp*ic*isc*ip*in* usb_storage
alias net-pf-16-proto-16-family-nl80211 cfg80211
alias crypto-ccm ccm
alias ccm ccm
alias fs-broken broken
`,
		"modules.symbols":         "alias symbol:brcmf_fwvid_register_vendor brcmfmac\n",
		"modules.builtin":         "kernel/fs/ext4/ext4.ko\nkernel/crypto/aes_generic.ko\n",
		"modules.builtin.modinfo": "ext4.alias=fs-ext4\x00ext4.license=GPL\x00aes_generic.alias=crypto-aes\x00aes_generic.alias=aes\x00",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestModprobeResolve(t *testing.T) {
	dir := fakeModules(t)
	for _, c := range []struct {
		name   string
		loaded []string // what insmod gets, in order
		params string   // of the last one
		err    string   // a part of the error, "" for none
	}{
		{name: "brcmfmac-wcc", loaded: []string{"cfg80211", "brcmfmac", "brcmfmac-wcc"}},
		{name: "brcmfmac_wcc", loaded: []string{"cfg80211", "brcmfmac", "brcmfmac-wcc"}},
		{name: "fs-iso9660", loaded: []string{"cdrom", "isofs"}},
		{name: "fs_iso9660", loaded: []string{"cdrom", "isofs"}},
		{name: "net-pf-16-proto-16-family-nl80211", loaded: []string{"cfg80211"}},
		{name: "usb:v13FDp3940d0100dc00dsc00dp00ic08isc06ip50in00", loaded: []string{"usb-storage", "uas"}},
		{name: "symbol:brcmf_fwvid_register_vendor", loaded: []string{"cfg80211", "brcmfmac"}},
		{name: "crypto-ccm", loaded: []string{"ccm"}},
		{name: "ccm", loaded: []string{"ccm"}},
		{name: "isofs  foo=1 bar=2", loaded: []string{"cdrom", "isofs"}, params: "foo=1 bar=2"},
		{name: "ext4"},
		{name: "fs-ext4"},
		{name: "crypto-aes"},
		{name: "crypto-ccm(aes)", err: "no module or alias"},
		{name: "usb:v13FDp3940d0300dc00dsc00dp00ic08isc06ip50in00", err: "no module or alias"},
		{name: "fs-broken", err: "missing"},
		{name: "", err: "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ix, err := readIndex(dir)
			if err != nil {
				t.Fatal(err)
			}
			var loaded []string
			var params string
			ix.insmod = func(path, p string) error {
				if !strings.HasPrefix(path, dir+"/kernel/") {
					t.Errorf("insmod %s: not in the module directory", path)
				}
				loaded = append(loaded, strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".xz"), ".ko"))
				params = p
				return nil
			}
			ix.inKernel = func(string) bool { return false }
			err = ix.modprobe(slog.New(slog.DiscardHandler), c.name)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("modprobe: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("modprobe: error %v, want one with %q", err, c.err)
			case c.err == "" && !slices.Equal(loaded, c.loaded):
				t.Errorf("loaded %q, want %q", loaded, c.loaded)
			case params != c.params:
				t.Errorf("parameters %q, want %q", params, c.params)
			}
		})
	}
}

// A module that is loaded or still loading is not loaded again: brcmfmac asks for
// brcmfmac-wcc from its own probe, and loading brcmfmac again would wait for that.
func TestModprobeSkipsLoaded(t *testing.T) {
	ix, err := readIndex(fakeModules(t))
	if err != nil {
		t.Fatal(err)
	}
	var loaded []string
	ix.insmod = func(path, _ string) error {
		loaded = append(loaded, filepath.Base(path))
		return nil
	}
	ix.inKernel = func(name string) bool { return name == "brcmfmac" || name == "cfg80211" }
	if err := ix.modprobe(slog.New(slog.DiscardHandler), "brcmfmac-wcc"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"brcmfmac-wcc.ko.xz"}; !slices.Equal(loaded, want) {
		t.Errorf("loaded %q, want %q", loaded, want)
	}
}

// Every module an alias matches is tried, and the failures are reported with the name.
func TestModprobeLoadError(t *testing.T) {
	ix, err := readIndex(fakeModules(t))
	if err != nil {
		t.Fatal(err)
	}
	errNoDevice := errors.New("no such device")
	var tried []string
	ix.insmod = func(path, _ string) error {
		tried = append(tried, filepath.Base(path))
		if filepath.Base(path) == "uas.ko" {
			return errNoDevice
		}
		return nil
	}
	ix.inKernel = func(string) bool { return false }
	err = ix.modprobe(slog.New(slog.DiscardHandler), "usb:v13FDp3940d0100dc00dsc00dp00ic08isc06ip50in00")
	if !errors.Is(err, errNoDevice) || !strings.Contains(err.Error(), "modprobe usb:v13FDp3940d0100") {
		t.Errorf("error %v, want one naming the alias and wrapping the loader's", err)
	}
	if want := []string{"usb-storage.ko", "uas.ko"}; !slices.Equal(tried, want) {
		t.Errorf("tried %q, want %q", tried, want)
	}
}

// Paths the kernel cannot run are refused before /proc is touched.
func TestSetModprobeHelperRefuses(t *testing.T) {
	for _, p := range []string{"pigw", "", "/" + strings.Repeat("x", 255)} {
		if err := SetModprobeHelper(p); err == nil {
			t.Errorf("SetModprobeHelper(%.20q…) accepted", p)
		}
	}
}

// Without modules.dep there is nothing to resolve against.
func TestModprobeNoIndex(t *testing.T) {
	if _, err := readIndex(t.TempDir()); err == nil {
		t.Error("readIndex of an empty directory: no error")
	}
}
