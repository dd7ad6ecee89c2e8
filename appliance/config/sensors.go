package config

import (
	"time"

	"github.com/pigw/pigw/sensors"
)

// Sensor is a sensor wired to the Pi, read by a driver of package sensors
// and served as the resource /sensors/<name>.
//
// Which of Bus, Address, Path and ID apply depends on the bus the kind's
// driver is on (sensors.Driver.Bus): Bus and Address on "i2c"; Path and ID
// on "1-wire"; Path on "sysfs"; none of them on "none". A field given for a
// kind it does not apply to is an error.
type Sensor struct {
	// Name names the sensor, which is served as the resource
	// /sensors/<name>. Required: 1..32 bytes of a-z, 0-9, '_' and '-',
	// unique among the names of the sensors and gpio sections together.
	Name string `yaml:"name"`
	// Kind is the driver, one of package sensors' kinds: "bme280",
	// "ds18b20", "soc", "simulated" and the others the README lists. Any
	// case is accepted in the file and lower case stored. Required.
	Kind string `yaml:"kind"`
	// Bus is the number N of the I2C bus /dev/i2c-N: 0..31. For I2C kinds
	// only. Default: 1 for I2C kinds, the bus on the Pi's header (pins 3
	// and 5).
	Bus *int `yaml:"bus"`
	// Address is the device's 7-bit I2C address: 0x03..0x77 (the others
	// are reserved). In the file, write it in hex (0x76) or decimal (118),
	// as a number or a string ("0x76"). For I2C kinds only. Default: the
	// driver's for I2C kinds (sensors.Driver.DefaultAddr), such as 0x76 for
	// bme280. Two sensors on the same bus may not have the same address.
	Address *int `yaml:"address"`
	// Path is where the kernel shows the device: a directory or a file,
	// given as an absolute path with no control characters, such as
	// /sys/bus/w1/devices/28-0316a2794dff or
	// /sys/class/thermal/thermal_zone1. For 1-Wire and sysfs kinds only.
	// Default: "", the driver's own (for 1-Wire kinds, the directory of id;
	// for soc, /sys/class/thermal/thermal_zone0).
	Path string `yaml:"path"`
	// ID is a 1-Wire device's id as the kernel names it under
	// /sys/bus/w1/devices: the family code, '-' and the 48-bit serial, in
	// lower-case hex, such as 28-0316a2794dff. For 1-Wire kinds only, which
	// need either id or path, not both. Default: "".
	ID string `yaml:"id"`
	// Interval is the time between two samples: 100ms..24h. Default: 10s,
	// which 0 also means.
	Interval Duration `yaml:"interval"`
	// Threshold is how far a value must move from the last one notified
	// before observers are notified again: 0 or more, a finite number.
	// Default: 0, every change is notified.
	Threshold *float64 `yaml:"threshold"`
	// Options are the driver's own settings, such as {resolution: "11"};
	// the driver checks them when it opens the sensor. Names are 1 or more
	// of a-z, 0-9 and '_'; "addr" and "id" are not options here (give
	// address and id). In YAML they are a mapping; scalar values are taken
	// as their text, so that resolution: 11 gives "11". Default: none.
	Options map[string]string `yaml:"options"`
}

// GPIO is a GPIO pin of the Pi's header, served as the resource
// /gpio/<name>: an input, which observers are notified of, or an output,
// which a PUT sets.
type GPIO struct {
	// Name names the pin, which is served as the resource /gpio/<name>.
	// Required: 1..32 bytes of a-z, 0-9, '_' and '-', unique among the
	// names of the sensors and gpio sections together.
	Name string `yaml:"name"`
	// Pin is the pin in BCM numbering, GPIO0..GPIO27 on the Pi's header,
	// such as "GPIO17" (header pin 11). The file may also write it BCM17,
	// in any case; the GPIO17 form is stored (see Number). Each pin is used
	// once. Required.
	Pin string `yaml:"pin"`
	// Direction is "in" or "out". Any case is accepted in the file and
	// lower case stored. Required.
	Direction string `yaml:"direction"`
	// Pull is the input's pull resistor: "up", "down" or "none". Inputs
	// only. Any case is accepted in the file; lower case is stored.
	// Default: "none" for inputs.
	Pull string `yaml:"pull"`
	// Edge is the input's changes that notify observers: "both", "rising"
	// (to 1), "falling" (to 0), or "none" (no interrupts: the pin is
	// polled). Edges are of the level the resource shows, after invert:
	// with invert, "rising" is the pin going low. Inputs only. Any case is
	// accepted in the file; lower case is stored. Default: "both" for
	// inputs.
	Edge string `yaml:"edge"`
	// Debounce is how long the input's level must hold before a change
	// counts: 0..1s. Inputs only. Default: 0, no debouncing.
	Debounce Duration `yaml:"debounce"`
	// Initial is the output's level at boot: 0 or 1, the level the resource
	// shows (with invert, 1 drives the pin low). Outputs only. Default: 0
	// for outputs.
	Initial *int `yaml:"initial"`
	// Restart is the output's level after a restart of the appliance:
	// "initial" (the level of initial) or "last" (the last level set, kept
	// in /perm). Outputs only. Any case is accepted in the file; lower case
	// is stored. Default: "initial" for outputs.
	Restart string `yaml:"restart"`
	// Invert makes the pin active-low: level 1 is the pin low. Default:
	// false.
	Invert bool `yaml:"invert"`
}

// The values of GPIO.Direction, Pull, Edge and Restart.
const (
	GPIOIn  = "in"
	GPIOOut = "out"

	PullUp   = "up"
	PullDown = "down"
	PullNone = "none"

	EdgeBoth    = "both"
	EdgeRising  = "rising"
	EdgeFalling = "falling"
	EdgeNone    = "none"

	RestartInitial = "initial"
	RestartLast    = "last"
)

// Defaults and rules of the sensors and gpio sections.
const (
	defaultI2CBus     = 1 // the I2C bus on the Pi's header
	maxI2CBus         = 31
	minI2CAddr        = 0x03 // 7-bit addresses not reserved (I2C-bus specification, 3.1.12)
	maxI2CAddr        = 0x77
	defaultInterval   = 10 * time.Second
	minInterval       = 100 * time.Millisecond
	maxInterval       = 24 * time.Hour
	maxDebounce       = time.Second
	maxHeaderGPIO     = 27 // GPIO0..GPIO27 are on the Pi's 40-pin header
	gpioPrefix        = "GPIO"
	bcmPrefix         = "BCM"
	oneWireDevices    = "/sys/bus/w1/devices"
	exampleOneWireID  = "28-0316a2794dff"
	exampleThermalDir = "/sys/class/thermal/thermal_zone0"
)

// The buses of sensors.Driver.Bus.
const (
	busI2C     = "i2c"
	busOneWire = "1-wire"
	busSysfs   = "sysfs"
	busNone    = "none"
)

// Number returns the pin's BCM number, such as 17 for "GPIO17" or
// "BCM17", or -1 for a Pin that Validate refuses.
func (g GPIO) Number() int {
	n, msg := parsePin(g.Pin)
	if msg != "" {
		return -1
	}
	return n
}

// Input reports whether the pin is an input: whether Direction is "in".
func (g GPIO) Input() bool { return g.Direction == GPIOIn }

// BusModules are the kernel modules the configured sensors need to reach their buses, for
// PID 1 to load before the sensors start: i2c-dev for /dev/i2c-N, and w1-gpio with w1-therm
// for 1-Wire thermometers. A kernel that builds them in has nothing to load.
func (c *Config) BusModules() []string {
	var i2c, w1 bool
	for _, s := range c.Sensors {
		d, err := sensors.Lookup(s.Kind)
		if err != nil {
			continue
		}
		i2c = i2c || d.Bus == "i2c"
		w1 = w1 || d.Bus == "1-wire"
	}
	var mods []string
	if i2c {
		mods = append(mods, "i2c-dev")
	}
	if w1 {
		mods = append(mods, "w1-gpio", "w1-therm")
	}
	return mods
}
