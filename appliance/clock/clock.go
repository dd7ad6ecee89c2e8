// Package clock keeps the appliance's time right. A Raspberry Pi has no battery-backed clock:
// it boots in 1970, which breaks DTLS certificates, log times and anything scheduled. So the
// time is saved under /perm and put back at boot (never going backwards), then corrected
// from NTP servers; until NTP has answered, callers can ask whether the time is trusted.
package clock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/ntp"
	"golang.org/x/sys/unix"
)

// Config says where to ask and where to keep the time.
type Config struct {
	Servers   []string      // "pool.ntp.org", "192.168.1.1", "[fd00::1]:123"
	Interval  time.Duration // between synchronisations once in sync; default 1 h
	StateFile string        // e.g. /perm/pigw/clock; "" keeps nothing
	Logger    *slog.Logger
	// MaxStep is the offset above which the clock is stepped; smaller offsets are left (the
	// appliance has no use for sub-second slewing). Default 500 ms.
	MaxStep time.Duration
	// SetTime sets the system clock; nil uses settimeofday. Tests never set the host's clock.
	SetTime func(time.Time) error
	// Now reads the clock; nil uses time.Now.
	Now func() time.Time
}

// Sync is the clock subsystem.
type Sync struct {
	cfg Config

	mu     sync.Mutex
	synced bool
	last   time.Time // when NTP last answered
	ready  chan struct{}
}

// New returns the subsystem; it does nothing until Restore or Run.
func New(cfg Config) *Sync {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.MaxStep <= 0 {
		cfg.MaxStep = 500 * time.Millisecond
	}
	if cfg.SetTime == nil {
		cfg.SetTime = setSystemTime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Sync{cfg: cfg, ready: make(chan struct{})}
}

func setSystemTime(t time.Time) error {
	tv := unix.NsecToTimeval(t.UnixNano())
	if err := unix.Settimeofday(&tv); err != nil {
		return fmt.Errorf("settimeofday: %w", err)
	}
	return nil
}

// Name is the subsystem's name.
func (s *Sync) Name() string { return "clock" }

// Restore puts the saved time back when the clock is behind it (a Pi at boot), so time never
// runs backwards across a reboot. It returns the time restored, or the zero time.
func (s *Sync) Restore() (time.Time, error) {
	if s.cfg.StateFile == "" {
		return time.Time{}, nil
	}
	b, err := os.ReadFile(s.cfg.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read saved time: %w", err)
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("saved time in %s: %q is not a number of seconds", s.cfg.StateFile, b)
	}
	saved := time.Unix(sec, 0)
	if !s.cfg.Now().Before(saved) {
		return time.Time{}, nil
	}
	if err := s.cfg.SetTime(saved); err != nil {
		return time.Time{}, err
	}
	s.cfg.Logger.Info("clock restored from the saved time (no battery clock); NTP will correct it", "time", saved.UTC().Format(time.RFC3339))
	return saved, nil
}

// Save writes the current time to the state file (atomically).
func (s *Sync) Save() error {
	if s.cfg.StateFile == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(s.cfg.StateFile), 0o700); err != nil {
		return fmt.Errorf("save time: %w", err)
	}
	tmp := s.cfg.StateFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(s.cfg.Now().Unix(), 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("save time: %w", err)
	}
	if err := os.Rename(tmp, s.cfg.StateFile); err != nil {
		return fmt.Errorf("save time: %w", err)
	}
	return nil
}

// Synced reports whether an NTP server has answered since the start.
func (s *Sync) Synced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced
}

// Ready is closed once the clock is synchronised, for what needs a valid time.
func (s *Sync) Ready() <-chan struct{} { return s.ready }

// Run asks the servers until one answers, steps the clock when it is off, saves the time, and
// repeats every Interval (every 5 s, doubling to Interval, while none answers); it saves the
// time once more when ctx ends.
func (s *Sync) Run(ctx context.Context) error {
	defer func() {
		if err := s.Save(); err != nil {
			s.cfg.Logger.Error("time not saved", "err", err)
		}
	}()
	if len(s.cfg.Servers) == 0 {
		s.cfg.Logger.Warn("no NTP servers: the clock runs from the saved time; DTLS and log times may be wrong")
		<-ctx.Done()
		return nil
	}
	wait := 5 * time.Second // the network may come up just after us
	for {
		if err := s.syncOnce(); err != nil {
			s.cfg.Logger.Warn("no NTP server answered; the clock is not trusted yet", "err", err, "retry_in", wait)
		} else {
			wait = s.cfg.Interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if !s.Synced() {
			wait = min(2*wait, s.cfg.Interval)
		}
	}
}

// syncOnce asks each server in turn and applies the first valid answer.
func (s *Sync) syncOnce() error {
	var errs []error
	for _, srv := range s.cfg.Servers {
		r, err := ntp.QueryWithOptions(srv, ntp.QueryOptions{Timeout: 5 * time.Second})
		if err == nil {
			err = r.Validate()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", srv, err))
			continue
		}
		return s.apply(srv, r.ClockOffset)
	}
	return errors.Join(errs...)
}

func (s *Sync) apply(server string, offset time.Duration) error {
	if offset > s.cfg.MaxStep || offset < -s.cfg.MaxStep {
		if err := s.cfg.SetTime(s.cfg.Now().Add(offset)); err != nil {
			return fmt.Errorf("step the clock by %s: %w", offset, err)
		}
		s.cfg.Logger.Info("clock set from NTP", "server", server, "step", offset.Round(time.Millisecond))
	}
	s.mu.Lock()
	first := !s.synced
	s.synced, s.last = true, s.cfg.Now()
	s.mu.Unlock()
	if first {
		close(s.ready)
		s.cfg.Logger.Info("clock synchronised", "server", server, "offset", offset.Round(time.Millisecond))
	}
	return s.Save()
}
