package vmtest

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/image"
)

// These tests take the image as `make image WPA_SUPPLICANT=1` builds it (pigw image build with
// the overlay `make wpa-supplicant` writes: Debian's arm64 wpa_supplicant and its libraries)
// and run its own arm64 programs. Root A's listing is checked from the host with unsquashfs;
// then root A's pigw and wpa_supplicant, with its libraries, boot as PID 1 of an arm64 WiFi
// lab (Debian's arm64 kernel on QEMU's virt machine, mac80211_hwsim, Debian's arm64 hostapd)
// and join a WPA2-PSK and a WPA3-SAE network with the WiFi backend auto.
//
// QEMU's user mode (qemu-aarch64-static) cannot run this wpa_supplicant: it refuses generic
// netlink sockets (socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC) fails with
// EPROTONOSUPPORT), so the nl80211 driver cannot start. A guest of the Pi's architecture can.

// DefaultWPASupplicantDir is where make wpa-supplicant puts its overlay when
// PIGW_WPA_SUPPLICANT_DIR is unset.
const DefaultWPASupplicantDir = "/var/cache/pigw-wpa-supplicant"

var supImage struct {
	once sync.Once
	path string        // the image
	res  *image.Result // what the builder said
	root string        // root A unpacked
	ov   string        // the overlay
	err  error
	skip string
}

// supplicantImage builds the image with the wpa_supplicant overlay once per test binary and
// unpacks its root A. It skips (fails under CI) without the overlay.
func supplicantImage(t *testing.T) (img string, res *image.Result, rootA, overlay string) {
	t.Helper()
	supImage.once.Do(func() {
		ov := os.Getenv("PIGW_WPA_SUPPLICANT_DIR")
		if ov == "" {
			ov = DefaultWPASupplicantDir
		}
		if _, err := os.Stat(filepath.Join(ov, "root", "usr", "sbin", "wpa_supplicant")); err != nil {
			supImage.skip = fmt.Sprintf("no wpa_supplicant overlay in %s (%v): run `make wpa-supplicant`", ov, err)
			return
		}
		if _, err := exec.LookPath("unsquashfs"); err != nil {
			supImage.skip = "unsquashfs (squashfs-tools) not found: make test-deps installs it"
			return
		}
		supImage.ov = ov
		root, err := moduleRoot()
		if err != nil {
			supImage.err = err
			return
		}
		dir, err := os.MkdirTemp("", "pigw-vm-wpa-image")
		if err != nil {
			supImage.err = err
			return
		}
		supImage.path = filepath.Join(dir, "pigw-rpi.img")
		start := time.Now()
		supImage.res, supImage.err = image.Build(context.Background(), image.Options{Out: supImage.path, Size: 1 << 30,
			ModuleRoot: root, Version: "vmtest", Overlays: []string{ov}})
		if supImage.err != nil {
			return
		}
		t.Logf("image with wpa_supplicant built in %v", time.Since(start).Round(100*time.Millisecond))
		supImage.root = filepath.Join(dir, "rootA")
		out, err := exec.Command("unsquashfs", "-no-xattrs", "-q", "-d", supImage.root,
			"-o", strconv.FormatInt(supImage.res.Partitions[1].Start, 10), supImage.path).CombinedOutput()
		if err != nil {
			supImage.err = fmt.Errorf("unsquashfs root A: %v\n%s", err, out)
		}
	})
	if supImage.skip != "" {
		skipOrFatal(t, supImage.skip)
	}
	if supImage.err != nil {
		t.Fatalf("image with wpa_supplicant: %v", supImage.err)
	}
	return supImage.path, supImage.res, supImage.root, supImage.ov
}

// TestImageWPASupplicant: the image's root A holds the overlay as it is (the program
// executable, every library, every soname and loader link with its target), the builder says
// backend auto will run it, and the program's dynamic loader and libraries, followed from its
// ELF headers in the unpacked root, are all there and all arm64.
func TestImageWPASupplicant(t *testing.T) {
	img, res, rootA, ov := supplicantImage(t)
	if res.WPASupplicant != "/usr/sbin/wpa_supplicant" {
		t.Errorf("the builder found wpa_supplicant at %q, want /usr/sbin/wpa_supplicant", res.WPASupplicant)
	}
	out, err := exec.Command("unsquashfs", "-lln", "-o", strconv.FormatInt(res.Partitions[1].Start, 10), img).CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs -lln root A: %v\n%s", err, out)
	}
	listing := map[string]string{} // path -> "mode" or "mode -> target"
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || !strings.HasPrefix(f[5], "squashfs-root/") {
			continue
		}
		entry := f[0]
		if len(f) == 8 && f[6] == "->" {
			entry += " -> " + f[7]
		}
		listing["/"+strings.TrimPrefix(f[5], "squashfs-root/")] = entry
	}
	overlayRoot := filepath.Join(ov, "root")
	n := 0
	err = filepath.WalkDir(overlayRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := "/" + strings.TrimPrefix(p, overlayRoot+"/")
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		want := "-rw-r--r--"
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			want = "lrwxrwxrwx -> " + target
		case fi.Mode()&0o111 != 0:
			want = "-rwxr-xr-x"
		}
		if listing[rel] != want {
			t.Errorf("root A: %s is %q, want %q", rel, listing[rel], want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	libs, err := elfClosure(rootA, "/usr/sbin/wpa_supplicant")
	if err != nil {
		t.Fatalf("in root A: %v", err)
	}
	if len(libs) < 3 || libs[0] != "/lib/ld-linux-aarch64.so.1" {
		t.Errorf("wpa_supplicant's loader and libraries: %v", libs)
	}
	_, plain := builtImage(t)
	with, without := float64(res.Partitions[1].Used)/(1<<20), float64(plain.Partitions[1].Used)/(1<<20)
	t.Logf("root A holds the overlay's %d files and links; wpa_supplicant loads %d objects: %s", n, len(libs), strings.Join(libs, " "))
	t.Logf("root A squashfs %.1f MiB with wpa_supplicant, %.1f MiB without: +%.1f MiB (root B is a copy: twice that on the card)", with, without, with-without)
}

// elfClosure follows an arm64 program's PT_INTERP and DT_NEEDED entries, recursively, in the
// unpacked root dir the way the aarch64 loader searches without ld.so.cache, and returns what
// it loads: the loader's path first, then the libraries by the names they are asked for.
func elfClosure(root, prog string) ([]string, error) {
	dirs := []string{"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib"}
	var loaded []string
	seen := map[string]bool{}
	var walk func(p string) error
	walk = func(p string) error {
		f, err := elf.Open(filepath.Join(root, p))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		defer f.Close()
		if f.Machine != elf.EM_AARCH64 {
			return fmt.Errorf("%s is built for %v, not arm64", p, f.Machine)
		}
		var next []string
		for _, ph := range f.Progs {
			if ph.Type == elf.PT_INTERP {
				b, err := io.ReadAll(ph.Open())
				if err != nil {
					return err
				}
				next = append(next, string(bytes.TrimRight(b, "\x00")))
			}
		}
		needed, err := f.ImportedLibraries()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, lib := range needed {
			found := ""
			for _, d := range dirs {
				if _, err := os.Stat(filepath.Join(root, d, lib)); err == nil {
					found = path.Join(d, lib)
					break
				}
			}
			if found == "" {
				return fmt.Errorf("%s needs %s, which is in none of %v", p, lib, dirs)
			}
			next = append(next, found)
		}
		for _, n := range next {
			if seen[n] {
				continue
			}
			seen[n] = true
			loaded = append(loaded, n)
			if err := walk(n); err != nil {
				return err
			}
		}
		return nil
	}
	return loaded, walk(prog)
}

// bootImageWiFi boots the arm64 WiFi lab with root A's pigw as PID 1 and root A's
// wpa_supplicant with its libraries at their paths, the wifi section on the boot disk.
func bootImageWiFi(t *testing.T, wifiYAML string, lab Lab) *VM {
	t.Helper()
	_, _, rootA, _ := supplicantImage(t)
	files, err := RootFiles(rootA)
	if err != nil {
		t.Fatal(err)
	}
	for p := range files { // the Pi kernel's modules and the image's own config are not for this guest
		if strings.HasPrefix(p, "/lib/modules/") || strings.HasPrefix(p, "/lib/firmware/") || strings.HasPrefix(p, "/etc/") {
			delete(files, p)
		}
	}
	files["/etc/pigw.yaml"] = []byte(etcConfig)
	perm, bootDisk := disks(t, wifiYAML)
	lab.StationIface, lab.Probe = "wlan0", "resource1"
	return Start(t, WiFiLabOptions(t, Options{
		Arch: "arm64", Init: filepath.Join(rootA, "pigw"), Files: files, Modules: pigwModules,
		PermDisk: perm, BootDisk: bootDisk, ForwardUDP: []int{5683, 5684}, Memory: "512M",
	}, lab))
}

// imageJoins checks that backend auto chose the image's wpa_supplicant, that the link is up
// end to end (joined), and the key management /sys/wifi reports.
func imageJoins(t *testing.T, vm *VM, ssid, keyMgmt string) {
	t.Helper()
	waitFor(t, vm, `msg="wifi starting" backend=wpa_supplicant interface=wlan0 networks=1 chosen="auto: /usr/sbin/wpa_supplicant is there"`, 60*time.Second)
	joined(t, vm, "wpa_supplicant", ssid)
	if st := wifiState(t, session(t, vm, false)); st["key_mgmt"] != keyMgmt {
		t.Errorf("/sys/wifi key_mgmt %v, want %s: %v", st["key_mgmt"], keyMgmt, st)
	}
}

// TestPigwWiFiImageWPA2: the image's pigw and wpa_supplicant join a WPA2-PSK network.
func TestPigwWiFiImageWPA2(t *testing.T) {
	start := time.Now()
	vm := bootImageWiFi(t, fmt.Sprintf("wifi:\n  country: DE\n  networks:\n    - {ssid: pigw-lab, psk: %s}\n", labPSK),
		Lab{SSID: "pigw-lab", PSK: labPSK})
	waitFor(t, vm, `apinit: ap ready ssid=pigw-lab security=wpa2-psk`, 60*time.Second)
	imageJoins(t, vm, "pigw-lab", "WPA2-PSK")
	t.Logf("whole test %v", time.Since(start).Round(100*time.Millisecond))
}

// TestPigwWiFiImageWPA3: the image's pigw and wpa_supplicant join a WPA3-Personal network
// (SAE only, management frames protected), which the nl80211 backend cannot.
func TestPigwWiFiImageWPA3(t *testing.T) {
	start := time.Now()
	vm := bootImageWiFi(t, fmt.Sprintf("wifi:\n  country: DE\n  networks:\n    - {ssid: pigw-sae, psk: %s, security: wpa3}\n", labPSK),
		Lab{SSID: "pigw-sae", PSK: labPSK, Security: "wpa3"})
	waitFor(t, vm, `apinit: ap ready ssid=pigw-sae security=wpa3-sae`, 60*time.Second)
	imageJoins(t, vm, "pigw-sae", "SAE")
	t.Logf("whole test %v", time.Since(start).Round(100*time.Millisecond))
}
