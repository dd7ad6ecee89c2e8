package gpio_test

import (
	"fmt"

	"periph.io/x/conn/v3/gpio/gpiotest"

	pigpio "github.com/pigw/pigw/sensors/gpio"
)

// A relay wired active low: the resource shows "on" while the pin is driven low.
func Example() {
	pin := &gpiotest.Pin{N: "GPIO17"}
	relay, err := pigpio.NewOutput(pigpio.Config{Name: "relay", Pin: pin, Output: true, Invert: true}, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("start:", relay.Level(), pin.Read())

	for _, body := range []string{"on", " TOGGLE ", "maybe"} {
		level, toggle, err := pigpio.Parse(body)
		switch {
		case err != nil:
			fmt.Println(err)
			continue
		case toggle:
			level, err = relay.Toggle()
		default:
			err = relay.Set(level)
		}
		fmt.Printf("%q: %v %v %v\n", body, level, pin.Read(), err)
	}
	// Output:
	// start: false High
	// "on": true Low <nil>
	// " TOGGLE ": false High <nil>
	// gpio: level "maybe": want 0, 1, on, off, true, false or toggle
}
