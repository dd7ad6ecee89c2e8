package gpio

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
	"periph.io/x/host/v3/gpioioctl"
)

var (
	initOnce sync.Once
	initErr  error
)

// Open finds a real pin by name ("GPIO17") through periph host, initialising it on first use.
// The error names the pin and says whether this machine has any GPIO at all.
func Open(name string) (gpio.PinIO, error) {
	initOnce.Do(func() { _, initErr = host.Init() })
	if initErr != nil {
		return nil, fmt.Errorf("gpio: pin %s: initialising periph host: %w", name, initErr)
	}
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	n := len(gpioreg.All())
	if n == 0 {
		return nil, fmt.Errorf("gpio: pin %s: %w", name, ErrNoGPIO)
	}
	return nil, fmt.Errorf("gpio: pin %s: not found among the %d GPIO pins on this machine", name, n)
}

// ErrNoGPIO is wrapped by Open when periph found no GPIO pins on this machine.
var ErrNoGPIO = errors.New("no GPIO on this machine (no /dev/gpiochip*, or not permitted)")

// OpenOutput finds a real pin by name for driving it. When the pin is a line of a GPIO
// character device (/dev/gpiochipN; on a Pi, periph's register-level pin has one behind it),
// the line is requested as an output through the kernel, so that the kernel knows who drives
// it, and its level can be read back through the same request (periph's plain line would
// turn itself into an input when read); the kernel then reports the level the pin really
// has. Other pins are returned as Open returns them.
func OpenOutput(name string) (gpio.PinIO, error) {
	p, err := Open(name)
	if err != nil {
		return nil, err
	}
	real := gpio.PinIO(p)
	if r, ok := p.(gpio.RealPin); ok {
		if rp, ok := r.Real().(gpio.PinIO); ok {
			real = rp
		}
	}
	for _, chip := range gpioioctl.Chips {
		if chip.ByName(real.Name()) == nil {
			continue
		}
		ls, err := chip.LineSetFromConfig(&gpioioctl.LineSetConfig{Lines: []string{real.Name()},
			DefaultDirection: gpioioctl.LineOutput, DefaultEdge: gpio.NoEdge, DefaultPull: gpio.PullNoChange})
		if err != nil {
			return nil, fmt.Errorf("gpio: pin %s: request it as an output from %s: %w", name, chip.Path(), err)
		}
		return &requestedLine{LineSetLine: ls.Lines()[0], chip: chip.Path()}, nil
	}
	return p, nil
}

// requestedLine is an output line held through a line request of the character device.
type requestedLine struct {
	*gpioioctl.LineSetLine
	chip string
}

// String names the pin and its chip, for logs: "GPIO27 on /dev/gpiochip0".
func (r *requestedLine) String() string { return r.Name() + " on " + r.chip }

// ReadsBack reports that Read gives the level of the pin, not a cached one.
func (r *requestedLine) ReadsBack() bool { return true }
