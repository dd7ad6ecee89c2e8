package vmtest

// Booting a whole SD-card image on QEMU's emulated Raspberry Pi 3 B (-M raspi3b): the Pi's own
// kernel, device tree and SD card. QEMU has no Pi firmware, so package pifw plays its part
// from the card's boot partition (config.txt, cmdline.txt, the device tree the firmware picks,
// dtparam= and dtoverlay=); the Ethernet adapter is QEMU's usb-net, which the kernel names
// usb0 (cdc_ether), with forwarded UDP ports as on the virt machine.

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/pifw"
)

// PiOptions describe an emulated Pi booted from an image.
type PiOptions struct {
	// Image is the raw disk image: the SD card, written to by the guest. It is grown to
	// CardSize first, as if written to a card that large.
	Image string
	// CardSize is the card's size in bytes, a power of two (QEMU's SD card needs one); 0 is
	// the image's size rounded up to one.
	CardSize int64
	// NoWatchdog keeps the kernel's bcm2835-wdt driver from starting (see
	// pifw.EmulationOptions).
	NoWatchdog bool
	// ForwardUDP are guest UDP ports forwarded from free host ports on 127.0.0.1.
	ForwardUDP []int
	// ForwardTCP are guest TCP ports forwarded the same way: see VM.HostTCPAddr.
	ForwardTCP []int
	// StartTimeout bounds the wait for the first console byte of one boot; default 60s.
	StartTimeout time.Duration
	// QEMUArgs are appended to QEMU's command line.
	QEMUArgs []string
	// Attempts is how many times a boot is tried that prints nothing (about one in four of
	// this QEMU's raspi3b boots hangs before the kernel's first line) or, with ForwardUDP, whose
	// USB network adapter never appears; default 3.
	Attempts int
	// USBTimeout bounds the wait, with ForwardUDP, for the kernel to register usb0; default
	// 120s.
	USBTimeout time.Duration
}

// usbNetUp is the kernel's line for QEMU's usb-net adapter, bound by cdc_ether as usb0.
var usbNetUp = regexp.MustCompile(`usb0: register '`)

// StartPi boots the image on an emulated Raspberry Pi 3 B and returns once the guest has
// printed its first console byte and, with ForwardUDP, once the kernel has registered the USB
// network adapter those ports reach the guest through. It boots again when a boot stays silent
// or the adapter never appears: QEMU's emulated USB host controller (dwc2) sometimes times out
// under TCG while the kernel enumerates its hub ("hub_ext_port_status failed (err = -110)"),
// most often on a loaded host, and a real Pi's does not. The test's log gets what the firmware
// did (and what it did not: the settings the emulation cannot apply) and every boot that
// failed and why.
func StartPi(t testing.TB, o PiOptions) *VM {
	t.Helper()
	if _, err := exec.LookPath(qemuARM64); err != nil {
		skipOrFatal(t, qemuARM64+" not found: run `make vm-kernel`, which installs it")
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.Attempts == 0 {
		o.Attempts = 3
	}
	if o.USBTimeout == 0 {
		o.USBTimeout = 120 * time.Second
	}
	emu, err := pifw.NewEmulation(o.Image, pifw.Pi3B, pifw.EmulationOptions{CardSize: o.CardSize, NoWatchdog: o.NoWatchdog})
	if err != nil {
		t.Fatalf("emulated Pi: %v", err)
	}
	t.Cleanup(func() { emu.Close() })
	t.Logf("emulated %s, card %d MiB: %s", emu.Board.Model, emu.CardSize>>20, emu.Boot)
	var failed []string
	for attempt := 1; ; attempt++ {
		vm := newVM(t, o.ForwardUDP, o.ForwardTCP)
		args, err := emu.QEMUArgs("stdio", vm.netdev())
		if err != nil {
			t.Fatalf("emulated Pi: %v", err)
		}
		err = vm.start(qemuARM64, append(append(args, "-no-reboot"), o.QEMUArgs...), o.StartTimeout)
		switch {
		case err != nil && !errors.Is(err, errSilent):
			t.Fatalf("emulated Pi, boot %d of %d: %v", attempt, o.Attempts, err)
		case err != nil:
			failed = append(failed, fmt.Sprintf("boot %d: nothing in %v", attempt, o.StartTimeout))
		case len(o.ForwardUDP) > 0:
			if _, err := vm.WaitConsole(usbNetUp, o.USBTimeout); err != nil {
				failed = append(failed, fmt.Sprintf("boot %d: no usb0 in %v (%s)", attempt, o.USBTimeout, usbTrouble(vm.Console())))
				vm.Kill()
				break
			}
			fallthrough
		default:
			if len(failed) > 0 {
				t.Logf("emulated Pi: booted at attempt %d; before: %s", attempt, strings.Join(failed, "; "))
			}
			return vm
		}
		if attempt == o.Attempts {
			t.Fatalf("emulated Pi: no boot in %d attempts: %s", attempt, strings.Join(failed, "; "))
		}
	}
}

// usbTrouble is the kernel's last line on USB, such as the hub's error.
func usbTrouble(console string) string {
	last := "the kernel said nothing of USB"
	for _, l := range strings.Split(console, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") && (strings.Contains(l, "usb") || strings.Contains(l, "hub")) {
			last = l
		}
	}
	return last
}
