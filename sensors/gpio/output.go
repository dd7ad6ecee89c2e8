package gpio

import (
	"errors"
	"sync"
)

// Output drives an output pin. It is safe for concurrent use.
type Output struct {
	cfg   Config
	mu    sync.Mutex
	level bool // shown level, after Invert
}

// NewOutput configures cfg.Pin as an output and drives level at once; pass cfg.Initial or the
// level the caller kept from before a restart.
func NewOutput(cfg Config, level bool) (*Output, error) {
	if cfg.Pin == nil {
		return nil, cfg.wrap(errNoPin)
	}
	if !cfg.Output {
		return nil, cfg.wrap(errors.New("configured as an input, not an output"))
	}
	o := &Output{cfg: cfg}
	if err := o.Set(level); err != nil {
		return nil, err
	}
	return o, nil
}

// Set drives the shown level (the pin's inverse if Invert). Level is unchanged on error.
func (o *Output) Set(level bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.set(level)
}

func (o *Output) set(level bool) error {
	if err := o.cfg.Pin.Out(toPin(level, o.cfg.Invert)); err != nil {
		return o.cfg.wrap(err)
	}
	o.level = level
	return nil
}

// Toggle drives the opposite of the current level and returns the new one.
func (o *Output) Toggle() (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.set(!o.level); err != nil {
		return o.level, err
	}
	return o.level, nil
}

// Level is the last level driven successfully.
func (o *Output) Level() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.level
}
