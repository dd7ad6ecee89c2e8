package sensors

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"periph.io/x/conn/v3/i2c"
)

// LM75-class temperature sensors: the LM75, NXP LM75A and LM75B, TI TMP75 and TMP105 and their
// kin, read from the temperature register (pointer 0x00). The register holds a left-justified
// two's complement temperature of 9 to 12 bits, 0.5 °C per LSB at 9 bits down to 0.0625 °C at
// 12 (LM75B datasheet
// "Temperature register"; TMP75 datasheet "Temperature Register").
//
// The driver reads 11 bits (D15..D5, 0.125 °C per LSB), the LM75A's and LM75B's resolution. That
// is also right for the parts that read their unused low bits as zero, such as the TMP75 and
// TMP105 at their power-up 9 bits. Option resolution (9, 10, 11 or 12) changes it: 9 for the
// original LM75, whose datasheet leaves D6..D0 undefined; 12 for a TMP75 or TMP105 configured
// for 12 bits (the driver does not write the configuration register).
func init() {
	Register(Driver{
		Kind:        "lm75",
		Description: "LM75-class temperature sensor (LM75, LM75A/B, TMP75, TMP105)",
		Bus:         "i2c",
		DefaultAddr: 0x48,
		Quantities:  temperatureOnly(),
		Open: func(p Params) (Sensor, error) {
			// A2..A0 pick 0x48..0x4F on the LM75s and the TMP75; clones differ, so any address.
			dev, err := i2cDevice("lm75", p, 0x48, nil, "resolution")
			if err != nil {
				return nil, err
			}
			d := &lm75{dev: dev, bits: 11}
			if s, ok := p.Options["resolution"]; ok {
				n, err := strconv.Atoi(s)
				if err != nil || n < 9 || n > 12 {
					return nil, fmt.Errorf("lm75 at %#x: option resolution %q: want 9, 10, 11 or 12 (bits)", dev.Addr, s)
				}
				d.bits = uint(n)
			}
			return d, nil
		},
	})
}

// lm75 is one LM75-class sensor.
type lm75 struct {
	dev  i2c.Dev
	bits uint // 9..12
	mu   sync.Mutex
}

// Quantities implements Sensor.
func (d *lm75) Quantities() []Quantity { return temperatureOnly() }

// Read implements Sensor.
func (d *lm75) Read(ctx context.Context) ([]Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b [2]byte
	if err := d.dev.Tx([]byte{0x00}, b[:]); err != nil {
		return nil, fmt.Errorf("lm75 at %#x: read temperature: %w", d.dev.Addr, err)
	}
	return readings(d.Quantities(), lm75Celsius(uint16(b[0])<<8|uint16(b[1]), d.bits)), nil
}

// lm75Celsius converts the temperature register read at a resolution of bits (9..12): the top
// bits are the temperature in units of 2^-(bits-8) °C, the rest are dropped.
func lm75Celsius(raw uint16, bits uint) float64 {
	return float64(int16(raw)>>(16-bits)) / float64(int(1)<<(bits-8))
}
