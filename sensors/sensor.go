// Package sensors reads the sensors wired to the Pi and turns them into values the appliance
// serves as CoAP resources. Drivers are written on periph.io's conn interfaces (I2C, 1-Wire
// through the kernel, files under /sys), each checked against its datasheet; a driver is one
// file that registers itself by kind, so adding one touches nothing else.
package sensors

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// Quantity is one thing a sensor measures, with its SenML unit (RFC 8428 §12.1): "Cel", "Pa",
// "%RH", "lx".
type Quantity struct {
	Name string // "temperature", "pressure", "humidity", "illuminance"
	Unit string
}

// The quantities several kinds share, a new slice each time.
func temperatureOnly() []Quantity { return []Quantity{{nameTemperature, unitCelsius}} }
func temperatureHumidity() []Quantity {
	return []Quantity{{nameTemperature, unitCelsius}, {nameHumidity, unitRH}}
}

// Reading is one measured value.
type Reading struct {
	Quantity
	Value float64
}

// Sensor is one device.
type Sensor interface {
	// Quantities lists what Read returns, in order.
	Quantities() []Quantity
	// Read measures now. Errors name the device and what failed (a NACK, a CRC mismatch).
	Read(ctx context.Context) ([]Reading, error)
}

// Params are what a driver gets to open its device.
type Params struct {
	Bus     i2c.Bus           // the I2C bus, for I2C sensors
	Addr    uint16            // the I2C address; 0: the driver's default
	Path    string            // a file or directory, for sensors the kernel exposes (1-Wire, thermal)
	Options map[string]string // driver-specific settings, validated by the driver
	Now     func() time.Time  // for simulated sensors; nil: time.Now
}

// Driver opens a sensor of its kind.
type Driver struct {
	Kind        string // "bme280"
	Description string
	Bus         string // "i2c", "1-wire", "sysfs" or "none"
	DefaultAddr uint16 // for I2C
	// Quantities lists what a sensor of this kind measures, as its Quantities does once
	// open: for whoever must know before the first reading (LwM2M's object list).
	Quantities []Quantity
	Open       func(p Params) (Sensor, error)
}

// registry holds the drivers by kind; drivers add themselves in init.
var registry = struct {
	sync.Mutex
	m map[string]Driver
}{m: map[string]Driver{}}

// Register adds a driver; a kind registered twice is a programming error.
func Register(d Driver) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[d.Kind]; dup {
		panic("sensors: driver " + d.Kind + " registered twice")
	}
	registry.m[d.Kind] = d
}

// Lookup returns the driver of a kind.
func Lookup(kind string) (Driver, error) {
	registry.Lock()
	defer registry.Unlock()
	d, ok := registry.m[kind]
	if !ok {
		return Driver{}, fmt.Errorf("sensor kind %q: not known (known: %v)", kind, kindsLocked())
	}
	d.Quantities = slices.Clone(d.Quantities)
	return d, nil
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	registry.Lock()
	defer registry.Unlock()
	return kindsLocked()
}

func kindsLocked() []string {
	ks := make([]string, 0, len(registry.m))
	for k := range registry.m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
