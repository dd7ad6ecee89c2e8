package kmod

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/fs/ext4/ext4.ko":              "ext4",
		"kernel/a/brcmfmac-wcc.ko.xz":         "brcmfmac_wcc",
		"i2c-dev":                             "i2c_dev",
		"nls_cp437.ko.zst":                    "nls_cp437",
		"kernel/drivers/net/virtio_net.ko.xz": "virtio_net",
		"kernel/crypto/crc32c-generic.ko.zst": "crc32c_generic",
		"brcmfmac":                            "brcmfmac",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"modules.dep":     "kernel/b/brcmfmac.ko: kernel/b/brcmutil.ko\nkernel/b/brcmutil.ko:\n# comment\n\nbad line\n",
		"modules.builtin": "kernel/fs/ext4/ext4.ko\n",
		"modules.softdep": "# Soft dependencies\nsoftdep brcmfmac pre: cfg80211 rfkill post: x\nsoftdep short\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &Index{Dir: dir,
		Path:    map[string]string{"brcmfmac": "kernel/b/brcmfmac.ko", "brcmutil": "kernel/b/brcmutil.ko"},
		Deps:    map[string][]string{"brcmfmac": {"kernel/b/brcmutil.ko"}, "brcmutil": {}},
		Pre:     map[string][]string{"brcmfmac": {"cfg80211", "rfkill"}},
		Builtin: map[string]bool{"ext4": true}}
	if !reflect.DeepEqual(ix, want) {
		t.Errorf("Read = %+v, want %+v", ix, want)
	}
	if _, err := Read(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read without modules.dep: %v, want fs.ErrNotExist", err)
	}
}
