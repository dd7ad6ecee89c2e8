// Command hanginit makes pigw hang as a whole, for the watchdog's negative control. It runs as
// /init, starts a copy of itself ("/init hang") and execs /pigw, which stays PID 1 and arms
// the hardware watchdog. The copy waits until the kernel says the watchdog is active, and 7 s
// more (pigw pings every 5 s with its 15 s timeout), then freezes PID 1 with the kernel's
// cgroup freezer: it moves PID 1 into a cgroup of its own and
// writes 1 to its cgroup.freeze. Every thread of pigw then stops at its next return to user
// space and runs no more, as in a deadlock or a process stuck in the kernel, while the kernel,
// the hardware watchdog and this copy go on. pigw is not told and has no part in it. Console
// lines:
//
//	hanginit: watchdog active, freezing PID 1
//	hanginit: PID 1 frozen (N threads) uptime=D
//	hanginit: PID 1 frozen for Ns        (every 2 s, until the machine is reset)
//
// or lines starting "hanginit: FAIL".
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func logf(format string, args ...any) {
	_, _ = os.Stdout.WriteString("hanginit: " + fmt.Sprintf(format, args...) + "\n")
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "hang" {
		if err := hang(); err != nil {
			logf("FAIL %v", err)
		}
		return
	}
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
	if _, err := syscall.ForkExec("/init", []string{"/init", "hang"}, attr); err != nil {
		logf("FAIL start the helper: %v", err)
	}
	err := syscall.Exec("/pigw", []string{"/pigw"}, os.Environ())
	logf("FAIL exec /pigw: %v", err)
	select {} // PID 1 must not exit
}

const cgroup = "/sys/fs/cgroup/hung"

func hang() error {
	if err := waitFor("/sys/class/watchdog/watchdog0/state", "active", 2*time.Minute); err != nil {
		return err
	}
	time.Sleep(7 * time.Second)
	logf("watchdog active, freezing PID 1")
	if err := os.MkdirAll("/sys/fs/cgroup", 0o755); err != nil {
		return err
	}
	if err := unix.Mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, ""); err != nil && err != unix.EBUSY {
		return fmt.Errorf("mount cgroup2: %w", err)
	}
	if err := os.Mkdir(cgroup, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(cgroup+"/cgroup.procs", []byte("1"), 0); err != nil {
		return fmt.Errorf("move PID 1 into %s: %w", cgroup, err)
	}
	if err := os.WriteFile(cgroup+"/cgroup.freeze", []byte("1"), 0); err != nil {
		return fmt.Errorf("freeze %s: %w", cgroup, err)
	}
	if err := waitFor(cgroup+"/cgroup.events", "frozen 1", 30*time.Second); err != nil {
		return err
	}
	threads, _ := os.ReadDir("/proc/1/task")
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	logf("PID 1 frozen (%d threads) uptime=%v", len(threads), time.Duration(ts.Nano()).Round(10*time.Millisecond))
	for start := time.Now(); ; {
		time.Sleep(2 * time.Second)
		logf("PID 1 frozen for %.0fs", time.Since(start).Seconds())
	}
}

// waitFor waits until file holds a line want.
func waitFor(file, want string, timeout time.Duration) error {
	var last string
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, err := os.ReadFile(file)
		if err != nil {
			last = err.Error()
			continue
		}
		last = strings.TrimSpace(string(b))
		for _, l := range strings.Split(last, "\n") {
			if l == want {
				return nil
			}
		}
	}
	return fmt.Errorf("%s: no %q within %v (last: %s)", file, want, timeout, last)
}
