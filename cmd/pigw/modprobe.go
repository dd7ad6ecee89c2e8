package main

// pigw is also the kernel's module helper: init points /proc/sys/kernel/modprobe at the pigw
// binary, and the kernel runs it as "<binary> -q -- NAME" when a driver needs a module (the
// Pi's WiFi driver asks for its chip vendor's this way). That process is not PID 1 and not
// the appliance: it loads the module and exits, writing only to its stderr, which the kernel
// does not read. The kernel waits for it, so it must not hang: everything is bounded by
// modprobeTimeout.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pigw/pigw/appliance/boot"
)

const modprobeTimeout = 10 * time.Second

var errModprobeHelp = errors.New("help requested")

const modprobeUsage = `usage: pigw modprobe [-q] [-v] [--] NAME [PARAM=VALUE]... [NAME [PARAM=VALUE]...]...

Loads the kernel modules that each NAME (a module name or an alias such as fs-vfat) stands
for, with their dependencies. PARAM=VALUE words go to the NAME before them.
  -q   quiet: no error messages (the exit status still tells)
  -v   verbose: say what is loaded
`

// modprobeArgs recognizes a modprobe invocation from argv[0] and the arguments after it: the
// kernel's "-q -- NAME", pigw run under the name modprobe, or "pigw modprobe ...". It returns
// the arguments for runModprobe.
func modprobeArgs(argv0 string, args []string) ([]string, bool) {
	switch {
	case filepath.Base(argv0) == "modprobe":
		return args, true
	case len(args) > 0 && (args[0] == "-q" || args[0] == "--"):
		return args, true
	case len(args) > 0 && args[0] == "modprobe":
		return args[1:], true
	}
	return nil, false
}

// runModprobe loads modules as modprobe does and returns the exit status: 0 when everything
// loaded (or was already there), 1 when something failed, 2 for a usage error.
func runModprobe(args []string, stderr io.Writer) int {
	quiet, verbose, specs, err := parseModprobe(args)
	if errors.Is(err, errModprobeHelp) {
		fmt.Fprint(stderr, modprobeUsage)
		return 0
	}
	if err != nil {
		if !quiet {
			fmt.Fprintf(stderr, "pigw modprobe: %v\n\n%s", err, modprobeUsage)
		}
		return 2
	}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if quiet {
		log = slog.New(slog.DiscardHandler)
	}

	done := make(chan error, 1)
	go func() {
		var errs []error
		for _, s := range specs {
			errs = append(errs, boot.Modprobe(log, s))
		}
		done <- errors.Join(errs...)
	}()
	select {
	case err = <-done:
	case <-time.After(modprobeTimeout):
		// A module's init that never returns keeps its thread; the process exits anyway.
		err = fmt.Errorf("modprobe %s: not done after %v", strings.Join(specs, ", "), modprobeTimeout)
	}
	if err != nil {
		if !quiet {
			fmt.Fprintf(stderr, "pigw modprobe: %v\n", err)
		}
		return 1
	}
	return 0
}

// parseModprobe reads the flags and the names with their parameters: "isofs", or
// "i2c-stub chip_addr=0x76" when a PARAM=VALUE word follows a name.
func parseModprobe(args []string) (quiet, verbose bool, specs []string, err error) {
	flags := true
	for _, a := range args {
		switch {
		case flags && a == "--":
			flags = false
		case flags && (a == "-q" || a == "--quiet"):
			quiet = true
		case flags && (a == "-v" || a == "--verbose"):
			verbose = true
		case flags && (a == "-h" || a == "--help"):
			return quiet, verbose, nil, errModprobeHelp
		case flags && strings.HasPrefix(a, "-") && a != "-":
			return quiet, verbose, nil, fmt.Errorf("unknown flag %s", a)
		case strings.Contains(a, "=") && len(specs) > 0:
			specs[len(specs)-1] += " " + a
		case strings.TrimSpace(a) == "" || strings.ContainsAny(a, " \t\n"):
			return quiet, verbose, nil, fmt.Errorf("bad module name %q", a)
		default:
			specs = append(specs, a)
		}
	}
	if len(specs) == 0 {
		return quiet, verbose, nil, errors.New("no module name")
	}
	return quiet, verbose, specs, nil
}

// setModprobeHelper makes this binary the kernel's module helper.
func setModprobeHelper(log *slog.Logger) {
	exe, err := os.Executable()
	if err == nil {
		err = boot.SetModprobeHelper(exe)
	}
	if err != nil {
		log.Error("kernel module helper: modules the kernel asks for (WiFi vendor code, filesystems) will not load", "err", err)
		return
	}
	log.Debug("kernel module helper", "path", exe)
}
