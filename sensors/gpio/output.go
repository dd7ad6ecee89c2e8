package gpio

import (
	"errors"
	"fmt"
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

// Set drives the shown level (the pin's inverse if Invert). Level is unchanged when the pin
// cannot be driven. A pin that reads back (ReadBacker) is read after driving it: when it
// disagrees, the level stays driven and Set says what the pin reads.
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
	if got, ok := o.read(); ok && got != level {
		return o.cfg.wrap(fmt.Errorf("driven %s, the pin reads %s: it is shorted, or driven by other hardware", levelName(level), levelName(got)))
	}
	return nil
}

// ReadBacker is a pin whose Read gives the level it really has while it is an output. Pins
// without it are not read back (periph's plain character device line, for one, would turn
// into an input).
type ReadBacker interface{ ReadsBack() bool }

// read reads the pin's level back, when the pin can tell it.
func (o *Output) read() (bool, bool) {
	if rb, ok := o.cfg.Pin.(ReadBacker); !ok || !rb.ReadsBack() {
		return false, false
	}
	return fromPin(o.cfg.Pin.Read(), o.cfg.Invert), true
}

// Read returns the level the pin has now, read back from the hardware when the pin can tell
// it, else the last level driven.
func (o *Output) Read() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if got, ok := o.read(); ok {
		return got
	}
	return o.level
}

func levelName(l bool) string {
	if l {
		return "high (1)"
	}
	return "low (0)"
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
