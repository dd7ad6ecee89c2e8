package sensors

import (
	"context"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/i2c"
)

// The Texas Instruments TMP102 temperature sensor (datasheet SBOS397), read from its temperature
// register (pointer 0x00) while it converts continuously, as it does from power-up (4 Hz).
//
// The register holds a left-justified two's complement value of 0.0625 °C per LSB ("Temperature
// Register" and its tables of the data formats): 12 bits (D15..D4) in normal mode; 13 bits (D15..D3) in extended
// mode, which bit D0 flags with a 1, so the driver follows either setting of the EM bit without
// reading the configuration register.
func init() {
	Register(Driver{
		Kind:        "tmp102",
		Description: "TI TMP102 temperature sensor",
		Bus:         "i2c",
		DefaultAddr: 0x48,
		Quantities:  temperatureOnly(),
		Open: func(p Params) (Sensor, error) {
			// ADD0 to GND, V+, SDA, SCL ("Serial Bus Address").
			dev, err := i2cDevice("tmp102", p, 0x48, []uint16{0x48, 0x49, 0x4a, 0x4b})
			if err != nil {
				return nil, err
			}
			return &tmp102{dev: dev}, nil
		},
	})
}

// tmp102 is one TMP102.
type tmp102 struct {
	dev i2c.Dev
	mu  sync.Mutex // the pointer write and the read belong together
}

// Quantities implements Sensor.
func (d *tmp102) Quantities() []Quantity { return temperatureOnly() }

// Read implements Sensor.
func (d *tmp102) Read(ctx context.Context) ([]Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b [2]byte
	if err := d.dev.Tx([]byte{0x00}, b[:]); err != nil {
		return nil, fmt.Errorf("tmp102 at %#x: read temperature: %w", d.dev.Addr, err)
	}
	return readings(d.Quantities(), tmp102Celsius(uint16(b[0])<<8|uint16(b[1]))), nil
}

// tmp102Celsius converts the temperature register.
func tmp102Celsius(raw uint16) float64 {
	shift := 4 // normal mode: 12 bits
	if raw&1 != 0 {
		shift = 3 // extended mode: 13 bits
	}
	return float64(int16(raw)>>shift) * 0.0625
}
