// Command testinit is the PID 1 that proves the vmtest harness: it mounts the kernel file
// systems, loads modules with pigw's own loader (boot.LoadModules: modules.dep dependencies
// and modules.softdep pre-dependencies first, as an init without modprobe must), mounts and
// writes an ext4 disk, optionally reads
// a FAT boot disk, brings up eth0 at QEMU's user-network address and answers UDP on 5683.
//
// Kernel command line words it reads (as environment variables, the kernel passes them so):
//
//	vmtest_modules=a,b,c   modules to load, in order
//	vmtest_token=X         what to write to /perm/vmtest.txt
//	vmtest_boot=1          mount /dev/vdb (vfat, read-only) at /boot and print its files
//
// Over UDP: "poweroff" is answered "bye" and powers off cleanly; anything else gets "pong".
package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pigw/pigw/appliance/boot"
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "vmtest-init: "+format+"\n", args...)
}

func fail(format string, args ...any) {
	logf("FAIL "+format, args...)
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

func main() {
	start := time.Now()
	for _, m := range []struct{ src, dst, typ string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
	} {
		_ = os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.typ, 0, ""); err != nil {
			fail("mount %s: %v", m.dst, err)
		}
	}
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	release := unix.ByteSliceToString(uts.Release[:])
	logf("up kernel=%s pid=%d", release, os.Getpid())

	if mods := os.Getenv("vmtest_modules"); mods != "" {
		log := slog.New(slog.NewTextHandler(os.Stdout, nil))
		if err := boot.LoadModules(log, strings.Split(mods, ",")...); err != nil {
			fail("modules: %v", err)
		}
		logf("modules loaded: %s (%v)", mods, time.Since(start).Round(time.Millisecond))
	}

	if token := os.Getenv("vmtest_token"); token != "" {
		perm(token)
	}
	if os.Getenv("vmtest_boot") == "1" {
		bootDisk()
	}
	network()

	c, err := net.ListenPacket("udp4", ":5683")
	if err != nil {
		fail("listen: %v", err)
	}
	logf("listening on udp 5683")
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			fail("read: %v", err)
		}
		if string(buf[:n]) == "poweroff" {
			_, _ = c.WriteTo([]byte("bye"), from)
			logf("powering off")
			unix.Sync()
			if err := unix.Unmount("/perm", 0); err != nil && err != unix.EINVAL {
				logf("unmount /perm: %v", err)
			}
			_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
			select {}
		}
		_, _ = c.WriteTo([]byte("pong"), from)
	}
}

// perm mounts /dev/vda at /perm, prints what a previous boot wrote and writes token durably.
func perm(token string) {
	_ = os.MkdirAll("/perm", 0o755)
	var err error
	for i := 0; i < 50; i++ { // the disk node may show up a moment after virtio_blk loads
		if err = unix.Mount("/dev/vda", "/perm", "ext4", 0, ""); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		fail("mount /dev/vda: %v", err)
	}
	f := "/perm/vmtest.txt"
	if b, err := os.ReadFile(f); err == nil {
		logf("perm found: %s", b)
	} else {
		logf("perm found: none (%v)", err)
	}
	w, err := os.OpenFile(f+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err == nil {
		_, err = w.WriteString(token)
	}
	if err == nil {
		err = w.Sync()
	}
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		err = os.Rename(f+".tmp", f)
	}
	if err == nil {
		var d *os.File
		if d, err = os.Open("/perm"); err == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		fail("write %s: %v", f, err)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		fail("read %s: %v", f, err)
	}
	logf("perm wrote: %s", b)
}

// bootDisk mounts the FAT disk read-only at /boot and prints its top-level files.
func bootDisk() {
	_ = os.MkdirAll("/boot", 0o755)
	if err := unix.Mount("/dev/vdb", "/boot", "vfat", unix.MS_RDONLY, ""); err != nil {
		fail("mount /dev/vdb: %v", err)
	}
	ents, err := os.ReadDir("/boot")
	if err != nil {
		fail("readdir /boot: %v", err)
	}
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join("/boot", e.Name())); err == nil {
			logf("boot file %s: %q", e.Name(), b)
		}
	}
}

// network brings up lo, and eth0 as 10.0.2.15/24 (the address QEMU's user network
// forwards to), with plain ioctls.
func network() {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("socket: %v", err)
	}
	defer unix.Close(fd)
	up := func(name string) error {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
			return err
		}
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
	}
	if err := up("lo"); err != nil {
		fail("lo: %v", err)
	}
	set := func(req uint, ip net.IP) error {
		ifr, err := unix.NewIfreq("eth0")
		if err != nil {
			return err
		}
		if err := ifr.SetInet4Addr(ip.To4()); err != nil {
			return err
		}
		return unix.IoctlIfreq(fd, req, ifr)
	}
	err = set(unix.SIOCSIFADDR, net.IPv4(10, 0, 2, 15))
	if err == nil {
		err = set(unix.SIOCSIFNETMASK, net.IPv4(255, 255, 255, 0))
	}
	if err == nil {
		err = up("eth0")
	}
	if err != nil {
		fail("eth0: %v", err)
	}
	logf("eth0 up 10.0.2.15/24")
}
