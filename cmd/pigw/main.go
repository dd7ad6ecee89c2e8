// Command pigw is the whole appliance in one binary: run it as the appliance (as PID 1 on the
// Pi, or as a normal process on a laptop), and more subcommands as they come.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `pigw: a CoAP gateway appliance for the Raspberry Pi

Usage:
  pigw run [--config FILE] [--state-dir DIR] [--log-level LEVEL]   run the appliance
  pigw coap get|put|post|delete|fetch|observe|discover ...          a CoAP client
  pigw config check|show [FILE...]                                  check config files, or show the effective config
  pigw config schema                                                print the JSON Schema of pigw.yaml
  pigw flash --device /dev/sdX [--yes] IMAGE                        write an SD-card image to a card
  pigw image build --out FILE [--config F] [--overlay DIR]...       build the SD-card image
  pigw image emulate [--card-size SIZE] [--port N] IMAGE            boot an image on an emulated Pi 3 B
  pigw keygen --out KEY                                             make a key pair for signing update bundles
  pigw update --identity NAME --psk-file F coaps://HOST BUNDLE       push an update bundle to a device
  pigw modprobe [-q] [-v] [--] NAME...                              load kernel modules by name or alias
  pigw version                                                      print the version

Run "pigw run --help" for the flags of run.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the exit status: 0 ok, 1 failure, 2 usage.
func run(args []string, stdout, stderr io.Writer) int {
	if os.Getpid() == 1 {
		// As /init the kernel passes no subcommand, and PID 1 must never exit: whatever the
		// arguments, boot the appliance.
		return initMain(stderr)
	}
	if margs, ok := modprobeArgs(os.Args[0], args); ok { // the kernel's module helper (or pigw modprobe)
		return runModprobe(margs, stderr)
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return runAppliance(args[1:], stderr)
	case "coap":
		return runCoAP(args[1:], os.Stdin, stdout, stderr)
	case "config":
		return runConfig(args[1:], stdout, stderr)
	case "image":
		return runImage(args[1:], stderr)
	case "flash":
		return runFlash(args[1:], os.Stdin, stdout, stderr)
	case "update":
		return runUpdate(args[1:], stdout, stderr)
	case "keygen":
		return runKeygen(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "pigw", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "pigw: unknown command %q\n\n%s", args[0], usage)
	return 2
}
