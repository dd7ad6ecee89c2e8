package gpio

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
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
