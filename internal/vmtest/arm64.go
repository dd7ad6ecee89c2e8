package vmtest

// Booting a whole SD-card image, as the Pi would, on QEMU's arm64 "virt" machine: the
// image's partitions are the guest's /dev/vda1..4, and the kernel is gokrazy's kernel.arm64
// (every driver the image needs built in), given to QEMU directly because virt has no Pi
// firmware to load the one on the boot partition.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// qemuARM64 is QEMU for the arm64 guests; make vm-kernel installs it (qemu-system-arm).
const qemuARM64 = "qemu-system-aarch64"

// arm64KernelModule is the Go module with the kernel the image tests boot.
const arm64KernelModule = "github.com/gokrazy/kernel.arm64"

// ImageOptions describes an arm64 guest booted from a disk image.
type ImageOptions struct {
	// Image is the raw disk image, attached as /dev/vda and written to by the guest.
	Image string
	// Kernel is the arm64 kernel Image; default: vmlinuz of the module
	// github.com/gokrazy/kernel.arm64 at the version go.mod pins (see ARM64Kernel).
	Kernel string
	// Cmdline is the kernel command line; default ImageCmdline.
	Cmdline string
	// ForwardUDP are guest UDP ports (on the guest's 10.0.2.15) forwarded from free host
	// ports on 127.0.0.1: see VM.HostPort.
	ForwardUDP []int
	// ForwardTCP are guest TCP ports forwarded the same way: see VM.HostTCPAddr.
	ForwardTCP []int
	// Memory is QEMU's -m; default "512M".
	Memory string
	// StartTimeout bounds the wait for the first console byte; default 60s.
	StartTimeout time.Duration
	// DriveOptions are added to the disk's -drive option, such as
	// "throttling.bps-write=25165824" for a disk that writes at an SD card's pace.
	DriveOptions string
	// QEMUArgs are added to QEMU's command line: "-device", "i6300esb" for a watchdog.
	QEMUArgs []string
	// QMP connects to QEMU's machine protocol, for its events (see Options.QMP).
	QMP bool
}

// ImageCmdline is the kernel command line of an image booted in QEMU: the root on the
// image's second partition, pigw as init, and no reboot on panic (QEMU runs with
// -no-reboot, so the test sees the panic and QEMU exits).
const ImageCmdline = "console=ttyAMA0 root=/dev/vda2 rootfstype=squashfs init=/pigw rootwait panic=-1"

// ARM64Kernel returns the path of kernel.arm64's vmlinuz in the module cache, or skips the
// test (fails it under CI) when the module is not downloaded (the go command fetches it
// when it builds the tests, which import it).
func ARM64Kernel(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", arm64KernelModule).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		skipOrFatal(t, fmt.Sprintf("%s is not in the module cache (%v): run `go mod download %s`", arm64KernelModule, err, arm64KernelModule))
	}
	k := filepath.Join(dir, "vmlinuz")
	if _, err := os.Stat(k); err != nil {
		skipOrFatal(t, fmt.Sprintf("%s: %v", arm64KernelModule, err))
	}
	return k
}

// StartImage boots an arm64 guest from o.Image under TCG and returns once the guest has
// printed its first console byte; see Start for the cleanup and failure reports.
func StartImage(t testing.TB, o ImageOptions) *VM {
	t.Helper()
	o.complete(t)
	vm := newVM(t, o.ForwardUDP, o.ForwardTCP)
	vm.launch(qemuARM64, vm.imageArgs(o), o.StartTimeout)
	return vm
}

// complete fills in the defaults.
func (o *ImageOptions) complete(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(qemuARM64); err != nil {
		skipOrFatal(t, qemuARM64+" not found: run `make vm-kernel`, which installs it")
	}
	if o.Kernel == "" {
		o.Kernel = ARM64Kernel(t)
	}
	if o.Cmdline == "" {
		o.Cmdline = ImageCmdline
	}
	if o.Memory == "" {
		o.Memory = "512M"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
}

// imageArgs is QEMU's command line for o.
func (vm *VM) imageArgs(o ImageOptions) []string {
	drive := "file=" + o.Image + ",if=virtio,format=raw"
	if o.DriveOptions != "" {
		drive += "," + o.DriveOptions
	}
	args := []string{
		"-M", "virt", "-cpu", "cortex-a72", "-accel", "tcg",
		"-m", o.Memory,
		"-nodefaults", "-no-user-config", "-display", "none",
		"-serial", "stdio",
		"-no-reboot",
		"-kernel", o.Kernel,
		"-append", o.Cmdline,
		"-drive", drive,
		"-netdev", vm.netdev(),
		"-device", "virtio-net-pci,netdev=n0,romfile=",
	}
	if o.QMP {
		args = append(args, vm.qmpArgs()...)
	}
	return append(args, o.QEMUArgs...)
}
