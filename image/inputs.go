package image

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pigw/pigw/appliance/config"
)

// wifiDriver is the Pi's WiFi driver; its chip vendors' parts (brcmfmac-wcc, -cyw, -bca) are
// modules of their own in 6.x kernels, which brcmfmac asks for at probe time.
var wifiModules = []string{"brcmfmac", "brcmfmac_wcc", "brcmfmac_cyw"}

// inputs are the two file trees of the image and what was learnt gathering them.
type inputs struct {
	boot, root  tree
	kver        string
	modules     []string // module files in the root, relative to lib/modules/<kver>
	noFirmware  bool     // --firmware-dir gave no brcm firmware
	noRegdb     bool
	versions    []string // of the pinned Go modules: the fallback timestamp
	bootConfig  []byte
	firmwareDir string
	supplicant  *supplicant // nil: the root has no wpa_supplicant
}

// gather reads everything that goes into the image, checking the user's files first.
func gather(ctx context.Context, o *Options, pigw string) (*inputs, error) {
	in := &inputs{boot: newTree(), root: newTree(), firmwareDir: o.FirmwareDir}
	// The user's pigw.yaml, checked as the appliance will check it.
	in.bootConfig = []byte(starterConfig)
	var userModules []string
	if o.Config != "" {
		data, err := os.ReadFile(o.Config)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		c, err := config.Parse(o.Config, data)
		if err != nil {
			return nil, fmt.Errorf("--config %s does not validate:\n%w", o.Config, err)
		}
		in.bootConfig, userModules = bootConfigFile(data), c.System.Modules
	}
	for _, dir := range o.Overlays {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("--overlay %s: not a directory (an overlay is a directory with boot/ and root/ in it)", dir)
		}
	}
	fw, err := downloadModule(ctx, o.ModuleRoot, firmwareModule)
	if err != nil {
		return nil, err
	}
	kern, err := downloadModule(ctx, o.ModuleRoot, kernelModule)
	if err != nil {
		return nil, err
	}
	in.versions = []string{fw.Version, kern.Version}
	if err := in.bootFiles(fw.Dir, kern.Dir); err != nil {
		return nil, err
	}
	if err := in.rootFiles(kern.Dir, pigw, userModules); err != nil {
		return nil, err
	}
	var frags []fragment
	for _, dir := range o.Overlays {
		if err := in.overlay(dir, &frags); err != nil {
			return nil, fmt.Errorf("--overlay %s: %w", dir, err)
		}
	}
	if in.supplicant, err = in.root.findSupplicant(); err != nil {
		return nil, err
	}
	in.boot.addData("config.txt", 0o644, []byte(configTxt(frags)))
	in.boot.addData("pigw.yaml", 0o644, in.bootConfig)
	in.boot.addData(config.SchemaFile, 0o644, config.Schema())
	return in, nil
}

// bootFiles are the firmware, the kernel, its device trees and overlays.
func (in *inputs) bootFiles(fwDir, kernDir string) error {
	ents, err := os.ReadDir(fwDir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if n == "bootcode.bin" || strings.HasPrefix(n, "LICENCE") || strings.HasPrefix(n, "LICENSE") ||
			(strings.HasPrefix(n, "start") && strings.HasSuffix(n, ".elf")) ||
			(strings.HasPrefix(n, "fixup") && strings.HasSuffix(n, ".dat")) {
			if err := in.boot.addFile(n, 0o644, filepath.Join(fwDir, n)); err != nil {
				return err
			}
		}
	}
	if err := in.boot.addFile("vmlinuz", 0o644, filepath.Join(kernDir, "vmlinuz")); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	dtbs, _ := filepath.Glob(filepath.Join(kernDir, "*.dtb"))
	if len(dtbs) == 0 {
		return fmt.Errorf("kernel: no device trees (*.dtb) in %s", kernDir)
	}
	for _, d := range dtbs {
		if err := in.boot.addFile(filepath.Base(d), 0o644, d); err != nil {
			return err
		}
	}
	return in.boot.addDir("overlays", filepath.Join(kernDir, "overlays"))
}

// rootFiles are pigw, its defaults, the kernel modules and the WiFi firmware.
func (in *inputs) rootFiles(kernDir, pigw string, userModules []string) error {
	if err := in.root.addFile("pigw", 0o755, pigw); err != nil {
		return fmt.Errorf("pigw binary: %w", err)
	}
	for _, d := range []string{"proc", "sys", "dev", "run", "tmp", "perm", "boot"} {
		in.root.mkdirAll(d)
	}
	in.root.addSymlink("etc/resolv.conf", "/tmp/resolv.conf")
	kver, err := kernelVersion(kernDir)
	if err != nil {
		return err
	}
	in.kver = kver
	ix, err := readKmodIndex(filepath.Join(kernDir, "lib", "modules", kver))
	if err != nil {
		return fmt.Errorf("kernel %s: %w", kver, err)
	}
	var wifi []string
	for _, m := range wifiModules {
		if _, ok := ix.Path[m]; ok {
			wifi = append(wifi, m)
		}
	}
	etc := etcConfig(wifi)
	if _, err := config.Parse("/etc/pigw.yaml", []byte(etc)); err != nil {
		return fmt.Errorf("the generated /etc/pigw.yaml: %w", err)
	}
	in.root.addData("etc/pigw.yaml", 0o644, []byte(etc))
	if in.modules, err = ix.addModules(in.root, kver, append(wifi, userModules...)); err != nil {
		return err
	}
	dirs, files := wifiFirmware(in.firmwareDir)
	in.noFirmware, in.noRegdb = dirs["brcm"] == "", files["regulatory.db"] == ""
	for _, sub := range sortedKeys(dirs) {
		if err := in.root.addDir("lib/firmware/"+sub, dirs[sub]); err != nil {
			return fmt.Errorf("--firmware-dir: %w", err)
		}
	}
	for _, f := range sortedKeys(files) {
		if err := in.root.addFile("lib/firmware/"+f, 0o644, files[f]); err != nil {
			return fmt.Errorf("--firmware-dir: %w", err)
		}
	}
	return nil
}

// overlay lays dir/boot over the boot files and dir/root over the root; a boot/config.txt
// is appended to the generated config.txt instead.
func (in *inputs) overlay(dir string, frags *[]fragment) error {
	for _, part := range []struct {
		sub string
		t   tree
	}{{"boot", in.boot}, {"root", in.root}} {
		src := filepath.Join(dir, part.sub)
		if _, err := os.Stat(src); os.IsNotExist(err) {
			continue
		}
		err := walkHost(src, func(rel string, fi fs.FileInfo, host string) error {
			if part.sub == "boot" && rel == "config.txt" {
				text, err := os.ReadFile(host)
				if err != nil {
					return err
				}
				*frags = append(*frags, fragment{name: overlayName(dir), text: string(bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n")))})
				return nil
			}
			if n, ok := part.t[rel]; ok && n.isDir() != fi.IsDir() {
				return fmt.Errorf("%s: replaces a %s with a %s", host, kind(n.isDir()), kind(fi.IsDir()))
			}
			return nil
		})
		if err != nil {
			return err
		}
		sub := part.t
		staged := newTree()
		if err := staged.addDir("", src); err != nil {
			return err
		}
		for p, n := range staged {
			if p == "" || (part.sub == "boot" && p == "config.txt") {
				continue
			}
			if n.isDir() {
				sub.mkdirAll(p)
			} else {
				sub.parent(p)
				sub[p] = n
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func kind(dir bool) string {
	if dir {
		return "directory"
	}
	return "file"
}
