package gpio

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Input watches an input pin and reports each debounced level change, at once through
// WaitForEdge or, with gpio.NoEdge, by polling every PollInterval.
type Input struct {
	cfg     Config
	poll    time.Duration
	level   atomic.Bool // last reported level, after Invert
	running atomic.Bool
}

// NewInput configures cfg.Pin as an input with cfg.Pull and cfg.Edge.
func NewInput(cfg Config) (*Input, error) {
	if cfg.Pin == nil {
		return nil, cfg.wrap(errNoPin)
	}
	if cfg.Output {
		return nil, cfg.wrap(errors.New("configured as an output, not an input"))
	}
	if cfg.Debounce < 0 || cfg.PollInterval < 0 {
		return nil, cfg.wrap(errors.New("negative Debounce or PollInterval"))
	}
	if err := cfg.Pin.In(cfg.Pull, cfg.Edge); err != nil {
		return nil, cfg.wrap(err)
	}
	in := &Input{cfg: cfg, poll: cfg.PollInterval}
	if in.poll == 0 {
		in.poll = DefaultPollInterval
	}
	in.level.Store(in.read())
	return in, nil
}

// Level is the last level reported by Run, or the level read by NewInput before that.
func (in *Input) Level() bool { return in.level.Load() }

func (in *Input) read() bool { return fromPin(in.cfg.Pin.Read(), in.cfg.Invert) }

// Run watches the pin until ctx ends, calling onChange (from Run's goroutine) for the first
// level and for every debounced change after it. It returns ctx.Err(). A pin has one watcher:
// a second concurrent Run returns an error.
//
// In edge mode each WaitForEdge is bounded by PollInterval, so Run returns at most that long
// after ctx ends, and a level that changed without a reported edge (RisingEdge only, or a
// missed interrupt) is still noticed when the wait times out.
func (in *Input) Run(ctx context.Context, onChange func(level bool, at time.Time)) error {
	if !in.running.CompareAndSwap(false, true) {
		return in.cfg.wrap(errors.New("already running"))
	}
	defer in.running.Store(false)

	last := in.read()
	in.level.Store(last)
	onChange(last, time.Now())
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		at, edged := in.wait(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		level := in.read()
		if !edged && level == last {
			continue
		}
		if in.cfg.Debounce > 0 {
			var ok bool
			if at, ok = in.settle(ctx, at); !ok {
				return ctx.Err()
			}
			level = in.read()
		}
		if level != last {
			last = level
			in.level.Store(level)
			onChange(level, at)
		}
	}
}

// wait blocks for an edge or one PollInterval, reporting whether an edge came and when.
func (in *Input) wait(ctx context.Context) (time.Time, bool) {
	if in.cfg.Edge == gpio.NoEdge {
		sleep(ctx, in.poll)
		return time.Now(), false
	}
	edged := in.cfg.Pin.WaitForEdge(in.poll)
	return time.Now(), edged
}

// settle waits until no edge has come for Debounce (polling mode: just Debounce), returning
// the time of the last edge seen; false if ctx ended first.
func (in *Input) settle(ctx context.Context, at time.Time) (time.Time, bool) {
	if in.cfg.Edge == gpio.NoEdge {
		return at, sleep(ctx, in.cfg.Debounce)
	}
	deadline := at.Add(in.cfg.Debounce)
	for {
		if ctx.Err() != nil {
			return at, false
		}
		rest := time.Until(deadline)
		if rest <= 0 {
			return at, true
		}
		if in.cfg.Pin.WaitForEdge(min(rest, in.poll)) {
			at = time.Now()
			deadline = at.Add(in.cfg.Debounce)
		}
	}
}

// sleep waits d or until ctx ends, reporting whether the whole d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
