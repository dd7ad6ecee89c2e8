package boot

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// children is the registry of processes the appliance started itself and waits for (with
// os/exec); the reaper leaves them to their owners.
var children sync.Map

// Track tells the reaper that pid belongs to a caller that will wait for it; Untrack after.
func Track(pid int)   { children.Store(pid, true) }
func Untrack(pid int) { children.Delete(pid) }

// Reap collects orphans that end up as children of PID 1, on every SIGCHLD and every few
// seconds, until ctx is done.
func Reap(ctx context.Context, log *slog.Logger) {
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, unix.SIGCHLD)
	defer signal.Stop(sig)
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		for _, pid := range zombies() {
			if _, ours := children.Load(pid); ours {
				continue
			}
			var ws unix.WaitStatus
			if _, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); err == nil {
				log.Debug("reaped", "pid", pid, "status", ws.ExitStatus())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-sig:
		case <-t.C:
		}
	}
}

// zombies lists our children that have exited, from /proc/<pid>/stat.
func zombies() []int {
	me := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, stat := range dirs {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) >= 2 && f[0] == "Z" && f[1] == me {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(stat))); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// SetHostname sets the kernel's host name.
func SetHostname(name string) error {
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("set hostname %q: %w", name, err)
	}
	return nil
}

// LoopbackUp brings lo up, so services on 127.0.0.1 and ::1 work.
func LoopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}

// Halt stops the machine after the appliance has stopped: sync, unmount /perm, then reboot or
// power off. It returns only if the kernel refuses.
func Halt(log *slog.Logger, poweroff bool) error {
	if err := Unmount(); err != nil {
		log.Error("unmount before halt", "err", err)
	}
	cmd, what := unix.LINUX_REBOOT_CMD_RESTART, "rebooting"
	if poweroff {
		cmd, what = unix.LINUX_REBOOT_CMD_POWER_OFF, "powering off"
	}
	log.Warn(what)
	time.Sleep(100 * time.Millisecond) // let the console take the line
	if err := unix.Reboot(cmd); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Fatal is the end of a boot that cannot go on: say why, wait so the line can be read, and
// reboot, instead of exiting PID 1, which panics the kernel.
func Fatal(log *slog.Logger, err error, wait time.Duration) {
	log.Error("fatal: the appliance cannot run; rebooting", "err", err, "in", wait)
	fmt.Fprintf(os.Stderr, "\npigw: FATAL: %v\npigw: rebooting in %s\n", err, wait)
	time.Sleep(wait)
	if err := Halt(log, false); err != nil {
		log.Error("reboot failed", "err", err)
	}
	select {} // PID 1 must not exit
}

// RebootTryboot reboots with the argument "0 tryboot": the Pi 4 and 5 firmware then boots
// tryboot.txt instead of config.txt, once (the flag does not survive the next reset or a
// power cut). A kernel without the Pi's reboot handler ignores the argument.
func RebootTryboot(log *slog.Logger) error {
	if err := Unmount(); err != nil {
		log.Error("unmount before halt", "err", err)
	}
	log.Warn("rebooting into tryboot")
	time.Sleep(100 * time.Millisecond)
	arg := []byte("0 tryboot\x00")
	_, _, errno := unix.Syscall6(unix.SYS_REBOOT, unix.LINUX_REBOOT_MAGIC1, unix.LINUX_REBOOT_MAGIC2,
		unix.LINUX_REBOOT_CMD_RESTART2, uintptr(unsafe.Pointer(&arg[0])), 0, 0)
	if errno != 0 {
		return fmt.Errorf("reboot into tryboot: %w", errno)
	}
	return nil
}
