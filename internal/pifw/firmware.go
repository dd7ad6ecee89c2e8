// Package pifw plays the Raspberry Pi firmware's part for QEMU's emulated Pi, which has no
// firmware of its own: QEMU's raspi3b machine loads a kernel and a device tree it is given and
// starts them, where a real Pi's firmware (start.elf) reads config.txt from the SD card's boot
// partition, picks the board's device tree, applies dtparam= and dtoverlay= lines, fills in
// what it knows of the board (its model with the revision, its serial number), and builds the
// kernel's command line from the device tree's bootargs and cmdline.txt, turning
// console=serial0 into the UART that the board wires to the GPIO header.
//
// Doing the same from the card's own files means the emulated Pi boots the image as it is,
// and nothing types a kernel command line by hand. What the firmware would do that this
// package does not is named in Boot.Notes, line by line, never silently skipped.
package pifw

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Board is an emulated Raspberry Pi model.
type Board struct {
	Model        string   // the device tree's model as the firmware completes it
	Revision     uint32   // the board revision code (new style)
	Serial       uint64   // the serial number the firmware reports
	DTB          string   // the device tree the firmware picks for a 64-bit kernel
	ModelFilters []string // the config.txt [filters] this board matches
	Machine      string   // QEMU's -M
	Memory       string   // QEMU's -m: the board's RAM (QEMU's raspi machines insist on it)
}

// Pi3B is the Raspberry Pi 3 Model B, rev 1.2 (Sony UK, 1 GB), as QEMU's raspi3b emulates it.
var Pi3B = Board{
	Model:        "Raspberry Pi 3 Model B Rev 1.2",
	Revision:     0xa02082,
	Serial:       0x00000000c0ffee03,
	DTB:          "bcm2710-rpi-3-b.dtb",
	ModelFilters: []string{"pi3"},
	Machine:      "raspi3b",
	Memory:       "1G",
}

// Type is the board type field of the revision code ([board-type=] filters).
func (b Board) Type() uint32 { return (b.Revision >> 4) & 0xff }

func (b Board) hasModelFilter(f string) bool { return slices.Contains(b.ModelFilters, f) }

// UART is one of the SoC's serial ports, in QEMU's order of -serial options.
type UART int

const (
	PL011    UART = 0 // uart0, the full UART (Bluetooth on a Pi 3 B unless an overlay moves it)
	MiniUART UART = 1 // uart1, the mini UART (the GPIO header's on a Pi 3 B with Bluetooth)
)

func (u UART) String() string {
	if u == PL011 {
		return "PL011 (uart0)"
	}
	return "mini UART (uart1)"
}

// Boot is what the firmware hands the kernel.
type Boot struct {
	Kernel  string // file on the boot partition
	Initrd  string // file on the boot partition, or ""
	DTB     []byte // the device tree, with the parameters and overlays applied
	Cmdline string
	// Console is the tty /dev/console is on (the last console= of the command line), and
	// ConsoleUART the port it is, "" and -1 when it is no UART.
	Console     string
	ConsoleUART UART
	Notes       []string // what the real firmware would do that was not done, and why
}

// Prepare reads the boot partition's files (config.txt first) and does what the firmware
// does for board.
func Prepare(files fs.FS, board Board) (*Boot, error) {
	settings, notes, err := ReadConfig(files, "config.txt", board)
	if err != nil {
		return nil, err
	}
	b := &Boot{Notes: notes, ConsoleUART: -1}
	dtbName, cmdlineName := board.DTB, "cmdline.txt"
	arm64 := false
	enableUART := ""
	var overlays []overlay
	var params []param // base parameters, in order
	var current *overlay
	for _, s := range settings {
		switch s.Name {
		case "arm_64bit":
			arm64 = s.Value == "1"
		case "kernel":
			b.Kernel = s.Value
		case "device_tree":
			dtbName = s.Value
		case "cmdline":
			cmdlineName = s.Value
		case "enable_uart":
			enableUART = s.Value
		case "initramfs":
			f := strings.Fields(s.Value)
			if len(f) > 0 {
				b.Initrd = f[0]
			}
		case "dtoverlay":
			name, ps := splitParams(s.Value)
			if name == "" { // "dtoverlay=" ends an overlay's parameters
				current = nil
				continue
			}
			overlays = append(overlays, overlay{name: name, where: s.Where, params: ps})
			current = &overlays[len(overlays)-1]
		case "dtparam":
			_, ps := splitParams("," + s.Value)
			for i := range ps {
				ps[i].where = s.Where
			}
			if current != nil {
				current.params = append(current.params, ps...)
			} else {
				params = append(params, ps...)
			}
		default:
			b.Notes = append(b.Notes, fmt.Sprintf("%s: %s=%s has no effect under emulation", s.Where, s.Name, s.Value))
		}
	}
	if !arm64 {
		return nil, fmt.Errorf("config.txt: arm_64bit=1 is missing: the firmware would start a 32-bit kernel, which the emulated Pi does not run")
	}
	if b.Kernel == "" {
		b.Kernel = "kernel8.img"
	}
	for _, f := range []string{b.Kernel, b.Initrd} {
		if f != "" {
			if _, err := fs.Stat(files, f); err != nil {
				return nil, fmt.Errorf("config.txt: %w", err)
			}
		}
	}
	raw, err := fs.ReadFile(files, dtbName)
	if err != nil {
		return nil, fmt.Errorf("device tree for %s: %w", board.Model, err)
	}
	for _, p := range params {
		if err := applyBaseParam(&raw, p); err != nil {
			b.Notes = append(b.Notes, fmt.Sprintf("%s: dtparam %v", p.where, err))
		}
	}
	for _, o := range overlays {
		merged, err := o.apply(files, raw)
		if err != nil {
			b.Notes = append(b.Notes, fmt.Sprintf("%s: dtoverlay=%s not applied: %v", o.where, o.name, err))
			continue
		}
		raw = merged
	}
	t, err := ParseFDT(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dtbName, err)
	}
	cmdline, err := fs.ReadFile(files, cmdlineName)
	if err != nil {
		return nil, fmt.Errorf("kernel command line: %w", err)
	}
	if enableUART != "1" {
		if n := t.Lookup("serial0"); n != nil {
			n.SetString("status", "disabled")
			b.Notes = append(b.Notes, "config.txt: enable_uart is not 1: the firmware leaves serial0 off, so there is no serial console")
		}
	}
	b.fillBoard(t, board)
	b.buildCmdline(t, string(cmdline))
	if chosen := t.Lookup("/chosen"); chosen != nil {
		chosen.SetString("bootargs", b.Cmdline)
	}
	b.DTB = t.Bytes()
	return b, nil
}

// fillBoard writes what the firmware knows of the board into the tree.
func (b *Boot) fillBoard(t *Tree, board Board) {
	t.Root.SetString("model", board.Model)
	t.Root.SetString("serial-number", fmt.Sprintf("%016x", board.Serial))
	sys := t.Lookup("/system")
	if sys == nil {
		sys = &Node{Name: "system"}
		t.Root.Children = append(t.Root.Children, sys)
	}
	rev := binary.BigEndian.AppendUint32(nil, board.Revision)
	sys.Set("linux,revision", rev)
	sys.Set("linux,serial", binary.BigEndian.AppendUint64(nil, board.Serial))
}

// buildCmdline puts the device tree's bootargs before cmdline.txt and resolves
// console=serialN to the tty of the UART that alias names.
func (b *Boot) buildCmdline(t *Tree, cmdline string) {
	var words []string
	if chosen := t.Lookup("/chosen"); chosen != nil {
		if args, ok := chosen.String("bootargs"); ok {
			words = strings.Fields(args)
		}
	}
	for _, w := range strings.Fields(cmdline) {
		if dev, opts, ok := strings.Cut(strings.TrimPrefix(w, "console="), ","); strings.HasPrefix(w, "console=serial") {
			tty, uart, err := serialTTY(t, dev)
			if err != nil {
				b.Notes = append(b.Notes, fmt.Sprintf("cmdline.txt: %s: %v", w, err))
			} else {
				w = "console=" + tty
				if ok {
					w += "," + opts
				}
				b.Console, b.ConsoleUART = tty, uart
			}
		} else if strings.HasPrefix(w, "console=") {
			b.Console, b.ConsoleUART = strings.TrimPrefix(dev, "/dev/"), -1
			if u, ok := uartOfTTY(t, b.Console); ok {
				b.ConsoleUART = u
			}
		}
		words = append(words, w)
	}
	b.Cmdline = strings.Join(words, " ")
}

// serialTTY names the tty the kernel makes of alias serialN: the driver numbers its ports by
// the alias (ttyS<N> for the mini UART's 8250 driver, ttyAMA<N> for the PL011's).
func serialTTY(t *Tree, alias string) (string, UART, error) {
	n := t.Lookup(alias)
	if n == nil {
		return "", -1, fmt.Errorf("no alias %s in the device tree", alias)
	}
	if st, _ := n.String("status"); st == "disabled" {
		return "", -1, fmt.Errorf("%s's UART is disabled", alias)
	}
	idx := strings.TrimPrefix(alias, "serial")
	compat, _ := n.Prop("compatible")
	switch {
	case strings.Contains(string(compat), "arm,pl011"):
		return "ttyAMA" + idx, PL011, nil
	case strings.Contains(string(compat), "brcm,bcm2835-aux-uart"):
		return "ttyS" + idx, MiniUART, nil
	}
	return "", -1, fmt.Errorf("%s is no UART the emulated Pi has (compatible %q)", alias, strings.ReplaceAll(string(compat), "\x00", ","))
}

// uartOfTTY says which UART a tty named on the command line is.
func uartOfTTY(t *Tree, tty string) (UART, bool) {
	for _, alias := range []string{"serial0", "serial1"} {
		if name, u, err := serialTTY(t, alias); err == nil && name == tty {
			return u, true
		}
	}
	return -1, false
}

type param struct{ name, value, where string }

// splitParams splits "name,p1=v1,p2" into the name and its parameters.
func splitParams(s string) (string, []param) {
	parts := strings.Split(s, ",")
	var ps []param
	for _, p := range parts[1:] {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		ps = append(ps, param{name: k, value: v})
	}
	return strings.TrimSpace(parts[0]), ps
}

func applyBaseParam(raw *[]byte, p param) error {
	t, err := ParseFDT(*raw)
	if err != nil {
		return err
	}
	if err := applyParam(t, p.name, p.value); err != nil {
		return err
	}
	*raw = t.Bytes()
	return nil
}

type overlay struct {
	name, where string
	params      []param
}

// apply sets the overlay's parameters and merges it into base.
func (o overlay) apply(files fs.FS, base []byte) ([]byte, error) {
	raw, err := fs.ReadFile(files, "overlays/"+o.name+".dtbo")
	if err != nil {
		return nil, err
	}
	ot, err := ParseFDT(raw)
	if err != nil {
		return nil, err
	}
	for _, p := range o.params {
		if err := applyParam(ot, p.name, p.value); err != nil {
			return nil, fmt.Errorf("parameter %w", err)
		}
	}
	bt, err := ParseFDT(base)
	if err != nil {
		return nil, err
	}
	if err := applyOverlay(bt, ot); err != nil {
		return nil, err
	}
	return bt.Bytes(), nil
}

// String is the boot for a test's log: kernel, device tree changes, command line, notes.
func (b *Boot) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "kernel %s, console %s", b.Kernel, b.Console)
	if b.ConsoleUART >= 0 {
		fmt.Fprintf(&s, " on the %s", b.ConsoleUART)
	}
	fmt.Fprintf(&s, "\ncommand line: %s", b.Cmdline)
	for _, n := range b.Notes {
		s.WriteString("\nnot emulated: " + n)
	}
	return s.String()
}
