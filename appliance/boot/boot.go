// Package boot does what PID 1 must do before the appliance can run, and what it must do
// when the machine stops: mount the kernel's filesystems, find and mount /perm (the writable
// state) and the boot partition (the user's pigw.yaml), load kernel modules, set the host
// name, bring up lo, reap orphans, ping the hardware watchdog, and reboot or power off cleanly.
//
// Every step reports what went wrong and the boot goes on: an appliance with no /perm still
// serves its resources from memory and says why in its log, instead of stopping at a prompt
// nobody can see.
package boot

import (
	"log/slog"
	"os"
	"strings"
)

// Path is PID 1's PATH (the kernel gives init none): where the appliance finds the programs
// it runs, wpa_supplicant among them, and where the image builder looks for them too.
const Path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Paths where the appliance finds its disks.
const (
	PermDir = "/perm"
	BootDir = "/boot"
)

// Result is what Setup found.
type Result struct {
	Perm    string // PermDir when /perm is mounted read-write, else ""
	PermDev string // the device mounted at /perm
	PermErr error  // why /perm is not there
	Boot    string // BootDir when the boot partition is mounted read-only, else ""
	BootErr error
}

// Setup mounts the essentials, loads the storage modules and mounts /perm and the boot
// partition. It never fails: what did not work is in the Result and in the log.
func Setup(log *slog.Logger) Result {
	for _, err := range mountEssentials() {
		log.Error("mount", "err", err)
	}
	if err := loadPresent(log, storageModules...); err != nil {
		log.Warn("storage modules", "err", err)
	}
	var r Result
	if r.PermDev, r.PermErr = mountPerm(log); r.PermErr == nil {
		r.Perm = PermDir
	} else {
		log.Error("no /perm: written values and dynamic resources are kept in memory only until the next boot", "err", r.PermErr)
	}
	if r.BootErr = mountBoot(log); r.BootErr == nil {
		r.Boot = BootDir
	} else {
		log.Warn("no boot partition: pigw.yaml is read from /etc only", "err", r.BootErr)
	}
	return r
}

// Cmdline returns the kernel command line's name=value words (PID 1 also gets them as
// environment variables, but only those without dots).
func Cmdline() map[string]string {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return nil
	}
	args := map[string]string{}
	for _, f := range strings.Fields(string(b)) {
		k, v, _ := strings.Cut(f, "=")
		args[k] = v
	}
	return args
}
