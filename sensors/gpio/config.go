package gpio

import (
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// DefaultPollInterval is used when Config.PollInterval is zero. In edge mode it bounds each
// WaitForEdge call, so it is also how quickly Run notices its context ending.
const DefaultPollInterval = 100 * time.Millisecond

// Config describes one pin as the appliance uses it.
type Config struct {
	// Name is the resource's name, used in errors; the pin's name alone if empty.
	Name string
	// Pin is the pin: a gpiotest.Pin in tests, one from Open for real.
	Pin gpio.PinIO
	// Output is true for an output, false for an input.
	Output bool
	// Pull is the resistor an input enables.
	Pull gpio.Pull
	// Edge is what an input waits for: gpio.BothEdges, RisingEdge, FallingEdge, or NoEdge to
	// poll every PollInterval.
	Edge gpio.Edge
	// Debounce is how long an input's level must hold before it counts.
	Debounce time.Duration
	// Invert means active low: the level shown is the inverse of the pin's, both ways.
	Invert bool
	// Initial is an output's level when the caller kept none.
	Initial bool
	// PollInterval is an input's poll period with NoEdge, and otherwise the bound on each
	// WaitForEdge; DefaultPollInterval if zero.
	PollInterval time.Duration
}

// errNoPin is returned when Config.Pin is nil.
var errNoPin = errors.New("no pin given")

// label names the pin in errors: `"door" (GPIO17)`.
func (c Config) label() string {
	pin := "<nil>"
	if c.Pin != nil {
		pin = c.Pin.Name()
	}
	if c.Name == "" {
		return fmt.Sprintf("pin %s", pin)
	}
	return fmt.Sprintf("pin %q (%s)", c.Name, pin)
}

// wrap names the pin in err.
func (c Config) wrap(err error) error {
	return fmt.Errorf("gpio: %s: %w", c.label(), err)
}

// toPin converts a shown level to the pin's level.
func toPin(level, invert bool) gpio.Level {
	return gpio.Level(level != invert)
}

// fromPin converts the pin's level to the shown level.
func fromPin(l gpio.Level, invert bool) bool {
	return bool(l) != invert
}
