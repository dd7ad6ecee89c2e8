// Command apinit is the WiFi lab's pre-init (see wifilab.go): it runs first as PID 1 of a
// QEMU guest, builds a WiFi access point on a mac80211_hwsim radio in a network namespace of
// its own, and then execs /pigw (or any other /pigw the test packed), which stays PID 1 and
// finds the second radio, wlan1, as its WiFi interface.
//
// Steps: mount /proc, /sys, /dev and /dev/pts; load the crypto, cfg80211, mac80211 and
// mac80211_hwsim (radios=2) modules; create the network namespace "ap" (ip netns add) and
// move wlan0's phy into it (iw phy phyN set netns name ap), where the interface keeps the
// name wlan0 and gets 192.168.77.1/24; write the configuration files to /ap (a directory of
// the initramfs root: pigw mounts a tmpfs on /run, which hides /run/netns/ap too); start the
// supervisor (this binary again, as "/init apsup", a normal child), which opens the
// namespace before pigw runs and keeps the descriptor, starts the DHCP server and hostapd in
// it (what `ip netns exec ap` does: setns on a locked thread, a mount namespace of the
// child's own with the namespace's /sys, through "/init apexec PROG ARGS"), copies their
// output, read through a pseudo-terminal so it is line buffered, to the console prefixed
// "ap: <program>: ", and reports when hostapd says AP-ENABLED; print "apinit: ap ready ..."
// and exec /pigw with the kernel's arguments and environment. /proc and /dev/pts are
// unmounted (lazily) before that, so pigw mounts them afresh as on a normal boot; /sys and
// /dev stay (pigw takes EBUSY there as already mounted).
//
// After the exec the supervisor keeps running as a child of pigw: it restarts nothing by
// itself, but carries out the schedule of the knobs below, counted from the station's first
// connection (hostapd's from AP-STA-CONNECTED, the DHCP server's from its first acknowledged
// lease), so that a test's schedule does not race the station's boot.
//
// Kernel command line words (PID 1 gets them as environment variables):
//
//	apssid=NAME      the SSID (no spaces); default pigw-lab
//	appsk=PASS       WPA2-PSK (CCMP) passphrase, 8 to 63 characters; without it the AP is open
//	apsec=wpa3       WPA3-Personal only instead of WPA2-PSK: SAE with appsk as the password,
//	                 management frame protection required
//	aplease=D        DHCP lease time (seconds, or a Go duration like 2m); default 2m
//	apdhcp=S         dnsmasq or udhcpd (busybox); default dnsmasq, udhcpd when aplease < 2m,
//	                 since dnsmasq never gives leases shorter than two minutes
//	apstop=D         stop hostapd (SIGTERM: stations are deauthenticated) D after a station
//	                 first connected (hostapd's AP-STA-CONNECTED)
//	aprestart=D      start it again D after it stopped
//	dhcpstop=D       stop the DHCP server D after it first acknowledged a lease (its
//	                 "sending ACK" or "DHCPACK" line; its leases are forgotten): a test can
//	                 stop it before the station renews, whenever the station got its lease
//	dhcprestart=D    start it again D after it stopped
//	apstaif=NAME     rename the station's interface wlan1 to NAME (e.g. wlan0) before pigw runs
//
// Console lines: "apinit: ..." from this program, "ap: ..." from the supervisor and
// "ap: hostapd: ...", "ap: dnsmasq: ...", "ap: udhcpd: ..." from the programs it runs.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pigw/pigw/appliance/boot"
)

const (
	apNS     = "ap"
	apIface  = "wlan0"
	apAddr   = "192.168.77.1/24"
	staIface = "wlan1"
	stateDir = "/ap"
	pigwPath = "/pigw"
	toolPath = "/usr/sbin:/usr/bin:/sbin:/bin"
)

// modules are loaded in this order, with pigw's own loader: without the crypto modules
// hostapd fails with "key addition failed" (the kernel would ask /sbin/modprobe for ccm(aes),
// and pigw, which answers such requests, is not running yet).
var modules = []string{"ctr", "ccm", "gf128mul", "ghash-generic", "gcm", "cmac", "rfkill", "libarc4",
	"cfg80211", "mac80211", "virtio_ring", "virtio", "mac80211_hwsim radios=2"}

func logf(format string, args ...any) {
	writeLine("apinit: " + fmt.Sprintf(format, args...))
}

// writeLine writes one console line with a single write, so lines of several processes do
// not mix.
func writeLine(s string) {
	_, _ = os.Stdout.Write([]byte(s + "\n"))
}

// uptime is the time since the kernel started.
func uptime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano()).Round(10 * time.Millisecond)
}

func fail(format string, args ...any) {
	logf("FAIL "+format, args...)
	unix.Sync()
	time.Sleep(200 * time.Millisecond)
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "apsup":
			supervise()
			return
		case "apexec":
			apexec(os.Args[2:])
			return
		}
	}
	cfg, err := readConfig()
	if err != nil {
		fail("%v", err)
	}
	mountAll()
	loadModules()
	setupNamespace(cfg)
	if err := writeConfigs(cfg); err != nil {
		fail("%v", err)
	}
	ready := startSupervisor()
	logf("ap ready ssid=%s security=%s dhcp=%s lease=%v ap=%s station=%s uptime=%v",
		cfg.ssid, cfg.security(), cfg.dhcp, cfg.lease, apIface+"@"+apNS+"/"+strings.TrimSuffix(apAddr, "/24"), cfg.staIf, ready)
	execPigw()
}

// config is what the kernel command line asks for.
type config struct {
	ssid, psk, dhcp, staIf string
	sec                    string // "" (WPA2-PSK with a psk) or "wpa3"
	probe                  string // a CoAP path to GET from the AP namespace on the station's pinned address
	lease                  time.Duration
	apStop, apRestart      time.Duration
	dhcpStop, dhcpRestart  time.Duration
}

func (c *config) security() string {
	switch {
	case c.psk == "":
		return "open"
	case c.sec == "wpa3":
		return "wpa3-sae"
	}
	return "wpa2-psk"
}

func parseDuration(name string) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%s: want seconds or a duration like 2m", name, v)
	}
	return d, nil
}

func readConfig() (*config, error) {
	c := &config{ssid: os.Getenv("apssid"), psk: os.Getenv("appsk"), sec: os.Getenv("apsec"), dhcp: os.Getenv("apdhcp"), staIf: os.Getenv("apstaif"), probe: os.Getenv("approbe")}
	if c.ssid == "" {
		c.ssid = "pigw-lab"
	}
	if c.staIf == "" {
		c.staIf = staIface
	}
	if c.psk != "" && (len(c.psk) < 8 || len(c.psk) > 63) {
		return nil, fmt.Errorf("appsk: a WPA2 passphrase has 8 to 63 characters, not %d", len(c.psk))
	}
	if c.sec != "" && (c.sec != "wpa3" || c.psk == "") {
		return nil, fmt.Errorf("apsec=%s: want wpa3, with appsk", c.sec)
	}
	var errs []error
	for _, d := range []struct {
		name string
		v    *time.Duration
	}{
		{"aplease", &c.lease}, {"apstop", &c.apStop}, {"aprestart", &c.apRestart},
		{"dhcpstop", &c.dhcpStop}, {"dhcprestart", &c.dhcpRestart},
	} {
		v, err := parseDuration(d.name)
		errs = append(errs, err)
		*d.v = v
	}
	if c.lease == 0 {
		c.lease = 2 * time.Minute
	}
	switch c.dhcp {
	case "":
		c.dhcp = "dnsmasq"
		if c.lease < 2*time.Minute {
			c.dhcp = "udhcpd"
		}
	case "dnsmasq", "udhcpd":
	default:
		errs = append(errs, fmt.Errorf("apdhcp=%s: want dnsmasq or udhcpd", c.dhcp))
	}
	return c, errors.Join(errs...)
}

func mountAll() {
	for _, m := range []struct{ src, dst, typ, data string }{
		{"proc", "/proc", "proc", ""},
		{"sysfs", "/sys", "sysfs", ""},
		{"devtmpfs", "/dev", "devtmpfs", "mode=0755"},
		{"devpts", "/dev/pts", "devpts", "ptmxmode=0666"},
	} {
		_ = os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.typ, 0, m.data); err != nil && err != unix.EBUSY {
			fail("mount %s: %v", m.dst, err)
		}
	}
}

func loadModules() {
	start := time.Now()
	if err := boot.LoadModules(slog.New(slog.NewTextHandler(os.Stdout, nil)), modules...); err != nil {
		fail("%v", err)
	}
	logf("modules loaded: %s (%v)", strings.Join(modules, ", "), time.Since(start).Round(time.Millisecond))
}

// run runs a tool and fails the boot if it fails.
func run(name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Env = toolEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		fail("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
}

func toolEnv() []string { return append(os.Environ(), "PATH="+toolPath) }

func tool(name string) string {
	for _, d := range filepath.SplitList(toolPath) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	fail("%s is not in the initramfs (WiFiLabOptions packs it)", name)
	return ""
}

// setupNamespace moves wlan0's phy into the namespace "ap" and gives wlan0 the AP's address.
func setupNamespace(c *config) {
	var phy string
	for i := 0; i < 50; i++ {
		if b, err := os.ReadFile("/sys/class/net/" + apIface + "/phy80211/name"); err == nil {
			phy = strings.TrimSpace(string(b))
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if phy == "" {
		fail("no %s from mac80211_hwsim", apIface)
	}
	if _, err := os.Stat("/sys/class/net/" + staIface); err != nil {
		fail("no %s from mac80211_hwsim (radios=2): %v", staIface, err)
	}
	// ip keeps its namespaces in /run/netns. pigw mounts a tmpfs on /run later, which hides
	// it: the supervisor opens the namespace before that and keeps the descriptor.
	if err := os.MkdirAll("/run", 0o755); err != nil {
		fail("%v", err)
	}
	ip, iw := tool("ip"), tool("iw")
	run(ip, "netns", "add", apNS)
	run(iw, "phy", phy, "set", "netns", "name", apNS)
	run(ip, "-n", apNS, "link", "set", "lo", "up")
	run(ip, "-n", apNS, "addr", "add", apAddr, "dev", apIface)
	if c.staIf != staIface {
		run(ip, "link", "set", staIface, "name", c.staIf)
	}
	logf("%s (%s) moved to netns %s with %s; the station's interface is %s", apIface, phy, apNS, apAddr, c.staIf)
	// dnsmasq looks its user up; the initramfs may have no /etc/passwd.
	if _, err := os.Stat("/etc/passwd"); err != nil {
		_ = os.MkdirAll("/etc", 0o755)
		_ = os.WriteFile("/etc/passwd", []byte("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"), 0o644)
		if _, err := os.Stat("/etc/group"); err != nil {
			_ = os.WriteFile("/etc/group", []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
		}
	}
}

func writeConfigs(c *config) error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return err
	}
	var h strings.Builder
	fmt.Fprintf(&h, "interface=%s\ndriver=nl80211\nssid=%s\nhw_mode=g\nchannel=6\n", apIface, c.ssid)
	h.WriteString("logger_stdout=-1\nlogger_stdout_level=2\n")
	switch c.security() {
	case "wpa2-psk":
		fmt.Fprintf(&h, "wpa=2\nwpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\nwpa_passphrase=%s\n", c.psk)
	case "wpa3-sae":
		fmt.Fprintf(&h, "wpa=2\nwpa_key_mgmt=SAE\nrsn_pairwise=CCMP\nieee80211w=2\nsae_password=%s\n", c.psk)
	}
	secs := int(c.lease / time.Second)
	d := fmt.Sprintf("port=0\ninterface=%s\nbind-interfaces\nno-resolv\nno-hosts\n"+
		"dhcp-range=192.168.77.50,192.168.77.99,255.255.255.0,%d\n"+
		"dhcp-leasefile=%s/dnsmasq.leases\ndhcp-authoritative\nno-ping\nuser=root\ngroup=root\n"+
		"dhcp-host="+stationMAC+","+stationAddr+"\n",
		apIface, secs, stateDir)
	u := fmt.Sprintf("start 192.168.77.50\nend 192.168.77.99\ninterface %s\nmax_leases 50\n"+
		"lease_file %s/udhcpd.leases\npidfile %s/udhcpd.pid\nmin_lease %d\n"+
		"option subnet 255.255.255.0\noption router 192.168.77.1\noption lease %d\n"+
		"static_lease "+stationMAC+" "+stationAddr+"\n",
		apIface, stateDir, stateDir, secs, secs)
	for name, data := range map[string]string{"hostapd.conf": h.String(), "dnsmasq.conf": d, "udhcpd.conf": u, "udhcpd.leases": ""} {
		if err := os.WriteFile(filepath.Join(stateDir, name), []byte(data), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// startSupervisor starts "/init apsup" and waits until it reports hostapd's AP-ENABLED.
// It returns the uptime then.
func startSupervisor() time.Duration {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	r, w, err := os.Pipe()
	if err != nil {
		fail("pipe: %v", err)
	}
	cmd := exec.Command(exe, "apsup")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		fail("start the AP supervisor: %v", err)
	}
	w.Close()
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		ch <- result{strings.TrimSpace(line), err}
	}()
	select {
	case res := <-ch:
		if res.line != "ready" {
			fail("the AP did not come up: %s %v", res.line, res.err)
		}
	case <-time.After(60 * time.Second):
		fail("the AP did not come up within 60s")
	}
	r.Close()
	return uptime()
}

func execPigw() {
	if _, err := os.Stat(pigwPath); err != nil {
		fail("%s: %v", pigwPath, err)
	}
	// pigw mounts these again; a second proc or devpts would be stacked on ours.
	_ = unix.Unmount("/dev/pts", unix.MNT_DETACH)
	_ = unix.Unmount("/proc", unix.MNT_DETACH)
	argv := append([]string{pigwPath}, os.Args[1:]...)
	err := syscall.Exec(pigwPath, argv, os.Environ())
	fail("exec %s: %v", pigwPath, err)
}

// --- the supervisor ----------------------------------------------------------------------

var (
	self    = "/init" // this program
	netnsFD = -1      // the supervisor's descriptor of the namespace "ap"
)

// startInNetns starts cmd in the namespace "ap": the fork happens on a thread that joined
// it, and that thread ends with its goroutine (locked, never unlocked).
func startInNetns(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(netnsFD, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// apexec runs in a child of the supervisor, in the namespace "ap" and a mount namespace of
// its own: it mounts a /sys that shows the namespace's interfaces (hostapd reads
// /sys/class/net/wlan0) and execs the program.
func apexec(args []string) {
	if len(args) == 0 {
		os.Exit(2)
	}
	_ = unix.Unmount("/sys", unix.MNT_DETACH)
	if err := unix.Mount("sysfs", "/sys", "sysfs", 0, ""); err != nil {
		writeLine("ap: apexec: mount /sys: " + err.Error())
	}
	err := syscall.Exec(args[0], args, os.Environ())
	writeLine("ap: apexec: " + args[0] + ": " + err.Error())
	os.Exit(127)
}

// proc is a program the supervisor runs in the AP namespace, its output to the console.
type proc struct {
	name string
	args []string // after "ip netns exec ap"
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func suplogf(format string, args ...any) {
	writeLine("ap: " + fmt.Sprintf(format, args...))
}

// start runs the program with a pseudo-terminal as stdout and stderr (a C program's stdout
// into a pipe is block buffered: hostapd's AP-ENABLED would come kilobytes late) and copies
// its lines to the console; onLine sees each line.
func (p *proc) start(onLine func(string)) error {
	ptm, pts, err := openPTY()
	if err != nil {
		return err
	}
	// What `ip netns exec ap` does, without /run/netns/ap, which pigw's /run hides: the
	// child starts in the namespace and a mount namespace of its own, where apexec mounts
	// the namespace's /sys.
	cmd := exec.Command(self, append([]string{"apexec"}, p.args...)...)
	cmd.Env = toolEnv()
	cmd.Stdout, cmd.Stderr = pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Unshareflags: unix.CLONE_NEWNS}
	if err := startInNetns(cmd); err != nil {
		ptm.Close()
		pts.Close()
		return err
	}
	pts.Close()
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	go func() {
		s := bufio.NewScanner(ptm)
		s.Buffer(make([]byte, 64<<10), 64<<10)
		for s.Scan() {
			line := strings.TrimRight(s.Text(), "\r")
			writeLine("ap: " + p.name + ": " + strings.TrimPrefix(line, p.name+": "))
			if onLine != nil {
				onLine(line)
			}
		}
		ptm.Close()
		err := cmd.Wait()
		suplogf("%s exited: %v", p.name, exitText(err))
		close(done)
	}()
	return nil
}

func exitText(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// stop sends SIGTERM and waits up to 5 s, then SIGKILL.
func (p *proc) stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(unix.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func openPTY() (ptm, pts *os.File, err error) {
	ptm, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	fd := int(ptm.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		ptm.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		ptm.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	pts, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		ptm.Close()
		return nil, nil, err
	}
	if t, err := unix.IoctlGetTermios(int(pts.Fd()), unix.TCGETS); err == nil {
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ICANON | unix.ISIG
		_ = unix.IoctlSetTermios(int(pts.Fd()), unix.TCSETS, t)
	}
	return ptm, pts, nil
}

func supervise() {
	readyW := os.NewFile(3, "ready")
	c, err := readConfig()
	if err != nil {
		fmt.Fprintf(readyW, "failed: %v\n", err)
		os.Exit(1)
	}
	if p, err := os.Executable(); err == nil {
		self = p
	}
	if netnsFD, err = unix.Open("/run/netns/"+apNS, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		fmt.Fprintf(readyW, "failed: open the namespace: %v\n", err)
		os.Exit(1)
	}
	var dhcp *proc
	if c.dhcp == "udhcpd" {
		dhcp = &proc{name: "udhcpd", args: []string{tool("busybox"), "udhcpd", "-f", stateDir + "/udhcpd.conf"}}
	} else {
		dhcp = &proc{name: "dnsmasq", args: []string{tool("dnsmasq"), "--keep-in-foreground", "--log-facility=-",
			"--conf-file=" + stateDir + "/dnsmasq.conf", "--pid-file=" + stateDir + "/dnsmasq.pid"}}
	}
	hostapd := &proc{name: "hostapd", args: []string{tool("hostapd"), stateDir + "/hostapd.conf"}}

	acked := make(chan struct{})
	var ackOnce sync.Once
	onDHCPLine := func(l string) {
		if strings.Contains(l, "sending ACK to ") || strings.Contains(l, "DHCPACK(") {
			ackOnce.Do(func() { close(acked) })
		}
	}
	if err := dhcp.start(onDHCPLine); err != nil {
		fmt.Fprintf(readyW, "failed: %s: %v\n", dhcp.name, err)
		os.Exit(1)
	}
	ready, connected := make(chan struct{}), make(chan struct{})
	var readyOnce, connectedOnce sync.Once
	onLine := func(l string) {
		switch {
		case strings.Contains(l, "AP-ENABLED"):
			readyOnce.Do(func() { close(ready) })
		case strings.Contains(l, "AP-STA-CONNECTED"):
			connectedOnce.Do(func() { close(connected) })
		}
	}
	if err := hostapd.start(onLine); err != nil {
		fmt.Fprintf(readyW, "failed: hostapd: %v\n", err)
		os.Exit(1)
	}
	select {
	case <-ready:
		fmt.Fprintln(readyW, "ready")
	case <-hostapd.done:
		fmt.Fprintln(readyW, "failed: hostapd exited")
		os.Exit(1)
	}
	readyW.Close()

	var wg sync.WaitGroup
	schedule := func(p *proc, from <-chan struct{}, stop, restart time.Duration, stopKnob, restartKnob string, onLine func(string)) {
		if stop <= 0 {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-from
			time.Sleep(stop)
			suplogf("stopping %s (%s=%v)", p.name, stopKnob, stop)
			p.stop()
			suplogf("%s stopped", p.name)
			if restart <= 0 {
				return
			}
			time.Sleep(restart)
			suplogf("starting %s again (%s=%v)", p.name, restartKnob, restart)
			if err := p.start(onLine); err != nil {
				suplogf("start %s: %v", p.name, err)
			}
		}()
	}
	if c.probe != "" {
		go probe(c.probe)
	}
	schedule(hostapd, connected, c.apStop, c.apRestart, "apstop", "aprestart", onLine)
	schedule(dhcp, acked, c.dhcpStop, c.dhcpRestart, "dhcpstop", "dhcprestart", onDHCPLine)
	wg.Wait()
	// Stay the parent of the programs, copying their output, for as long as the guest runs.
	select {}
}

// The station's hwsim radio (the second) has this address, and the DHCP server gives it a
// fixed lease, so the probe knows where the appliance is.
const (
	stationMAC  = "02:00:00:00:01:00"
	stationAddr = "192.168.77.60"
)

// probe GETs coap://<station>/<path> from the AP namespace every 2 s, for at most 10 minutes,
// and prints each outcome: "ap: probe 2.05 <payload>" or "ap: probe no answer".
func probe(path string) {
	for range 300 {
		time.Sleep(2 * time.Second)
		cmd := exec.Command(tool("coap-client-notls"), "-v", "6", "-B", "2", "-m", "get", "coap://"+stationAddr+"/"+path)
		cmd.Env = toolEnv()
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := startInNetns(cmd); err != nil {
			suplogf("probe: %v", err)
			continue
		}
		_ = cmd.Wait()
		result := "no answer"
		for _, l := range strings.Split(out.String(), "\n") {
			if i := strings.Index(l, " c:"); i >= 0 && strings.Contains(l, "t:ACK") {
				code := strings.Fields(l[i+3:])[0]
				payload := ""
				if j := strings.Index(l, " :: "); j >= 0 {
					payload = strings.Trim(l[j+4:], "'")
				}
				result = code + " " + payload
			}
		}
		suplogf("probe %s", result)
	}
}
