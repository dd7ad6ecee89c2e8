package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/pigw/pigw/appliance"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/logring"
)

func runAppliance(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("pigw run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (default: the built-in config, the tutorial's server example)")
	stateDir := fs.String("state-dir", defaultStateDir(), `where dynamic resources and written values are kept ("" for memory only)`)
	level := fs.String("log-level", "info", "debug, info, warn or error")
	updateRoot := fs.String("update-root", "/", "the root whose etc/pigw/release.json and update keys judge update bundles")
	updateSlot := fs.String("update-slot", "", "a file that takes update bundles' roots in place of the card's other root partition (for tests on a PC)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pigw run: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "pigw run: --log-level %q: must be debug, info, warn or error\n", *level)
		return 2
	}
	ring := logring.New(500, nil)
	hopts := &slog.HandlerOptions{Level: lvl}
	log := slog.New(slog.NewMultiHandler(slog.NewTextHandler(stderr, hopts), slog.NewTextHandler(ring, hopts)))

	cfg := config.Default()
	source := "built-in default"
	if *configPath != "" {
		var err error
		if cfg, err = config.Load(*configPath); err != nil {
			fmt.Fprintf(stderr, "pigw run: invalid config:\n%v\n", err)
			return 2
		}
		source = *configPath
	}
	log.Info("pigw starting", "version", version, "config", source)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := appliance.Run(ctx, cfg, appliance.Options{StateDir: *stateDir, Log: log, Ring: ring, Version: version,
		UpdateRoot: *updateRoot, UpdateSlot: *updateSlot})
	switch {
	case errors.Is(err, appliance.ErrReboot), errors.Is(err, appliance.ErrPoweroff), errors.Is(err, appliance.ErrTryboot):
		log.Warn("pigw stopped: not running as init, so the machine itself is left alone", "request", err.Error())
		return 0
	case err != nil && !errors.Is(err, context.Canceled):
		log.Error("pigw stopped", "err", err)
		return 1
	}
	log.Info("pigw stopped")
	return 0
}

// defaultStateDir is $XDG_STATE_HOME/pigw, or ~/.local/state/pigw.
func defaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "pigw")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "pigw")
	}
	return "pigw-state"
}
