package vmtest

// Guests of two architectures: amd64 (the default) with Debian's amd64 kernel, and arm64 on
// QEMU's virt machine with Debian's arm64 kernel, for programs that exist only as the Pi runs
// them, such as the image's own pigw and its Debian arm64 wpa_supplicant. Both kernels come
// from fetch-kernel.sh (make vm-kernel) and have the same modules (virtio, ext4, vfat,
// mac80211_hwsim...), so a test changes Options.Arch and its programs, nothing else.

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
)

// DefaultARM64Dir is where fetch-kernel.sh puts the arm64 kernel (and the arm64 WiFi lab's
// programs, in tools/root) when PIGW_VM_ARM64_DIR is unset.
const DefaultARM64Dir = "/var/cache/pigw-vm-arm64"

// guestArch is what differs between the architectures of the guests.
type guestArch struct {
	goarch     string
	qemu       string
	machine    []string // QEMU's machine and CPU
	console    string   // the kernel's serial console
	dirEnv     string   // the variable that names the kernel directory
	defaultDir string
	elf        elf.Machine
}

var guestArches = map[string]*guestArch{
	"amd64": {goarch: "amd64", qemu: qemuBinary, console: "ttyS0",
		machine: []string{"-cpu", "max"}, // RDRAND: the guest's RNG is ready at once
		dirEnv:  "PIGW_VM_KERNEL_DIR", defaultDir: DefaultKernelDir, elf: elf.EM_X86_64},
	"arm64": {goarch: "arm64", qemu: qemuARM64, console: "ttyAMA0",
		machine: []string{"-M", "virt", "-cpu", "cortex-a72"},
		dirEnv:  "PIGW_VM_ARM64_DIR", defaultDir: DefaultARM64Dir, elf: elf.EM_AARCH64},
}

// archOf returns the guest architecture Options.Arch names ("" is amd64).
func archOf(t testing.TB, name string) *guestArch {
	t.Helper()
	if name == "" {
		name = "amd64"
	}
	a := guestArches[name]
	if a == nil {
		t.Fatalf("vmtest: Options.Arch %q: want amd64 or arm64", name)
	}
	return a
}

// kernelDir is the directory fetch-kernel.sh fills for the architecture.
func (a *guestArch) kernelDir() string {
	if dir := os.Getenv(a.dirEnv); dir != "" {
		return dir
	}
	return a.defaultDir
}

// requireKernelFor returns the architecture's kernel, or skips (fails under CI) when its
// QEMU or the kernel is missing.
func requireKernelFor(t testing.TB, a *guestArch) *kernel {
	t.Helper()
	if _, err := exec.LookPath(a.qemu); err != nil {
		skipOrFatal(t, a.qemu+" not found: run `make vm-kernel`, which installs it")
	}
	k, err := readKernel(a.kernelDir())
	if err != nil {
		skipOrFatal(t, fmt.Sprintf("%v (%s kernel; %s chooses the directory)", err, a.goarch, a.dirEnv))
	}
	return k
}

// checkInit makes sure an ELF init program runs on the guest's architecture. Anything else
// (a script, junk) is the kernel's to accept or refuse, as tests of a failing init want.
func (a *guestArch) checkInit(path string) error {
	r, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("Options.Init: %w", err)
	}
	head := make([]byte, 4)
	_, _ = io.ReadFull(r, head)
	r.Close()
	if string(head) != "\x7fELF" {
		return nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("Options.Init %s: %w", path, err)
	}
	defer f.Close()
	if f.Machine != a.elf {
		return fmt.Errorf("Options.Init %s is built for %v; the %s guest runs %v programs (GOARCH=%s)", path, f.Machine, a.goarch, a.elf, a.goarch)
	}
	return nil
}
