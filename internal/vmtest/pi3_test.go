package vmtest

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/image"
)

// These tests boot the image that `pigw image build` writes on QEMU's emulated Raspberry Pi
// 3 B: the Pi kernel and the device tree from the card's own boot partition (the firmware's
// part played by package pifw), the SD card, the BCM2835 GPIO block, its thermal sensor and
// power manager, and QEMU's usb-net as the Ethernet adapter (usb0). QEMU 7.2 has no I2C
// controller, no WiFi chip, and no watchdog countdown on this machine: arming the watchdog
// resets it at once (TestPi3WatchdogResetsTheEmulation), so the card's pigw.yaml turns the
// watchdog off.

// pi3Config is what the tests write to the card's pigw.yaml: the watchdog off (see above),
// nothing about the network, which stays the image's.
const pi3Config = "system:\n  watchdog: false\n"

// pi3EditedConfig adds, from the user's side, to what the virt test's user writes (a
// resource, dynamic resources, a DTLS admin): an output and an input on the Pi's own GPIO
// block, and the SoC's temperature sensor.
const pi3EditedConfig = pi3Config + editedConfig + `gpio:
  - {name: led, pin: GPIO27, direction: out, restart: last}
  - {name: button, pin: GPIO22, direction: in, pull: up, edge: none}
sensors:
  - {name: soc, kind: soc, interval: 2s}
`

func pi3FirstAnswer(t *testing.T, vm *VM, s *coap.Session) {
	t.Helper()
	r := until(t, s, coap.NewRequest(coap.GET, ".well-known/core"), 240*time.Second)
	if r.Code != coap.Content || !strings.HasPrefix(string(r.Payload), "</") {
		t.Fatalf("/.well-known/core: %v %q", r.Code, r.Payload)
	}
	t.Logf("first CoAP answer over usb0 %v after QEMU started (raspi3b under TCG)", vm.Since().Round(100*time.Millisecond))
}

func getText(t *testing.T, s *coap.Session, path string) (coap.Code, string) {
	t.Helper()
	r := until(t, s, coap.NewRequest(coap.GET, path), 20*time.Second)
	return r.Code, string(r.Payload)
}

// TestPi3Image: the image on the emulated Pi 3 B, with its own network configuration: the
// first answer over usb0, the board named from the device tree, the card grown to fill a
// larger card; then, with pigw.yaml and config.txt edited on the card, a resource of the
// user's, the Pi's GPIO and temperature sensor, a dynamic resource across /sys/reboot.
func TestPi3Image(t *testing.T) {
	img, res := builtImage(t)
	replaceBootFile(t, img, res, "pigw.yaml", pi3Config)

	vm := StartPi(t, PiOptions{Image: img, CardSize: 2 << 30, ForwardUDP: []int{5683}, ForwardTCP: []int{80}})
	s := session(t, vm, false)
	pi3FirstAnswer(t, vm, s)
	waitFor(t, vm, `msg="DHCP lease" link=usb0 address=10\.0\.2\.15`, 30*time.Second)
	// The card is larger than the image: /perm grows to its end, while pigw serves.
	waitFor(t, vm, `msg="growing /perm" device=/dev/mmcblk0p4 from=252MiB to=\d+MiB disk=/dev/mmcblk0 disk_size=2048MiB`, 10*time.Second)
	t.Logf("%s", waitFor(t, vm, `msg="/perm grown" device=/dev/mmcblk0p4 size=\d+MiB took=\S+`, 120*time.Second))
	r := until(t, s, coap.NewRequest(coap.GET, "sys/info"), 20*time.Second)
	var info struct {
		Board    string
		Watchdog struct{ Identity, State string }
	}
	if err := json.Unmarshal(r.Payload, &info); err != nil {
		t.Fatalf("/sys/info %q: %v", r.Payload, err)
	}
	t.Logf("/sys/info: %s", r.Payload)
	if info.Board != "Raspberry Pi 3 Model B Rev 1.2" {
		t.Errorf("/sys/info board %q", info.Board)
	}
	// The SoC's watchdog is there (bcm2835-wdt), and pigw left it closed as told.
	if !strings.Contains(info.Watchdog.Identity, "BCM2835") || info.Watchdog.State != "inactive" {
		t.Errorf("/sys/info watchdog %+v: want the BCM2835's, inactive", info.Watchdog)
	}
	waitFor(t, vm, `msg="hardware watchdog not used: system.watchdog is false"`, 5*time.Second)
	// The status page on the Pi's port 80, with the board the emulated firmware wrote.
	if st := checkStatusPage(t, vm, "usb0"); st.System.Board != info.Board {
		t.Errorf("status page board %q, want %q as /sys/info", st.System.Board, info.Board)
	}
	vm.Kill() // a power cut

	// The user edits the card: pigw.yaml, and config.txt moves the serial console to the
	// PL011 (dtoverlay=disable-bt), which the emulated firmware applies.
	replaceBootFile(t, img, res, "pigw.yaml", pi3EditedConfig)
	appendBootFile(t, img, res, "config.txt", "\n[all]\ndtoverlay=disable-bt\n")
	vm = StartPi(t, PiOptions{Image: img, ForwardUDP: []int{5683, 5684}})
	s = session(t, vm, false)
	pi3FirstAnswer(t, vm, s)
	if _, err := vm.WaitConsole(regexp.MustCompile(`Kernel command line: .*console=ttyAMA0,115200`), time.Second); err != nil {
		t.Errorf("dtoverlay=disable-bt: the console is not on the PL011 (ttyAMA0): %v", err)
	}
	if code, v := getText(t, s, "greenhouse"); code != coap.Content || v != "tomatoes" {
		t.Errorf("GET /greenhouse from the edited pigw.yaml: %v %q", code, v)
	}
	// GPIO27 is driven through the kernel's character device (pinctrl-bcm2835) and read back
	// through it; QEMU's GPIO block reports the level an output drives.
	waitFor(t, vm, `msg="GPIO output" name=led pin="GPIO27 on /dev/gpiochip0" level=0`, 10*time.Second)
	for _, v := range []string{"1", "0", "toggle"} {
		put := coap.NewRequest(coap.PUT, "gpio/led")
		put.Payload = []byte(v)
		want := map[string]string{"1": "1", "0": "0", "toggle": "1"}[v]
		if r := until(t, s, put, 10*time.Second); r.Code != coap.Changed || string(r.Payload) != want {
			t.Errorf("PUT /gpio/led %s: %v %q, want 2.04 %q", v, r.Code, r.Payload, want)
		}
		if code, got := getText(t, s, "gpio/led"); code != coap.Content || got != want {
			t.Errorf("GET /gpio/led after PUT %s: %v %q, want %q", v, code, got, want)
		}
	}
	if code, v := getText(t, s, "gpio/button"); code != coap.Content || (v != "0" && v != "1") {
		t.Errorf("GET /gpio/button: %v %q", code, v)
	}
	// The BCM2835's thermal block as QEMU emulates it.
	var temp float64
	for deadline := time.Now().Add(30 * time.Second); ; {
		code, v := getText(t, s, "sensors/soc/temperature")
		f := strings.Fields(v)
		if code == coap.Content && len(f) > 0 {
			temp, _ = strconv.ParseFloat(f[0], 64)
			t.Logf("GET /sensors/soc/temperature: %s", v)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /sensors/soc/temperature: %v %q", code, v)
		}
		time.Sleep(time.Second)
	}
	if temp < 10 || temp > 90 {
		t.Errorf("SoC temperature %v °C is not plausible", temp)
	}
	put := coap.NewRequest(coap.PUT, "made/on/the/pi")
	put.Payload = []byte("first boot")
	if r := until(t, s, put, 10*time.Second); r.Code.String() != "2.01" {
		t.Fatalf("PUT /made/on/the/pi: %v %q", r.Code, r.Payload)
	}
	if r := until(t, session(t, vm, true), coap.NewRequest(coap.POST, "sys/reboot"), 30*time.Second); r.Code != coap.Changed {
		t.Fatalf("POST /sys/reboot: %v %q", r.Code, r.Payload)
	}
	if err := vm.Wait(90 * time.Second); err != nil { // -no-reboot: QEMU exits where the Pi reboots
		t.Fatalf("QEMU did not stop after /sys/reboot: %v", err)
	}
	// Seen from the host, as a card reader would: partition 4 to the card's end, /perm clean.
	perm := res.Partitions[3]
	if got, want := partitionSectors(t, "sfdisk", img, 4), (2<<30-perm.Start)/512; got != want {
		t.Errorf("sfdisk: partition 4 has %d sectors, want %d (to the end of the 2 GiB card)", got, want)
	}
	if out, err := exec.Command("e2fsck", "-fn", fmt.Sprintf("%s?offset=%d", img, perm.Start)).CombinedOutput(); err != nil {
		t.Errorf("e2fsck -fn /perm: %v\n%s", err, out)
	}

	vm = StartPi(t, PiOptions{Image: img, ForwardUDP: []int{5683}})
	s = session(t, vm, false)
	pi3FirstAnswer(t, vm, s)
	if code, v := getText(t, s, "made/on/the/pi"); code != coap.Content || v != "first boot" {
		t.Errorf("after the reboot, GET /made/on/the/pi: %v %q", code, v)
	}
	if code, v := getText(t, s, "gpio/led"); code != coap.Content || v != "1" {
		t.Errorf("after the reboot, GET /gpio/led: %v %q", code, v)
	}
}

// appendBootFile adds text to a file of the card's boot partition, with mtools.
func appendBootFile(t *testing.T, img string, res *image.Result, name, text string) {
	t.Helper()
	at := img + "@@" + strconv.FormatInt(res.Partitions[0].Start, 10)
	old, err := exec.Command("mtype", "-i", at, "::"+name).Output()
	if err != nil {
		t.Fatalf("mtype %s: %v", name, err)
	}
	replaceBootFile(t, img, res, name, string(old)+text)
}

// TestPi3WatchdogResetsTheEmulation shows why the other raspi3b tests turn the watchdog off:
// with the image's default (system.watchdog on), pigw opens /dev/watchdog (bcm2835-wdt),
// which arms it, and QEMU's BCM2835 power manager takes the arming write (a full reset
// configured in PM_RSTC) as a reset at once, where the hardware would count PM_WDOG down;
// under -no-reboot QEMU then exits. A real Pi counts down, and pigw's pings keep it from
// firing. Should a later QEMU count down too, this test fails and the tests can keep the
// watchdog on.
func TestPi3WatchdogResetsTheEmulation(t *testing.T) {
	img, _ := builtImage(t)
	vm := StartPi(t, PiOptions{Image: img, QEMUArgs: []string{"-d", "unimp"}})
	// The reset also drops what the UART had not sent yet, pigw's last lines among them: the
	// kernel's own line says pigw started.
	if _, err := vm.WaitConsole(regexp.MustCompile(`Run /pigw as init process`), 240*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("the emulated Pi still runs with the watchdog armed: %v", err)
	}
	if strings.Contains(vm.Console(), `msg="hardware watchdog armed"`) {
		t.Errorf("pigw armed and pinged the watchdog: the emulation survived it")
	}
	if !strings.Contains(vm.stderr.String(), "bcm2835_powermgt_write: WDOG") {
		t.Errorf("QEMU did not log the watchdog's arming write:\n%s", vm.stderr.String())
	}
	t.Logf("QEMU reset (and, under -no-reboot, exited) when pigw opened /dev/watchdog, %v after it started", vm.Since().Round(100*time.Millisecond))
}
