// Command stainit is a stand-in for pigw in the WiFi lab's own test: apinit execs it as
// /pigw (PID 1) once the access point is up. It joins the AP on the station interface with
// the host's wpa_supplicant, and for every completed connection prints
//
//	stainit: associated ssid=NAME uptime=D
//	stainit: link: <each line of `iw dev IFACE link`>
//
// then gets an address with busybox udhcpc ("stainit: dhcp bound ip=... lease=...") and pings
// the AP ("stainit: ping 192.168.77.1 ok"). "stainit: disconnected" when the link goes.
// wpa_supplicant's own lines are on the console prefixed "sta: wpa_supplicant: ".
//
// Kernel command line words: stassid (default apssid), stapsk (default appsk; the network
// is open without one), apstaif (the station interface, default wlan1).
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const toolPath = "/usr/sbin:/usr/bin:/sbin:/bin"

func writeLine(s string) { _, _ = os.Stdout.Write([]byte(s + "\n")) }

func logf(format string, args ...any) { writeLine("stainit: " + fmt.Sprintf(format, args...)) }

func fail(format string, args ...any) {
	logf("FAIL "+format, args...)
	select {} // the test reads the console; PID 1 must not exit
}

func uptime() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return time.Duration(ts.Nano()).Round(10 * time.Millisecond)
}

func tool(name string) string {
	for _, d := range filepath.SplitList(toolPath) {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	fail("%s is not in the initramfs", name)
	return ""
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	for _, m := range []struct{ src, dst, typ, data string }{
		{"proc", "/proc", "proc", ""},
		{"sysfs", "/sys", "sysfs", ""},
		{"devtmpfs", "/dev", "devtmpfs", "mode=0755"},
		{"devpts", "/dev/pts", "devpts", "ptmxmode=0666"},
		{"tmpfs", "/run", "tmpfs", "mode=0755"},
	} {
		_ = os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.typ, 0, m.data); err != nil && err != unix.EBUSY {
			fail("mount %s: %v", m.dst, err)
		}
	}
	iface := env("apstaif", "wlan1")
	ssid := env("stassid", os.Getenv("apssid"))
	psk := env("stapsk", os.Getenv("appsk"))
	logf("up pid=%d iface=%s ssid=%s psk=%t uptime=%v", os.Getpid(), iface, ssid, psk != "", uptime())

	conf := fmt.Sprintf("network={\n\tssid=%q\n", ssid)
	if psk != "" {
		conf += fmt.Sprintf("\tpsk=%q\n}\n", psk)
	} else {
		conf += "\tkey_mgmt=NONE\n}\n"
	}
	script := `#!/usr/bin/busybox sh
case "$1" in
bound|renew)
	/usr/bin/busybox ip addr flush dev "$interface"
	/usr/bin/busybox ip addr add "$ip/${mask:-24}" dev "$interface"
	echo "stainit: dhcp $1 ip=$ip lease=$lease router=$router"
	;;
esac
`
	if err := os.WriteFile("/run/sta.conf", []byte(conf), 0o600); err != nil {
		fail("%v", err)
	}
	if err := os.WriteFile("/run/udhcpc.sh", []byte(script), 0o755); err != nil {
		fail("%v", err)
	}

	ptm, pts, err := openPTY()
	if err != nil {
		fail("%v", err)
	}
	cmd := exec.Command(tool("wpa_supplicant"), "-i", iface, "-D", "nl80211", "-c", "/run/sta.conf")
	cmd.Stdout, cmd.Stderr = pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fail("wpa_supplicant: %v", err)
	}
	pts.Close()

	events := make(chan string, 256)
	go func() {
		s := bufio.NewScanner(ptm)
		for s.Scan() {
			l := strings.TrimRight(s.Text(), "\r")
			writeLine("sta: wpa_supplicant: " + l)
			switch {
			case strings.Contains(l, "CTRL-EVENT-CONNECTED"):
				events <- "connected"
			case strings.Contains(l, "CTRL-EVENT-DISCONNECTED"):
				events <- "disconnected"
			}
		}
		logf("wpa_supplicant exited: %v", cmd.Wait())
	}()
	for ev := range events {
		if ev == "disconnected" {
			logf("disconnected uptime=%v", uptime())
			continue
		}
		logf("associated ssid=%s uptime=%v", ssid, uptime())
		out, _ := exec.Command(tool("iw"), "dev", iface, "link").CombinedOutput()
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			logf("link: %s", strings.TrimSpace(l))
		}
		dhcpAndPing(iface)
	}
}

func dhcpAndPing(iface string) {
	bb := tool("busybox")
	out, err := exec.Command(bb, "udhcpc", "-i", iface, "-n", "-q", "-f", "-t", "10", "-T", "1", "-s", "/run/udhcpc.sh").CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(l, "stainit: ") {
			writeLine(l)
		} else {
			writeLine("sta: udhcpc: " + l)
		}
	}
	if err != nil {
		logf("dhcp failed: %v", err)
		return
	}
	if out, err := exec.Command(bb, "ping", "-c", "2", "-W", "3", "192.168.77.1").CombinedOutput(); err != nil {
		logf("ping 192.168.77.1 failed: %v: %s", err, strings.TrimSpace(string(out)))
		return
	}
	logf("ping 192.168.77.1 ok")
}

func openPTY() (ptm, pts *os.File, err error) {
	ptm, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	fd := int(ptm.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		ptm.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		ptm.Close()
		return nil, nil, err
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
