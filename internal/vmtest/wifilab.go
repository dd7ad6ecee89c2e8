package vmtest

// The WiFi lab: a guest whose kernel has two mac80211_hwsim radios, one of them an access
// point (hostapd and a DHCP server in the network namespace "ap"), the other left to the
// program under test as its WiFi interface.
//
// WiFiLabOptions turns a test's Options into the lab's: testdata/apinit becomes /init and
// runs first as PID 1; it loads the WiFi modules, moves wlan0's phy into the namespace "ap"
// (wlan0 keeps its name there and gets 192.168.77.1/24), starts hostapd on it (channel 6,
// 802.11g, WPA2-PSK/CCMP or open) and dnsmasq (or busybox udhcpd) handing out
// 192.168.77.50-99, prints "apinit: ap ready ..." once hostapd says AP-ENABLED, and execs
// the test's Init, packed as /pigw, which stays PID 1 and finds the other radio as wlan1
// (WiFiLabStation) in the root namespace. The AP's programs log to the console prefixed
// "ap: hostapd: ", "ap: dnsmasq: " or "ap: udhcpd: "; the supervisor that runs them (a child
// of PID 1 after the exec) says "ap: ..." and carries out Lab's stop and restart schedule.
//
// The guest gets the host's hostapd, dnsmasq, wpa_supplicant, iw, ip and busybox, with
// their libraries (Options.Binaries), at the paths they have on the host (/usr/sbin/...,
// busybox in /usr/bin): the program under test may run wpa_supplicant itself.
// fetch-wifi-tools.sh (run by fetch-kernel.sh, so by `make vm-kernel`) installs them.
//
// With Options.Arch "arm64" the lab is an arm64 guest: apinit is built for arm64, and the
// programs are Debian's arm64 builds from $PIGW_VM_ARM64_DIR/tools/root (fetch-kernel.sh
// fetches them), without wpa_supplicant: the test brings the one it runs, such as the
// image's.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// What the program under test sees of the lab.
const (
	// WiFiLabAPAddr is the access point's address, also its DHCP server and router.
	WiFiLabAPAddr = "192.168.77.1"
	// WiFiLabSubnet is the lab's WiFi network; DHCP leases come from .50 to .99.
	WiFiLabSubnet = "192.168.77.0/24"
	// WiFiLabStation is the station's interface in the root namespace, where /pigw runs,
	// unless Lab.StationIface renames it.
	WiFiLabStation = "wlan1"
	// WiFiLabAPIface and WiFiLabNetns are the AP's interface and namespace: not visible to
	// the program under test.
	WiFiLabAPIface = "wlan0"
	WiFiLabNetns   = "ap"
	// WiFiLabDefaultSSID is the SSID when Lab.SSID is "".
	WiFiLabDefaultSSID = "pigw-lab"
	// WiFiLabChannel is the AP's channel (2437 MHz).
	WiFiLabChannel = 6
)

// WiFiLabReady matches apinit's line once the AP is up, just before /pigw starts.
var WiFiLabReady = regexp.MustCompile(`apinit: ap ready [^\n]*`)

// WiFiLabModules are the kernel modules the lab loads, in this order (mac80211_hwsim with
// radios=2). They are added to Options.Modules.
var WiFiLabModules = []string{"ctr", "ccm", "gf128mul", "ghash-generic", "gcm", "cmac", "rfkill", "libarc4",
	"cfg80211", "mac80211", "virtio_ring", "virtio", "mac80211_hwsim"}

// WiFiLabBinaries are the host programs the lab packs into an amd64 guest (Options.Binaries).
var WiFiLabBinaries = []string{"hostapd", "dnsmasq", "wpa_supplicant", "iw", "ip", "busybox"}

// wifiLabARM64Programs are the programs an arm64 lab needs from $PIGW_VM_ARM64_DIR/tools/root.
var wifiLabARM64Programs = []string{"/usr/sbin/hostapd", "/usr/sbin/dnsmasq", "/usr/sbin/iw", "/usr/bin/ip", "/usr/bin/busybox", "/usr/bin/coap-client-notls"}

// Lab describes the access point. The zero Lab is an open network "pigw-lab" with 2-minute
// leases from dnsmasq that never goes away. Every duration is whole seconds or more.
type Lab struct {
	// SSID is the network's name (no spaces: it travels on the kernel command line);
	// default WiFiLabDefaultSSID.
	SSID string
	// PSK is the WPA2-PSK (CCMP) passphrase, 8 to 63 characters without spaces; "" makes
	// an open network.
	PSK string
	// Security is "wpa2" (the default with a PSK: WPA2-PSK) or "wpa3" (WPA3-Personal only:
	// SAE with the PSK as its password, management frame protection required).
	Security string
	// Lease is the DHCP lease time; default 2m. dnsmasq gives no lease shorter than two
	// minutes, so a shorter one makes the lab use busybox udhcpd.
	Lease time.Duration
	// DHCPServer is "dnsmasq" or "udhcpd"; default by Lease as above.
	DHCPServer string
	// APStop stops hostapd (SIGTERM: it deauthenticates its stations) that long after a
	// station first connected, so a test can take the AP away from a joined station however
	// long the station took to join; APRestart starts it again that long after it stopped.
	APStop, APRestart time.Duration
	// DHCPStop stops the DHCP server (its leases are forgotten) that long after it first
	// acknowledged a lease, so a test can stop it between the station's lease and its
	// renewal however long the station took to get there; DHCPRestart starts it again that
	// long after it stopped.
	DHCPStop, DHCPRestart time.Duration
	// StationIface renames the station's interface (wlan1) before /pigw starts, e.g. to
	// "wlan0" as on a Pi; default WiFiLabStation.
	StationIface string
	// Probe, when set, is a CoAP path the lab GETs every 2 s from the AP namespace on the
	// station's fixed DHCP address (WiFiLabStationAddr); each outcome is a console line
	// "ap: probe 2.05 <payload>" or "ap: probe no answer".
	Probe string
}

// WiFiLabStationAddr is the address the lab's DHCP server always gives the station.
const WiFiLabStationAddr = "192.168.77.60"

// WiFiLabAPBSSID is the access point's BSSID: the address of mac80211_hwsim's first radio.
const WiFiLabAPBSSID = "02:00:00:00:00:00"

// Cmdline returns the kernel command line words apinit reads for the lab.
func (l Lab) Cmdline() (string, error) {
	var w []string
	add := func(k, v string) {
		if v != "" {
			w = append(w, k+"="+v)
		}
	}
	bad := func(s string) bool { return strings.ContainsAny(s, " \t\n\"") }
	if bad(l.SSID) || len(l.SSID) > 32 {
		return "", fmt.Errorf("Lab.SSID %q: at most 32 bytes without spaces or quotes", l.SSID)
	}
	if l.PSK != "" && (len(l.PSK) < 8 || len(l.PSK) > 63 || bad(l.PSK)) {
		return "", fmt.Errorf("Lab.PSK: 8 to 63 characters without spaces or quotes")
	}
	switch {
	case l.Security != "" && l.Security != "wpa2" && l.Security != "wpa3":
		return "", fmt.Errorf("Lab.Security %q: want wpa2 or wpa3", l.Security)
	case l.Security != "" && l.PSK == "":
		return "", fmt.Errorf("Lab.Security %s: needs a PSK", l.Security)
	}
	if l.DHCPServer != "" && l.DHCPServer != "dnsmasq" && l.DHCPServer != "udhcpd" {
		return "", fmt.Errorf("Lab.DHCPServer %q: want dnsmasq or udhcpd", l.DHCPServer)
	}
	if l.DHCPServer == "dnsmasq" && l.Lease != 0 && l.Lease < 2*time.Minute {
		return "", fmt.Errorf("Lab.Lease %v: dnsmasq gives no lease shorter than 2m; use udhcpd", l.Lease)
	}
	if bad(l.StationIface) || strings.Contains(l.StationIface, "/") || len(l.StationIface) > 15 {
		return "", fmt.Errorf("Lab.StationIface %q: not an interface name", l.StationIface)
	}
	dur := func(d time.Duration) string {
		if d <= 0 {
			return ""
		}
		if d%time.Second == 0 {
			return strconv.Itoa(int(d / time.Second))
		}
		return d.String()
	}
	add("apssid", l.SSID)
	add("appsk", l.PSK)
	if l.Security == "wpa3" {
		add("apsec", l.Security)
	}
	add("aplease", dur(l.Lease))
	add("apdhcp", l.DHCPServer)
	add("apstop", dur(l.APStop))
	add("aprestart", dur(l.APRestart))
	add("dhcpstop", dur(l.DHCPStop))
	add("dhcprestart", dur(l.DHCPRestart))
	add("apstaif", l.StationIface)
	if bad(l.Probe) {
		return "", fmt.Errorf("Lab.Probe %q: a path without spaces or quotes", l.Probe)
	}
	add("approbe", l.Probe)
	return strings.Join(w, " "), nil
}

// WiFiLabOptions returns base made into a WiFi lab guest: apinit as /init, base.Init packed
// as /pigw (apinit execs it as PID 1 once the AP is ready), the lab's programs added to
// Binaries (Files for arm64), its modules to Modules and its knobs to Cmdline. It skips the
// test (fails it under CI) when the host lacks QEMU, the kernel or the lab's programs.
func WiFiLabOptions(t testing.TB, base Options, lab Lab) Options {
	t.Helper()
	a := archOf(t, base.Arch)
	requireKernelFor(t, a)
	var armTools map[string][]byte
	if a.goarch == "arm64" {
		armTools = wifiLabARM64Tools(t, a)
	} else {
		for _, b := range WiFiLabBinaries {
			if _, err := findHostBinary(b); err != nil {
				skipOrFatal(t, "WiFi lab: "+err.Error())
			}
		}
	}
	if base.Init == "" {
		t.Fatal("vmtest: WiFiLabOptions: base.Init is empty")
	}
	if err := a.checkInit(base.Init); err != nil {
		t.Fatalf("vmtest: WiFiLabOptions: %v", err)
	}
	words, err := lab.Cmdline()
	if err != nil {
		t.Fatalf("vmtest: WiFiLabOptions: %v", err)
	}
	prog, err := os.ReadFile(base.Init)
	if err != nil {
		t.Fatalf("vmtest: WiFiLabOptions: %v", err)
	}

	o := base
	o.Init = GuestProgramFor(t, "./internal/vmtest/testdata/apinit", a.goarch)
	o.Files = make(map[string][]byte, len(armTools)+len(base.Files)+1)
	for p, b := range armTools {
		o.Files[p] = b
	}
	for p, b := range base.Files {
		o.Files[p] = b
	}
	o.Files["/pigw"] = prog
	if a.goarch == "amd64" {
		o.Binaries = append(append([]string(nil), base.Binaries...), WiFiLabBinaries...)
		if lab.Probe != "" {
			o.Binaries = append(o.Binaries, "coap-client-notls")
		}
	}
	o.Modules = append(append([]string(nil), base.Modules...), WiFiLabModules...)
	o.Cmdline = strings.TrimSpace(base.Cmdline + " " + words)
	return o
}

// wifiLabARM64Tools returns the arm64 lab's programs and their libraries as initramfs files.
func wifiLabARM64Tools(t testing.TB, a *guestArch) map[string][]byte {
	t.Helper()
	dir := filepath.Join(a.kernelDir(), "tools", "root")
	files, err := RootFiles(dir)
	if err == nil {
		for _, p := range wifiLabARM64Programs {
			if files[p] == nil {
				err = fmt.Errorf("no %s", p)
				break
			}
		}
	}
	if err != nil {
		skipOrFatal(t, fmt.Sprintf("arm64 WiFi lab: %s: %v: run `make vm-kernel`, which fetches the lab's arm64 programs", dir, err))
	}
	return files
}

var (
	guestMu    sync.Mutex
	guestProgs = map[string]*guestProg{}
)

type guestProg struct {
	once sync.Once
	data []byte
	err  error
}

// GuestProgram builds the main package pkg (a path relative to the module root, such as
// "./internal/vmtest/testdata/apinit") static for linux/amd64, once per test binary, and
// returns the path of a copy in the test's temporary directory.
func GuestProgram(t testing.TB, pkg string) string {
	t.Helper()
	return GuestProgramFor(t, pkg, "amd64")
}

// GuestProgramFor is GuestProgram for the architecture goarch (amd64 or arm64).
func GuestProgramFor(t testing.TB, pkg, goarch string) string {
	t.Helper()
	key := pkg + " " + goarch
	guestMu.Lock()
	g := guestProgs[key]
	if g == nil {
		g = &guestProg{}
		guestProgs[key] = g
	}
	guestMu.Unlock()
	g.once.Do(func() { g.data, g.err = buildGuestProgram(pkg, goarch) })
	if g.err != nil {
		t.Fatalf("vmtest: building %s: %v", pkg, g.err)
	}
	p := filepath.Join(t.TempDir(), filepath.Base(pkg))
	if err := os.WriteFile(p, g.data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// moduleRoot is the directory of pigw's go.mod.
func moduleRoot() (string, error) {
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(mod))), nil
}

func buildGuestProgram(pkg, goarch string) ([]byte, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vmtest-prog-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "prog")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return os.ReadFile(out)
}
