package pifw

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Card is an SD-card image as the emulated Pi sees it: the firmware reads its first
// partition (FAT), QEMU's SD card model insists on a size that is a power of two.

// CardBootFS returns the files of the image's first partition, read with mtools (mcopy) one
// by one into dir as they are opened, as the firmware reads only what config.txt names.
func CardBootFS(image, dir string) (fs.FS, error) {
	start, err := firstPartition(image)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("mcopy"); err != nil {
		return nil, fmt.Errorf("mcopy (mtools) not found: %w", err)
	}
	return &fatFS{image: image, offset: start, dir: dir}, nil
}

// firstPartition returns the byte offset of the MBR's first partition.
func firstPartition(image string) (int64, error) {
	f, err := os.Open(image)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	mbr := make([]byte, 512)
	if _, err := io.ReadFull(f, mbr); err != nil {
		return 0, fmt.Errorf("%s: read the partition table: %w", image, err)
	}
	if mbr[510] != 0x55 || mbr[511] != 0xaa {
		return 0, fmt.Errorf("%s: no MBR partition table (no 0x55aa signature)", image)
	}
	lba := binary.LittleEndian.Uint32(mbr[446+8:])
	if typ := mbr[446+4]; typ != 0x0b && typ != 0x0c {
		return 0, fmt.Errorf("%s: the first partition has type %#02x, not FAT32 (0x0b or 0x0c): the Pi firmware would not boot it", image, typ)
	}
	return int64(lba) * 512, nil
}

type fatFS struct {
	image  string
	offset int64
	dir    string
}

func (f *fatFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	local := filepath.Join(f.dir, filepath.FromSlash(name))
	if _, err := os.Stat(local); err != nil {
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			return nil, err
		}
		img := f.image + "@@" + strconv.FormatInt(f.offset, 10)
		out, err := exec.Command("mcopy", "-n", "-i", img, "::"+path.Clean("/"+name), local).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "not found") {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("mcopy: %v: %s", err, strings.TrimSpace(string(out)))}
		}
	}
	return os.Open(local)
}

// FitCard grows the image file to size bytes, as writing it to a card of that size would
// leave it (the space after the image is zeros, sparse), or to the next power of two when
// size is 0. It refuses a size that is not a power of two or smaller than the image.
func FitCard(image string, size int64) (int64, error) {
	st, err := os.Stat(image)
	if err != nil {
		return 0, err
	}
	if size == 0 {
		size = 1
		for size < st.Size() {
			size <<= 1
		}
	}
	switch {
	case size&(size-1) != 0:
		return 0, fmt.Errorf("card size %d: QEMU's SD card must be a power of two in size", size)
	case size < st.Size():
		return 0, fmt.Errorf("card size %d: smaller than the image (%d bytes)", size, st.Size())
	case size == st.Size():
		return size, nil
	}
	return size, os.Truncate(image, size)
}

// Emulation is an emulated Pi ready to start: the firmware's work done for an image.
type Emulation struct {
	Board    Board
	Image    string
	CardSize int64
	Boot     *Boot
	Kernel   string // the kernel, copied out of the card
	DTB      string // the device tree, as the firmware would hand it over
	Initrd   string
	dir      string
}

// EmulationOptions adjust an emulation.
type EmulationOptions struct {
	CardSize int64 // 0: the image's size rounded up to a power of two
	// NoWatchdog keeps the kernel from starting the SoC's watchdog driver, with
	// initcall_blacklist: QEMU's BCM2835 power manager resets the machine as soon as the
	// watchdog is armed (it does not count down), so an appliance that uses the watchdog
	// cannot run on it. The kernel then has no /dev/watchdog.
	NoWatchdog bool
}

// watchdogInitcall is the initcall of bcm2835-wdt, built into the Pi kernel.
const watchdogInitcall = "bcm2835_wdt_driver_init"

// NewEmulation fits the image to a card and does the firmware's work, in a new directory
// that Close removes.
func NewEmulation(image string, board Board, o EmulationOptions) (*Emulation, error) {
	size, err := FitCard(image, o.CardSize)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pifw-card")
	if err != nil {
		return nil, err
	}
	e := &Emulation{Board: board, Image: image, CardSize: size, dir: dir}
	files, err := CardBootFS(image, filepath.Join(dir, "boot"))
	if err == nil {
		e.Boot, err = Prepare(files, board)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if o.NoWatchdog {
		e.Boot.Cmdline += " initcall_blacklist=" + watchdogInitcall
		e.Boot.Notes = append(e.Boot.Notes, "the SoC watchdog's driver is kept from starting (initcall_blacklist): QEMU resets the board the moment it is armed")
	}
	e.Kernel = filepath.Join(dir, "boot", filepath.FromSlash(e.Boot.Kernel))
	if e.Boot.Initrd != "" {
		e.Initrd = filepath.Join(dir, "boot", filepath.FromSlash(e.Boot.Initrd))
	}
	e.DTB = filepath.Join(dir, "board.dtb")
	if err := os.WriteFile(e.DTB, e.Boot.DTB, 0o644); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Close removes the emulation's files (not the image).
func (e *Emulation) Close() error { return os.RemoveAll(e.dir) }

// QEMUArgs is qemu-system-aarch64's command line: the board, its kernel and device tree, the
// card, the console's UART on console (a QEMU character device such as "stdio" or
// "mon:stdio"; the other UART goes nowhere), and a USB Ethernet adapter on the network
// backend netdev (such as "user,id=n0,hostfwd=..."; its id must be n0).
func (e *Emulation) QEMUArgs(console, netdev string) ([]string, error) {
	if e.Boot.ConsoleUART < 0 {
		return nil, fmt.Errorf("the kernel's console is %q, not a UART: nothing to show (cmdline.txt needs console=serial0)", e.Boot.Console)
	}
	serial := []string{"null", "null"}
	serial[e.Boot.ConsoleUART] = console
	args := []string{
		"-M", e.Board.Machine, "-m", e.Board.Memory, "-accel", tcgAccel(runtime.NumCPU()),
		"-no-user-config", "-display", "none", "-monitor", "none",
		"-kernel", e.Kernel, "-dtb", e.DTB, "-append", e.Boot.Cmdline,
		"-drive", "file=" + e.Image + ",if=sd,format=raw",
		"-serial", serial[PL011], "-serial", serial[MiniUART],
		"-usb", "-device", "usb-net,netdev=n0", "-netdev", netdev,
	}
	if e.Initrd != "" {
		args = append(args, "-initrd", e.Initrd)
	}
	return args, nil
}

// tcgAccel picks QEMU's TCG threading for the board's four cores: one thread per emulated
// core (QEMU's default) when the host has as many, else one thread for all. With four
// threads on two host cores the threads contend: on this project's 2-core machine a boot
// until pigw opened the watchdog took 34 to 64 s that way, 12 to 16 s with one thread.
func tcgAccel(hostCPUs int) string {
	if hostCPUs < 4 {
		return "tcg,thread=single"
	}
	return "tcg"
}
