package boot

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// trialRootDir is where a trial root is mounted before it becomes "/".
const trialRootDir = "/run/pigw-trial-root"

// ArmWatchdog opens the hardware watchdog for what runs next and returns without pinging it
// again: exec closes the descriptor without the magic close, so the hardware keeps counting
// until the next program opens it. A trial root that hangs before it does is reset.
func ArmWatchdog(log *slog.Logger) *os.File {
	f, err := os.OpenFile("/dev/watchdog", os.O_WRONLY, 0)
	if err != nil {
		log.Info("no hardware watchdog to carry into the trial root", "err", err)
		return nil
	}
	_ = unix.IoctlSetPointerInt(int(f.Fd()), unix.WDIOC_SETTIMEOUT, int(WatchdogTimeout/time.Second))
	_, _ = f.Write([]byte{0})
	log.Info("hardware watchdog armed for the trial root", "timeout", WatchdogTimeout)
	return f
}

// StartRoot makes the squashfs on dev the root file system and runs its /pigw as this PID 1,
// as a kernel booted with root=dev would: the essentials (/dev, /proc, /sys) move over,
// /perm and the boot partition are unmounted for the new pigw to mount. It returns only when
// the new root cannot be used, with nothing changed; once the switch began, a failure is
// fatal (the next boot is on the committed root).
func StartRoot(log *slog.Logger, dev string) error {
	if err := os.MkdirAll(trialRootDir, 0o700); err != nil {
		return fmt.Errorf("trial root mount point: %w", err)
	}
	if err := unix.Mount(dev, trialRootDir, "squashfs", unix.MS_RDONLY|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("mount %s (squashfs): %w", dev, err)
	}
	if err := checkRoot(trialRootDir); err != nil {
		_ = unix.Unmount(trialRootDir, 0)
		return fmt.Errorf("%s: %w", dev, err)
	}
	if err := Unmount(); err != nil {
		_ = unix.Unmount(trialRootDir, 0)
		return err
	}
	log.Warn("starting the trial root", "device", dev)
	time.Sleep(50 * time.Millisecond) // let the console take the line
	for _, m := range []string{"/dev", "/proc", "/sys"} {
		if err := unix.Mount(m, filepath.Join(trialRootDir, m), "", unix.MS_MOVE, ""); err != nil {
			Fatal(log, fmt.Errorf("move %s into the trial root: %w", m, err), 5*time.Second)
		}
	}
	err := errors.Join(unix.Chdir(trialRootDir), unix.Mount(".", "/", "", unix.MS_MOVE, ""), unix.Chroot("."), unix.Chdir("/"))
	if err == nil {
		err = unix.Exec("/pigw", []string{"/pigw"}, os.Environ())
	}
	Fatal(log, fmt.Errorf("start the trial root: %w", err), 5*time.Second)
	return nil
}

// checkRoot checks that dir holds a root pigw can start: /pigw an executable ELF file, and
// the mount points the switch needs.
func checkRoot(dir string) error {
	f, err := os.Open(filepath.Join(dir, "pigw"))
	if err != nil {
		return fmt.Errorf("no /pigw: %w", err)
	}
	defer f.Close()
	head := make([]byte, 4)
	if _, err := f.Read(head); err != nil || !bytes.Equal(head, []byte("\x7fELF")) {
		return errors.New("/pigw is not an ELF executable")
	}
	for _, m := range []string{"dev", "proc", "sys"} {
		if st, err := os.Stat(filepath.Join(dir, m)); err != nil || !st.IsDir() {
			return fmt.Errorf("no /%s to mount on", m)
		}
	}
	return nil
}
