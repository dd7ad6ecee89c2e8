package vmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/internal/freeport"
)

// These tests boot the real pigw binary as PID 1 (/init) in QEMU with Debian's kernel, a
// virtio disk labelled perm for /perm and a FAT boot disk with pigw.yaml, as on the Pi.

// pigwModules are what the guest needs from Debian's kernel (the Pi kernel builds these in).
var pigwModules = []string{"virtio_pci", "virtio_blk", "virtio_net", "crc32c_generic", "ext4", "vfat", "nls_cp437", "nls_ascii"}

// etcConfig is the image's /etc/pigw.yaml: the guest's static address on QEMU's user network,
// DTLS with an admin, and the tutorial's resources.
const etcConfig = `system:
  hostname: pigw-vm
  modules: [virtio_net]
network:
  interfaces:
    - name: eth0
      addresses: [10.0.2.15/24]
      gateway: 10.0.2.2
coap:
  listen: ["0.0.0.0:5683", "[::]:5683"]
  dynamic_resources: true
  dtls:
    listen: ["0.0.0.0:5684"]
    keys: {admin: adminkey}
    admins: [admin]
  resources:
    - uri: resource1
      media_type: text/plain
      value: default_value
      methods: [GET, POST, PUT]
`

var (
	pigwOnce sync.Once
	pigwBin  string
	pigwErr  error
)

// pigwBinary builds the static amd64 pigw once per test run.
func pigwBinary(t *testing.T) string {
	t.Helper()
	pigwOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			pigwErr = err
			return
		}
		dir, err := os.MkdirTemp("", "pigw-vm-bin")
		if err != nil {
			pigwErr = err
			return
		}
		pigwBin = filepath.Join(dir, "pigw")
		cmd := exec.Command("go", "build", "-trimpath", "-o", pigwBin, "./cmd/pigw")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			pigwErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if pigwErr != nil {
		t.Fatal(pigwErr)
	}
	return pigwBin
}

// disks makes a perm disk and a boot disk holding bootYAML (none when "").
func disks(t *testing.T, bootYAML string) (perm, bootDisk string) {
	dir := t.TempDir()
	perm, bootDisk = filepath.Join(dir, "perm.img"), filepath.Join(dir, "boot.img")
	MakeExt4(t, perm, 64, "perm")
	files := map[string][]byte{}
	if bootYAML != "" {
		files["pigw.yaml"] = []byte(bootYAML)
	}
	MakeVFAT(t, bootDisk, 34, "PIGWBOOT", files)
	return perm, bootDisk
}

func bootPigw(t *testing.T, perm, bootDisk string) *VM {
	t.Helper()
	return Start(t, Options{
		Init:       pigwBinary(t),
		Files:      map[string][]byte{"/etc/pigw.yaml": []byte(etcConfig)},
		Modules:    pigwModules,
		PermDisk:   perm,
		BootDisk:   bootDisk,
		ForwardUDP: []int{5683, 5684},
		Memory:     "256M",
	})
}

// session opens a client session to the guest's CoAP (or DTLS with identity) port.
func session(t testing.TB, vm *VM, dtls bool) *coap.Session {
	t.Helper()
	c := coap.NewClient(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { c.Close() })
	port, opts := 5683, coap.SessionOptions{Timeout: 5 * time.Second, AckTimeout: 500 * time.Millisecond}
	if dtls {
		port, opts.Identity, opts.PSK = 5684, "admin", []byte("adminkey")
	}
	s, err := c.NewSession(vm.HostAddr(port), opts)
	if err != nil {
		t.Fatalf("session: %v\n%s", err, vm.Console())
	}
	return s
}

// until sends req until an answer comes (the guest may still be booting).
func until(t testing.TB, s *coap.Session, req coap.Request, timeout time.Duration) coap.Response {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		r, err := s.Do(ctx, req)
		cancel()
		if err == nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v %s: no answer within %s: %v", req.Method, req.Path, timeout, err)
		}
	}
}

func sysInfo(t *testing.T, s *coap.Session) map[string]any {
	t.Helper()
	r := until(t, s, coap.NewRequest(coap.GET, "sys/info"), 60*time.Second)
	var info map[string]any
	if err := json.Unmarshal(r.Payload, &info); err != nil {
		t.Fatalf("/sys/info %q: %v", r.Payload, err)
	}
	return info
}

func TestPigwBoots(t *testing.T) {
	perm, bootDisk := disks(t, "")
	start := time.Now()
	vm := bootPigw(t, perm, bootDisk)
	s := session(t, vm, false)
	r := until(t, s, coap.NewRequest(coap.GET, ".well-known/core"), 60*time.Second)
	t.Logf("from QEMU start to %s for /.well-known/core: %s", r.Code, time.Since(start).Round(10*time.Millisecond))
	if r.Code != coap.Content || !strings.Contains(string(r.Payload), "</resource1>") {
		t.Fatalf("/.well-known/core: %s %q", r.Code, r.Payload)
	}
	info := sysInfo(t, s)
	if info["pid1"] != true || info["hostname"] != "pigw-vm" || !strings.HasPrefix(fmt.Sprint(info["kernel"]), "6.") ||
		info["state_dir"] != "/perm/pigw" || info["board"] == "unknown" {
		t.Errorf("/sys/info %v", info)
	}
	for _, want := range []string{`msg="mounted /perm"`, `msg="mounted the boot partition read-only"`, `msg="link configured" link=eth0`} {
		if !strings.Contains(vm.Console(), want) {
			t.Errorf("console lacks %s", want)
		}
	}
}

func TestPigwPersistsAcrossReboot(t *testing.T) {
	perm, bootDisk := disks(t, "")
	vm := bootPigw(t, perm, bootDisk)
	s := session(t, vm, false)
	until(t, s, coap.NewRequest(coap.GET, "resource1"), 60*time.Second) // booted
	put := coap.NewRequest(coap.PUT, "made/in/vm")
	put.Payload = []byte("kept")
	if r := until(t, s, put, 10*time.Second); r.Code != coap.Code(65) {
		t.Fatalf("PUT: %s", r.Code)
	}
	admin := session(t, vm, true)
	if r := until(t, admin, coap.NewRequest(coap.POST, "sys/reboot"), 10*time.Second); r.Code != coap.Changed {
		t.Fatalf("reboot: %s %q", r.Code, r.Payload)
	}
	if err := vm.Wait(30 * time.Second); err != nil { // -no-reboot: the guest's reboot ends QEMU
		t.Fatalf("guest did not reboot: %v\n%s", err, vm.Console())
	}
	if !strings.Contains(vm.Console(), "rebooting") {
		t.Errorf("no clean reboot on the console")
	}
	vm = bootPigw(t, perm, bootDisk)
	s = session(t, vm, false)
	if r := until(t, s, coap.NewRequest(coap.GET, "made/in/vm"), 60*time.Second); r.Code != coap.Content || string(r.Payload) != "kept" {
		t.Errorf("after reboot: %s %q", r.Code, r.Payload)
	}
	if _, err := vm.WaitConsole(regexp.MustCompile(`msg="state recovered" .*dynamic_resources=1`), 5*time.Second); err != nil {
		t.Errorf("no state recovered line: %v", err)
	}
}

// TestPigwBrokenDisks boots with a zeroed /perm superblock and a pigw.yaml that does not parse:
// the appliance serves anyway and its log says what is wrong.
func TestPigwBrokenDisks(t *testing.T) {
	perm, bootDisk := disks(t, "coap:\n  listen: [unclosed\n")
	f, err := os.OpenFile(perm, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 1024), 1024); err != nil { // the ext4 superblock
		t.Fatal(err)
	}
	f.Close()
	vm := bootPigw(t, perm, bootDisk)
	s := session(t, vm, false)
	info := sysInfo(t, s)
	if info["pid1"] != true || info["state_dir"] != "" {
		t.Errorf("/sys/info %v", info)
	}
	r := until(t, s, coap.NewRequest(coap.GET, "sys/log"), 10*time.Second)
	log := string(r.Payload)
	for _, want := range []string{
		`msg="no /perm`, `an ext4 filesystem labelled \"perm\"`, `no filesystem (zeroed superblock area)`,
		`msg="config file ignored: the appliance runs without it" file=/boot/pigw.yaml`, `pigw.yaml:2:`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("/sys/log lacks %s:\n%s", want, log)
		}
	}
}

// TestPigwSubsystemRestart configures a route the kernel refuses: the network subsystem fails,
// is restarted, and its state says so; the rest of the appliance serves on.
func TestPigwSubsystemRestart(t *testing.T) {
	perm, bootDisk := disks(t, `network:
  interfaces:
    - name: eth0
      addresses: [10.0.2.15/24]
      gateway: 10.0.2.2
      routes: [{to: 10.9.0.0/16, via: 10.99.99.1}]
`)
	vm := bootPigw(t, perm, bootDisk)
	s := session(t, vm, false)
	deadline := time.Now().Add(60 * time.Second)
	var st map[string]any
	for time.Now().Before(deadline) {
		r := until(t, s, coap.NewRequest(coap.GET, "sys/subsystems/network"), 60*time.Second)
		_ = json.Unmarshal(r.Payload, &st)
		if n, _ := st["restarts"].(float64); n >= 2 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if n, _ := st["restarts"].(float64); n < 2 || !strings.Contains(fmt.Sprint(st["last_error"]), "route to 10.9.0.0/16 via 10.99.99.1") {
		t.Errorf("network subsystem state %v", st)
	}
	if r := until(t, s, coap.NewRequest(coap.GET, "resource1"), 5*time.Second); r.Code != coap.Content {
		t.Errorf("resource1 while network fails: %s", r.Code)
	}
}

// bootWatchdog boots pigw with QEMU's i6300esb watchdog and QEMU's events (QMP): init is
// pigw itself, or a guest program that execs /pigw.
func bootWatchdog(t *testing.T, init string) *VM {
	t.Helper()
	perm, bootDisk := disks(t, "system:\n  modules: [virtio_net, i6300esb]\n")
	o := Options{
		Init:       pigwBinary(t),
		Files:      map[string][]byte{"/etc/pigw.yaml": []byte(etcConfig)},
		Modules:    append(append([]string(nil), pigwModules...), "i6300esb"),
		PermDisk:   perm,
		BootDisk:   bootDisk,
		ForwardUDP: []int{5683, 5684},
		QEMUArgs:   []string{"-device", "i6300esb"}, // its default action: reset the machine
		QMP:        true,
	}
	if init != "" {
		prog, err := os.ReadFile(o.Init)
		if err != nil {
			t.Fatal(err)
		}
		o.Init, o.Files["/pigw"] = init, prog
	}
	vm := Start(t, o)
	// The timeout in pigw's line is the one the driver reports back (WDIOC_GETTIMEOUT); a
	// refused WDIOC_SETTIMEOUT would be a warning with the driver's error.
	waitFor(t, vm, `msg="hardware watchdog armed" timeout_seconds=15 identity="i6300ESB timer"`, 60*time.Second)
	if pigwLogShows(vm, "hardware watchdog refused the timeout") || pigwLogShows(vm, "hardware watchdog timeout unknown") {
		t.Errorf("the timeout was not taken:\n%s", vm.Console())
	}
	return vm
}

// TestPigwWatchdogAndPoweroff: pigw arms QEMU's i6300esb watchdog with a 15 s timeout (the
// kernel's own sysfs says so, through /sys/info) and pings it while its supervisor lives, so
// the guest outlives the timeout and QEMU reports no watchdog action; Ctrl-\ on the console
// dumps the goroutines; then an admin's POST /sys/poweroff powers the machine off: the
// kernel's "reboot: Power down" line, and QEMU's SHUTDOWN event with reason guest-shutdown
// (a reboot, a panic or a watchdog reset is guest-reset, and under -no-reboot ends QEMU
// just the same).
func TestPigwWatchdogAndPoweroff(t *testing.T) {
	vm := bootWatchdog(t, "")
	armed := time.Now()
	s := session(t, vm, false)
	until(t, s, coap.NewRequest(coap.GET, "resource1"), 30*time.Second)
	r := until(t, s, coap.NewRequest(coap.GET, "sys/info"), 5*time.Second)
	var info struct {
		Watchdog struct {
			Identity, State string
			Timeout         int `json:"timeout_seconds"`
		}
	}
	if err := json.Unmarshal(r.Payload, &info); err != nil || info.Watchdog.State != "active" || info.Watchdog.Identity != "i6300ESB timer" || info.Watchdog.Timeout != 15 {
		t.Errorf("/sys/info watchdog %+v (%v): want the i6300ESB, active, 15 s", info.Watchdog, err)
	}
	// Ctrl-\ on the serial console: every goroutine's stack, and the appliance lives on.
	if err := vm.SendConsole([]byte{0x1c}); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.WaitConsole(regexp.MustCompile(`(?s)=== pigw goroutine dump \(Ctrl-\\ on the console\).*boot\.Watchdog.*=== end of goroutine dump ===`), 30*time.Second); err != nil {
		t.Errorf("no goroutine dump after Ctrl-\\: %v", err)
	}
	time.Sleep(max(0, 20*time.Second-time.Since(armed)))
	if r := until(t, s, coap.NewRequest(coap.GET, "resource1"), 5*time.Second); r.Code != coap.Content {
		t.Fatalf("after %s with the watchdog armed: %s", time.Since(armed).Round(time.Second), r.Code)
	}
	admin := session(t, vm, true)
	if r := until(t, admin, coap.NewRequest(coap.POST, "sys/poweroff"), 10*time.Second); r.Code != coap.Changed {
		t.Fatalf("poweroff: %s", r.Code)
	}
	ev, err := vm.WaitEvent("SHUTDOWN", 30*time.Second)
	if err != nil {
		t.Fatalf("no poweroff: %v", err)
	}
	if err := vm.Wait(10 * time.Second); err != nil {
		t.Fatalf("QEMU after %s: %v", ev, err)
	}
	if ev.Data["reason"] != "guest-shutdown" {
		t.Errorf("QEMU stopped with %s: want reason guest-shutdown", ev)
	}
	for _, e := range vm.Events() {
		if e.Name == "WATCHDOG" {
			t.Errorf("the watchdog fired: %s", e)
		}
	}
	if !strings.Contains(vm.Console(), `msg="powering off"`) || !strings.Contains(vm.Console(), "reboot: Power down") {
		t.Errorf("no clean poweroff on the console (pigw's powering off and the kernel's reboot: Power down)")
	}
}

// TestPigwWatchdogResetsAHungAppliance is the watchdog's negative control: the same guest, but
// with testdata/hanginit as /init, which execs pigw and, 7 s after the watchdog became active,
// freezes every thread of PID 1 with the kernel's cgroup freezer, as a deadlock or a process
// stuck in the kernel would stop them. The pings stop, and QEMU's i6300esb resets the machine
// (QEMU's WATCHDOG event, action reset) within the 15 s timeout, 10 to 15 s after the
// freeze, since the last ping came at most 5 s before it. The driver's own default, 30 s,
// would take 20 s at least.
func TestPigwWatchdogResetsAHungAppliance(t *testing.T) {
	vm := bootWatchdog(t, GuestProgram(t, "./internal/vmtest/testdata/hanginit"))
	frozen := waitFor(t, vm, `hanginit: PID 1 frozen \(\d+ threads\)[^\n]*`, 60*time.Second)
	at := time.Now()
	ev, err := vm.WaitEvent("WATCHDOG", 60*time.Second)
	if err != nil {
		t.Fatalf("after %q: %v", frozen, err)
	}
	took := ev.At.Sub(at)
	t.Logf("%s; QEMU's %s %.1fs later", frozen, ev, took.Seconds())
	if ev.Data["action"] != "reset" {
		t.Errorf("watchdog event %s: want action reset", ev)
	}
	if took > 18*time.Second {
		t.Errorf("the watchdog fired %.1fs after PID 1 froze: not the 15 s timeout", took.Seconds())
	}
	if sd, err := vm.WaitEvent("SHUTDOWN", 10*time.Second); err != nil || sd.Data["reason"] != "guest-reset" {
		t.Errorf("after the watchdog: %s %v, want QEMU's SHUTDOWN with reason guest-reset (-no-reboot)", sd, err)
	}
}

// chronyd runs Debian's NTP server on the host's loopback (with -x: it never touches the
// host's clock); the guest reaches it as 10.0.2.2 through QEMU's user network.
func chronyd(t *testing.T) int {
	t.Helper()
	bin, err := exec.LookPath("chronyd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chronyd missing (make test-deps installs chrony)")
		}
		t.Skip("chronyd missing: apt-get install chrony")
	}
	port, err := freeport.UDP()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := fmt.Sprintf("port %d\nbindaddress 127.0.0.1\ncmdport 0\nlocal stratum 8\nallow all\npidfile %s/chronyd.pid\n", port, dir)
	_ = os.WriteFile(filepath.Join(dir, "chrony.conf"), []byte(conf), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-x", "-d", "-u", "root", "-f", filepath.Join(dir, "chrony.conf"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	return port
}

// TestPigwClock: the guest syncs from NTP and saves the time at shutdown; booted again with its
// RTC in the year 2000 (as a Pi, which has none), it restores the saved time, then NTP
// corrects it.
func TestPigwClock(t *testing.T) {
	port := chronyd(t)
	perm, bootDisk := disks(t, fmt.Sprintf("time:\n  ntp: [\"10.0.2.2:%d\"]\n", port))
	vm := bootPigw(t, perm, bootDisk)
	if _, err := vm.WaitConsole(regexp.MustCompile(`msg="clock synchronised" server=10\.0\.2\.2:`), 60*time.Second); err != nil {
		t.Fatalf("no NTP sync: %v", err)
	}
	admin := session(t, vm, true)
	until(t, admin, coap.NewRequest(coap.POST, "sys/reboot"), 10*time.Second)
	if err := vm.Wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	vm = Start(t, Options{
		Init: pigwBinary(t), Files: map[string][]byte{"/etc/pigw.yaml": []byte(etcConfig)}, Modules: pigwModules,
		PermDisk: perm, BootDisk: bootDisk, ForwardUDP: []int{5683, 5684},
		QEMUArgs: []string{"-rtc", "base=2000-01-01T00:00:00"},
	})
	for _, want := range []string{`msg="clock restored from the saved time`, `msg="clock synchronised"`} {
		if _, err := vm.WaitConsole(regexp.MustCompile(regexp.QuoteMeta(want)), 60*time.Second); err != nil {
			t.Errorf("second boot: no %s: %v", want, err)
		}
	}
	info := sysInfo(t, session(t, vm, false))
	if info["pid1"] != true {
		t.Errorf("/sys/info %v", info)
	}
}

// TestPigwWiredDHCP: eth0 gets its address from QEMU's built-in DHCP server, and the lease is
// kept under /perm for the next boot.
func TestPigwWiredDHCP(t *testing.T) {
	perm, bootDisk := disks(t, "network:\n  interfaces:\n    - {name: eth0, dhcp: true}\n")
	vm := bootPigw(t, perm, bootDisk)
	lease, err := vm.WaitConsole(regexp.MustCompile(`msg="DHCP lease" link=eth0 address=10\.0\.2\.15/24 router=10\.0\.2\.2`), 60*time.Second)
	if err != nil {
		t.Fatalf("no lease: %v", err)
	}
	t.Logf("%s", strings.TrimSpace(lease))
	s := session(t, vm, false)
	if r := until(t, s, coap.NewRequest(coap.GET, "resource1"), 30*time.Second); r.Code != coap.Content {
		t.Errorf("over the DHCP address: %s", r.Code)
	}
	var r coap.Response
	for range 50 { // the client says bound just after the lease is applied
		r = until(t, s, coap.NewRequest(coap.GET, "sys/network"), 10*time.Second)
		if strings.Contains(string(r.Payload), `"dhcp":"bound"`) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(string(r.Payload), `"name":"eth0"`) || !strings.Contains(string(r.Payload), `"10.0.2.15/24"`) ||
		!strings.Contains(string(r.Payload), `"dhcp":"bound"`) {
		t.Errorf("/sys/network: %s", r.Payload)
	}
	// IPv6 comes from the router advertisements of QEMU's user network (prefix fec0::/64),
	// taken by the kernel's address autoconfiguration on the link pigw brought up.
	for range 100 {
		if r = until(t, s, coap.NewRequest(coap.GET, "sys/network"), 10*time.Second); strings.Contains(string(r.Payload), `"fec0::`) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(string(r.Payload), `"fec0::`) {
		t.Errorf("no IPv6 address from router advertisements: %s", r.Payload)
	}
	t.Logf("/sys/network: %s", r.Payload)
}
