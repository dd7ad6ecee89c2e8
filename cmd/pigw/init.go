package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"time"

	"github.com/pigw/pigw/appliance"
	"github.com/pigw/pigw/appliance/boot"
	"github.com/pigw/pigw/appliance/boot/grow"
	"github.com/pigw/pigw/appliance/clock"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/logring"
	"github.com/pigw/pigw/appliance/supervisor"
	"github.com/pigw/pigw/appliance/update"
	"golang.org/x/sys/unix"
)

// Config files of the image, in increasing precedence after the built-in default.
var configLayers = []string{"/etc/pigw.yaml", filepath.Join(boot.BootDir, "pigw.yaml")}

// initMain is pigw as PID 1: boot, run the appliance, then reboot or power off. It does not
// return: PID 1 exiting panics the kernel. It logs to the console (PID 1's stderr) and to
// the ring served at /sys/log.
func initMain(stderr io.Writer) int {
	ring := logring.New(500, nil)
	hopts := &slog.HandlerOptions{Level: slog.LevelInfo}
	console := &lateWriter{w: stderr}
	log := slog.New(slog.NewMultiHandler(slog.NewTextHandler(console, hopts), slog.NewTextHandler(ring, hopts)))
	start := time.Now()
	if os.Getenv("PATH") == "" { // the kernel gives init none; wpa_supplicant is found through it
		_ = os.Setenv("PATH", boot.Path)
	}
	log.Info("pigw starting as init", "version", version)
	res := boot.Setup(log)
	console.set(boot.ConsoleWriter(log, stderr)) // /sys is mounted now: every console the kernel has
	cfg, layers, err := config.LoadLayers(configLayers...)
	for _, l := range layers {
		switch {
		case l.Err != nil:
			log.Error("config file ignored: the appliance runs without it", "file", l.Path, "err", l.Err)
		case l.Used && l.Path != "":
			log.Info("config file", "file", l.Path)
		}
	}
	if err != nil {
		log.Error("config: running on the built-in default", "err", err)
		cfg = config.Default()
	}
	updater, trial := updateAtBoot(log, res, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	// On the first boot on a card larger than the image, /perm grows to the card's end: the
	// partition before this returns, the filesystem while the appliance serves.
	growth := grow.Start(ctx, log, res.PermDev, res.Perm)
	setModprobeHelper(log) // /proc is mounted now; the kernel may ask for modules from here on
	if err := boot.LoadModules(log, cfg.System.Modules...); err != nil {
		log.Error("kernel modules", "err", err)
	}
	if err := boot.LoadModules(log, cfg.BusModules()...); err != nil {
		log.Warn("sensor bus modules: the sensors work if the kernel builds these in", "err", err)
	}
	if err := boot.SetHostname(cfg.System.Hostname); err != nil {
		log.Error("hostname", "err", err)
	}
	if err := boot.LoopbackUp(); err != nil {
		log.Error("loopback", "err", err)
	}
	stateDir, clockFile := "", ""
	if res.Perm != "" {
		stateDir = filepath.Join(res.Perm, "pigw")
		clockFile = filepath.Join(stateDir, "clock")
	}
	clk := clock.New(clock.Config{Servers: cfg.Time.NTP, Interval: time.Duration(cfg.Time.Interval), StateFile: clockFile, Logger: log})
	if _, err := clk.Restore(); err != nil {
		log.Error("saved time", "err", err)
	}
	log.Info("boot done", "took", time.Since(start).Round(time.Millisecond), "perm", res.Perm != "", "boot_partition", res.Boot != "")

	poweroff := false
	sigs := make(chan os.Signal, 1)
	// As busybox init: SIGTERM and SIGINT (ctrl-alt-del) reboot, SIGUSR2 powers off.
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGUSR2)
	go func() {
		s := <-sigs
		poweroff = s == unix.SIGUSR2
		log.Warn("signal: stopping", "signal", s.String())
		cancel()
	}()
	go boot.Reap(ctx, log)
	keys, err := boot.OpenConsole()
	if err != nil {
		log.Warn("console keys not read: Ctrl-\\ gives no goroutine dump; SIGQUIT does", "err", err)
	}
	boot.GoroutineDumps(context.Background(), log, keys, console)
	var health appliance.Health
	wdCtx, wdStop := context.WithCancel(context.Background())
	if cfg.System.WatchdogOn() {
		go boot.Watchdog(wdCtx, log, health.OK)
	} else {
		log.Info("hardware watchdog not used: system.watchdog is false")
	}

	err = appliance.Run(ctx, cfg, appliance.Options{StateDir: stateDir, Log: log, Ring: ring, Version: version, Health: &health,
		ManageNetwork: true, Updater: updater, Trial: trial, Subsystems: []supervisor.Subsystem{clk}, Track: boot.Track, Untrack: boot.Untrack})
	cancel()
	tryboot := errors.Is(err, appliance.ErrTryboot)
	switch {
	case errors.Is(err, appliance.ErrPoweroff):
		poweroff = true
	case tryboot:
	case err == nil, errors.Is(err, appliance.ErrReboot), errors.Is(err, context.Canceled):
	default:
		wdStop()
		boot.Fatal(log, err, 10*time.Second)
	}
	wdStop()
	growth.Wait(log) // the kernel's resize keeps /perm busy and cannot be interrupted
	if tryboot {
		if err := boot.RebootTryboot(log); err != nil {
			log.Error("tryboot", "err", err)
		}
	}
	if err := boot.Halt(log, poweroff); err != nil {
		boot.Fatal(log, err, 10*time.Second)
	}
	select {}
}

// updateAtBoot decides what this boot is for updates: a normal boot, the start of a trial
// root (which does not return when it works), or a trial root's boot.
func updateAtBoot(log *slog.Logger, res boot.Result, cfg *config.Config) (*update.Updater, bool) {
	if res.Perm == "" {
		log.Warn("updates unavailable: no /perm for their records")
		return nil, false
	}
	u, err := appliance.OpenUpdater(filepath.Join(res.Perm, "pigw"), "/", "", log)
	if err != nil {
		log.Warn("updates unavailable", "err", err)
		return nil, false
	}
	d, err := u.AtBoot()
	if err != nil {
		log.Warn("update records not read at boot", "err", err)
		return u, false
	}
	if d.Note != "" {
		log.Warn("update: " + d.Note)
	}
	switch d.Kind {
	case update.BootTrial:
		return u, true
	case update.BootGiveUp:
		if err := boot.Halt(log, false); err != nil {
			boot.Fatal(log, err, 10*time.Second)
		}
	case update.BootStartTrial:
		var wd *os.File
		if cfg.System.WatchdogOn() {
			wd = boot.ArmWatchdog(log)
		}
		err := boot.StartRoot(log, d.Root.Path) // returns only when the root could not be used
		if wd != nil {
			_, _ = wd.Write([]byte("V"))
			wd.Close()
		}
		log.Error("update trial not started: going on with the committed root", "err", err)
		if err := u.TrialNotStarted(err); err != nil {
			log.Error("update records", "err", err)
		}
	}
	return u, false
}

// lateWriter is the console: PID 1's stderr until the other consoles are known.
type lateWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lateWriter) set(w io.Writer) {
	l.mu.Lock()
	l.w = w
	l.mu.Unlock()
}

func (l *lateWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
