// Command modprobeinit checks that pigw is the kernel's module helper. It runs as /init,
// starts a copy of itself ("/init check") and execs /pigw, which stays PID 1 and writes its
// own path to /proc/sys/kernel/modprobe. The copy waits for that, then mounts an iso9660
// filesystem: the kernel has no such filesystem until isofs is loaded, so it runs pigw as
// "/pigw -q -- fs-iso9660", which finds isofs through modules.alias; nothing else loads it.
// The mount itself fails (there is no device), but afterwards /sys/module/isofs must exist.
// Then it runs "pigw modprobe" as a user would: an alias (crypto-ccm), and a name nothing has,
// which must fail. Console lines:
//
//	modprobeinit: helper /pigw
//	modprobeinit: isofs loaded by the kernel's request
//	modprobeinit: pigw modprobe crypto-ccm loaded ccm
//	modprobeinit: pigw modprobe of an unknown name failed: exit status 1
//	modprobeinit: done
//
// or lines starting "modprobeinit: FAIL".
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

func logf(format string, args ...any) {
	_, _ = os.Stdout.WriteString("modprobeinit: " + fmt.Sprintf(format, args...) + "\n")
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" {
		if err := check(); err != nil {
			logf("FAIL %v", err)
			return
		}
		logf("done")
		return
	}
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
	if _, err := syscall.ForkExec("/init", []string{"/init", "check"}, attr); err != nil {
		logf("FAIL start check: %v", err)
	}
	err := syscall.Exec("/pigw", []string{"/pigw"}, os.Environ())
	logf("FAIL exec /pigw: %v", err)
	select {} // PID 1 must not exit
}

func check() error {
	helper, err := waitHelper(time.Minute)
	if err != nil {
		return err
	}
	logf("helper %s", helper)

	if _, err := os.Stat("/sys/module/isofs"); err == nil {
		return fmt.Errorf("isofs is loaded before anything asked for it")
	}
	if err := os.MkdirAll("/mnt/x", 0o755); err != nil {
		return err
	}
	err = syscall.Mount("none", "/mnt/x", "iso9660", syscall.MS_RDONLY, "")
	if _, serr := os.Stat("/sys/module/isofs"); serr != nil {
		return fmt.Errorf("mount iso9660 (%v) did not get isofs loaded: %v", err, serr)
	}
	logf("isofs loaded by the kernel's request (mount: %v)", err)

	if err := pigwModprobe("-q", "--", "crypto-ccm"); err != nil {
		return fmt.Errorf("pigw modprobe -q -- crypto-ccm: %v", err)
	}
	if _, err := os.Stat("/sys/module/ccm"); err != nil {
		return fmt.Errorf("pigw modprobe crypto-ccm succeeded, but: %v", err)
	}
	logf("pigw modprobe crypto-ccm loaded ccm")

	err = pigwModprobe("-q", "--", "no-such-module-or-alias")
	if err == nil {
		return fmt.Errorf("pigw modprobe of an unknown name succeeded")
	}
	logf("pigw modprobe of an unknown name failed: %v", err)
	return nil
}

// waitHelper waits until pigw has replaced the kernel's default helper.
func waitHelper(timeout time.Duration) (string, error) {
	var last string
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, err := os.ReadFile("/proc/sys/kernel/modprobe")
		if err != nil {
			last = err.Error() // /proc is not mounted yet
			continue
		}
		last = strings.TrimSpace(string(b))
		if last != "/sbin/modprobe" {
			return last, nil
		}
	}
	return "", fmt.Errorf("the kernel's module helper is still %q after %v", last, timeout)
}

func pigwModprobe(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/pigw", append([]string{"modprobe"}, args...)...).CombinedOutput()
	if len(out) > 0 {
		logf("pigw modprobe %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
	return err
}
