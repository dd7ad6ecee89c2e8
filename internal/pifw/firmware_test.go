package pifw

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// kernelRPi returns the directory of gokrazy's Raspberry Pi kernel module (go.mod pins it):
// the device trees and overlays the image carries, which these tests read as the firmware
// would.
func kernelRPi(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/gokrazy/kernel.rpi").Output()
	var m struct{ Dir string }
	if err != nil || json.Unmarshal(out, &m) != nil || m.Dir == "" {
		t.Fatalf("go mod download github.com/gokrazy/kernel.rpi: %v %s", err, out)
	}
	return m.Dir
}

// card is a boot partition: the image's config.txt and cmdline.txt (as pigw image build
// writes them) with extra config.txt lines, the Pi 3 B's device tree and some overlays.
func card(t *testing.T, extraConfig string) fstest.MapFS {
	t.Helper()
	dir := kernelRPi(t)
	read := func(name string) *fstest.MapFile {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return &fstest.MapFile{Data: b}
	}
	return fstest.MapFS{
		"config.txt":                {Data: []byte("arm_64bit=1\nkernel=vmlinuz\nenable_uart=1\ngpu_mem=16\ndisable_splash=1\n" + extraConfig)},
		"cmdline.txt":               {Data: []byte("console=tty1 console=serial0,115200 root=PARTUUID=8c4bb508-02 rootfstype=squashfs init=/pigw rootwait panic=10\n")},
		"vmlinuz":                   {Data: []byte("kernel")},
		"bcm2710-rpi-3-b.dtb":       read("bcm2710-rpi-3-b.dtb"),
		"overlays/disable-bt.dtbo":  read("overlays/disable-bt.dtbo"),
		"overlays/w1-gpio.dtbo":     read("overlays/w1-gpio.dtbo"),
		"overlays/miniuart-bt.dtbo": read("overlays/miniuart-bt.dtbo"),
	}
}

// fdtget reads a property of a device tree blob with dtc's fdtget, a reader independent of
// this package.
func fdtget(t *testing.T, dtb []byte, args ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "t.dtb")
	if err := os.WriteFile(f, dtb, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("fdtget", append([]string{f}, args...)...).CombinedOutput()
	if err != nil {
		return "error: " + strings.TrimSpace(string(out))
	}
	return strings.TrimSpace(string(out))
}

func requireDTC(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"fdtget", "fdtoverlay"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s missing: make test-deps installs device-tree-compiler", tool)
			}
			t.Skipf("%s missing: apt-get install device-tree-compiler", tool)
		}
	}
}

func TestPreparePi3B(t *testing.T) {
	requireDTC(t)
	for _, c := range []struct {
		name, config string
		console      string
		uart         UART
		props        [][]string // fdtget arguments and the value expected
		note         string     // a note expected, if any
	}{
		{name: "image as built", console: "ttyS0", uart: MiniUART,
			props: [][]string{{"/", "model", "Raspberry Pi 3 Model B Rev 1.2"}, {"-t", "x", "/system", "linux,revision", "a02082"},
				{"/soc/i2c@7e804000", "status", "disabled"}},
			note: "config.txt:4: gpu_mem=16 has no effect under emulation"},
		{name: "disable-bt puts serial0 on the PL011", config: "dtoverlay=disable-bt\n", console: "ttyAMA0", uart: PL011,
			props: [][]string{{"/aliases", "serial0", "/soc/serial@7e201000"}}},
		{name: "miniuart-bt likewise", config: "dtoverlay=miniuart-bt\n", console: "ttyAMA0", uart: PL011},
		{name: "dtparam i2c_arm", config: "dtparam=i2c_arm=on,i2c_arm_baudrate=400000\n", console: "ttyS0", uart: MiniUART,
			props: [][]string{{"/soc/i2c@7e804000", "status", "okay"}, {"/soc/i2c@7e804000", "clock-frequency", "400000"}}},
		{name: "overlay with a parameter", config: "dtoverlay=w1-gpio,gpiopin=17\n", console: "ttyS0", uart: MiniUART,
			props: [][]string{{"/onewire@0", "gpios", "7 17 0"}}},
		{name: "a later dtparam belongs to the overlay", config: "dtoverlay=w1-gpio\ndtparam=gpiopin=22\ndtoverlay=\ndtparam=i2c_arm=on\n", console: "ttyS0", uart: MiniUART,
			props: [][]string{{"/onewire@0", "gpios", "7 22 0"}, {"/soc/i2c@7e804000", "status", "okay"}}},
		{name: "sections of other boards are skipped", config: "[pi4]\ndtoverlay=disable-bt\n[pi3]\ndtparam=i2c_arm=on\n[all]\n", console: "ttyS0", uart: MiniUART,
			props: [][]string{{"/soc/i2c@7e804000", "status", "okay"}}},
		{name: "board-type filter", config: "[board-type=0x8]\ndtoverlay=disable-bt\n[board-type=0x11]\ndtparam=i2c_arm=on\n", console: "ttyAMA0", uart: PL011,
			props: [][]string{{"/soc/i2c@7e804000", "status", "disabled"}}},
		{name: "none", config: "[none]\ndtoverlay=disable-bt\n[all]\n", console: "ttyS0", uart: MiniUART},
		{name: "unknown filter", config: "[gpio4=1]\ndtoverlay=disable-bt\n", console: "ttyS0", uart: MiniUART,
			note: "config.txt:6: filter [gpio4=1] is not emulated: its lines are skipped"},
		{name: "unknown parameter", config: "dtparam=i2c_bogus=on\n", console: "ttyS0", uart: MiniUART,
			note: "config.txt:6: dtparam i2c_bogus: not a parameter of this device tree"},
		{name: "missing overlay", config: "dtoverlay=nosuch\n", console: "ttyS0", uart: MiniUART,
			note: "config.txt:6: dtoverlay=nosuch not applied: open overlays/nosuch.dtbo: file does not exist"},
		{name: "unemulated declaration", config: "dtparam=audio=on\n", console: "ttyS0", uart: MiniUART,
			note: "bootargs{on="},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := Prepare(card(t, c.config), Pi3B)
			if err != nil {
				t.Fatal(err)
			}
			if b.Console != c.console || b.ConsoleUART != c.uart {
				t.Errorf("console %s on %v, want %s on %v", b.Console, b.ConsoleUART, c.console, c.uart)
			}
			if b.Kernel != "vmlinuz" {
				t.Errorf("kernel %q", b.Kernel)
			}
			want := "coherent_pool=1M 8250.nr_uarts=1 snd_bcm2835.enable_headphones=0 cgroup_disable=memory console=tty1 console=" + c.console + ",115200 root=PARTUUID=8c4bb508-02"
			if !strings.HasPrefix(b.Cmdline, want) {
				t.Errorf("command line\n%s\nwant it to start with\n%s", b.Cmdline, want)
			}
			if got := fdtget(t, b.DTB, "/chosen", "bootargs"); got != b.Cmdline {
				t.Errorf("/chosen/bootargs %q, want the command line", got)
			}
			for _, p := range c.props {
				if got := fdtget(t, b.DTB, p[:len(p)-1]...); got != p[len(p)-1] {
					t.Errorf("fdtget %v = %q, want %q", p[:len(p)-1], got, p[len(p)-1])
				}
			}
			if c.note != "" && !strings.Contains(strings.Join(b.Notes, "\n"), c.note) {
				t.Errorf("notes lack %q:\n%s", c.note, strings.Join(b.Notes, "\n"))
			}
		})
	}
}

func TestPrepareErrors(t *testing.T) {
	requireDTC(t)
	for _, c := range []struct{ name, config, want string }{
		{"32-bit", "arm_64bit=0\n", "arm_64bit=1 is missing"},
		{"no kernel", "kernel=nosuch.img\n", "open nosuch.img: file does not exist"},
		{"include loop", "include config.txt\n", "includes nested too deep"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := card(t, c.config)
			_, err := Prepare(fs, Pi3B)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	fs := card(t, "")
	fs["config.txt"] = &fstest.MapFile{Data: bytes.ReplaceAll(fs["config.txt"].Data, []byte("enable_uart=1"), []byte("enable_uart=0"))}
	b, err := Prepare(fs, Pi3B)
	if err != nil {
		t.Fatal(err)
	}
	if b.Console != "tty1" || !strings.Contains(strings.Join(b.Notes, "\n"), "no serial console") {
		t.Errorf("enable_uart=0: console %q, notes %v", b.Console, b.Notes)
	}
}

// TestFDTRoundTrip: every device tree and overlay of the Pi kernel reads and writes back to
// the same tree, and dtc reads what is written.
func TestFDTRoundTrip(t *testing.T) {
	requireDTC(t)
	dir := kernelRPi(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.dtb"))
	ovs, _ := filepath.Glob(filepath.Join(dir, "overlays", "*.dtbo"))
	files = append(files, ovs...)
	if len(files) < 100 {
		t.Fatalf("only %d device trees in %s", len(files), dir)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := ParseFDT(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		again, err := ParseFDT(tr.Bytes())
		if err != nil || !reflect.DeepEqual(tr, again) {
			t.Fatalf("%s: not the same tree after writing: %v", filepath.Base(f), err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "bcm2710-rpi-3-b.dtb"))
	tr, _ := ParseFDT(b)
	if got := fdtget(t, tr.Bytes(), "/", "model"); got != "Raspberry Pi 3 Model B" {
		t.Errorf("fdtget model of the written tree: %q", got)
	}
	for _, bad := range [][]byte{nil, []byte("not a dtb at all, not at all"), b[:100], append(bytes.Clone(b[:40]), make([]byte, 100)...)} {
		if _, err := ParseFDT(bad); err == nil {
			t.Errorf("ParseFDT(%d bytes of junk): no error", len(bad))
		}
	}
}
