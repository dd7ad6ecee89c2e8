package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/pigw/pigw/internal/pifw"
)

const emulateUsage = `Usage: pigw image emulate [flags] IMAGE

Boots IMAGE on QEMU's emulated Raspberry Pi 3 B (qemu-system-aarch64 -M raspi3b, from Debian's
qemu-system-arm), as a Pi would boot the card: the kernel, the device tree and the settings of
config.txt and cmdline.txt come from the image's boot partition. The image is the card: the
emulated Pi writes to it, and it is grown to a power of two (QEMU's SD card needs one). The
serial console is this terminal; Ctrl-a x quits, Ctrl-\ asks pigw for a goroutine dump. The
Ethernet adapter is USB (usb0), behind QEMU's user network: the Pi's CoAP ports and its status
page are forwarded from 127.0.0.1.

What the emulation lacks: WiFi, I2C and a watchdog that counts down (QEMU resets the board
the moment the watchdog is armed, so its driver is kept from starting unless --watchdog).

Flags:
`

func runEmulate(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("pigw image emulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, emulateUsage); fs.PrintDefaults() }
	cardSize := fs.String("card-size", "", "the SD card's size, a power of two such as 4G (default: the image's size rounded up)")
	port := fs.Int("port", 15683, "the host UDP port on 127.0.0.1 for the Pi's CoAP port 5683; the next one is its DTLS port 5684")
	httpPort := fs.Int("http-port", 18080, "the host TCP port on 127.0.0.1 for the Pi's status page on port 80")
	watchdog := fs.Bool("watchdog", false, "let the kernel start the SoC's watchdog driver (the emulated board then resets when pigw arms it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, "pigw image emulate: name one image file\n\n")
		fs.Usage()
		return 2
	}
	if *port < 1 || *port > 65534 {
		fmt.Fprintf(stderr, "pigw image emulate: --port %d: must be 1..65534 (the next port is taken too)\n", *port)
		return 2
	}
	if *httpPort < 1 || *httpPort > 65535 {
		fmt.Fprintf(stderr, "pigw image emulate: --http-port %d: must be 1..65535\n", *httpPort)
		return 2
	}
	var size int64
	if *cardSize != "" {
		var err error
		if size, err = parseSize(*cardSize); err != nil {
			fmt.Fprintf(stderr, "pigw image emulate: --card-size %q: %v\n", *cardSize, err)
			return 2
		}
	}
	if err := emulate(fs.Arg(0), size, *port, *httpPort, *watchdog, stderr); err != nil {
		fmt.Fprintf(stderr, "pigw image emulate: %v\n", err)
		return 1
	}
	return 0
}

func emulate(img string, cardSize int64, port, httpPort int, watchdog bool, stderr io.Writer) error {
	emu, err := pifw.NewEmulation(img, pifw.Pi3B, pifw.EmulationOptions{CardSize: cardSize, NoWatchdog: !watchdog})
	if err != nil {
		return err
	}
	defer emu.Close()
	qemu, err := exec.LookPath("qemu-system-aarch64")
	if err != nil {
		return errors.New("qemu-system-aarch64 not found: apt-get install qemu-system-arm (make vm-kernel installs it)")
	}
	netdev := fmt.Sprintf("user,id=n0,hostfwd=udp:127.0.0.1:%d-:5683,hostfwd=udp:127.0.0.1:%d-:5684,hostfwd=tcp:127.0.0.1:%d-:80", port, port+1, httpPort)
	args, err := emu.QEMUArgs("mon:stdio", netdev)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "emulated %s, card %s (%d MiB): %s\n", emu.Board.Model, img, emu.CardSize>>20, emu.Boot)
	fmt.Fprintf(stderr, "CoAP: coap://127.0.0.1:%d/ (for example: pigw coap get coap://127.0.0.1:%d/sys/info)\nStatus page: http://127.0.0.1:%d/\nCtrl-a x quits.\n\n", port, port, httpPort)
	cmd := exec.Command(qemu, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, stderr
	// Ctrl-C reaches QEMU through the terminal (mon:stdio passes it to the guest); pigw waits.
	signal.Ignore(syscall.SIGINT)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}()
	if err := cmd.Wait(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("qemu-system-aarch64: %w", err)
	}
	return nil
}
