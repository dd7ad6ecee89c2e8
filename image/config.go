package image

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pigw/pigw/appliance/config"
)

// The files the builder writes itself: the firmware's config.txt and the kernel's
// cmdline.txt on the boot partition, the image's /etc/pigw.yaml, and a commented pigw.yaml
// for the boot partition when the user gives none.

// configTxt is config.txt for the Pi firmware, with the overlays' fragments appended after
// an [all] section, so that a conditional section in the base cannot swallow them.
func configTxt(fragments []fragment) string {
	var b strings.Builder
	b.WriteString(`# config.txt: read by the Raspberry Pi firmware at power-on.
# Written by pigw image build; the fragments of --overlay directories follow at the end.

# Start the CPU in 64-bit mode with the kernel on this partition.
arm_64bit=1
kernel=vmlinuz
# A serial console on the GPIO header: TX is pin 8, RX pin 10, 115200 baud.
enable_uart=1
# pigw draws nothing: the least memory for the GPU, no rainbow splash.
gpu_mem=16
disable_splash=1
`)
	for _, f := range fragments {
		fmt.Fprintf(&b, "\n[all]\n# from %s\n%s", f.name, f.text)
		if !strings.HasSuffix(f.text, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// A fragment is an overlay's boot/config.txt.
type fragment struct{ name, text string }

// cmdlineTxt boots the root A squashfs with pigw as init. The serial port comes last, so that
// it is /dev/console: the kernel writes to both, pigw mirrors its log to both, but keys (Ctrl-\
// for a goroutine dump) are read from /dev/console, and a headless gateway is debugged over
// its serial port.
func cmdlineTxt(diskID uint32, partition int) string {
	return fmt.Sprintf("console=tty1 console=serial0,115200 root=PARTUUID=%s rootfstype=squashfs init=/pigw rootwait panic=10\n",
		partUUID(diskID, partition))
}

// trybootTxt is what the Pi 4 and 5 firmware reads instead of config.txt once, after a reboot
// with the argument "0 tryboot": config.txt's settings, then the trial's command line, whose
// root= an update points at the slot on trial (trycmd.txt, cmdlineTxt of root B until then).
// The name is 8.3 so that the device finds it by its short name.
const trybootTxt = `# tryboot.txt: read by the Pi 4 and 5 firmware instead of config.txt for one boot, after
# pigw applied an update (reboot "0 tryboot"). Written by pigw image build.
include config.txt
[all]
cmdline=trycmd.txt
`

// etcConfig is the image's /etc/pigw.yaml: what a Pi needs on top of the built-in defaults.
// wifiModules are the WiFi driver's modules that the kernel has as modules (not built in).
func etcConfig(wifiModules []string) string {
	var b strings.Builder
	b.WriteString(`# /etc/pigw.yaml: the defaults of this image, written by pigw image build.
# pigw.yaml on the boot partition is laid over it: write only what to change there.
coap:
  service_discovery: true  # answer multicast GET /.well-known/core
system:
  hostname: pigw
`)
	if len(wifiModules) > 0 {
		fmt.Fprintf(&b, "  modules: [%s]  # the Pi's WiFi: brcmfmac and its chip vendors' parts\n", strings.Join(wifiModules, ", "))
	}
	b.WriteString(`network:
  # DHCP on every wired link that appears, whatever the kernel names it: eth0, enx...,
  # usb0 (a USB Ethernet adapter; a Zero 2 W's dongle or gadget mode); and on the WiFi.
  # An interfaces list in the boot partition's pigw.yaml replaces this one.
  interfaces:
    - {name: "eth*", dhcp: true}
    - {name: "en*", dhcp: true}
    - {name: "usb*", dhcp: true}
    - {name: wlan0, dhcp: true}
wifi:
  interface: wlan0
  backend: auto  # wpa_supplicant when the root has it (make image WPA_SUPPLICANT=1), else nl80211
`)
	return b.String()
}

// starterConfig is the boot partition's pigw.yaml when the user gives none: all comments, so
// the image's defaults hold until it is edited. Its first line has editors with the YAML
// language server check it against pigw.schema.json beside it.
const starterConfig = config.Modeline + `
# pigw.yaml: the configuration of this pigw gateway. Edit it on the SD card's
# boot partition from any computer; pigw reads it at boot. It is laid over the
# image's /etc/pigw.yaml: wired links and WiFi by DHCP, CoAP discovery on.
# An editor with the YAML language server (VS Code's YAML extension, for one)
# completes and checks the keys as you type, from pigw.schema.json beside it.
#
# To join a WiFi network, remove the '# ' of these lines and fill them in:
#
# wifi:
#   country: DE  # where the Pi is: two letters (ISO 3166-1)
#   networks:
#     - {ssid: home, psk: "the passphrase"}
#
# Sensors and GPIO pins, served as /sensors/<name> and /gpio/<name>:
#
# sensors:
#   - {name: room, kind: bme280}  # I2C bus 1, address 0x76; build with --overlay overlays/i2c
# gpio:
#   - {name: led, pin: GPIO27, direction: out}
`

// bootConfigFile is the boot partition's pigw.yaml made of the user's file: the file as it
// is, after the modeline when it has none of its own.
func bootConfigFile(user []byte) []byte {
	head := user
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	if bytes.HasPrefix(bytes.TrimSpace(head), []byte("# yaml-language-server:")) {
		return user
	}
	return append([]byte(config.Modeline+"\n"), user...)
}

// overlayName is how progress and config.txt name an overlay directory.
func overlayName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return "overlay " + filepath.Base(abs)
	}
	return "overlay " + dir
}
