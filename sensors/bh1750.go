package sensors

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// The ROHM BH1750FVI ambient light sensor, read in one time high-resolution mode (datasheet
// "Instruction Set Architecture": Power On 0x01, One Time H-Resolution Mode 0x20). After the
// longest measurement time of that mode ("Electrical Characteristics": 180 ms) Read takes the
// 16-bit result, MSB first, and converts it with the datasheet's "Measurement sequence example":
// lx = count / 1.2 at the default measurement time (MTreg 69). The chip powers down by itself
// after a one time measurement.
func init() {
	Register(Driver{
		Kind:        "bh1750",
		Description: "ROHM BH1750FVI ambient light sensor",
		Bus:         "i2c",
		DefaultAddr: 0x23,
		Quantities:  bh1750Quantities(),
		Open: func(p Params) (Sensor, error) {
			dev, err := i2cDevice("bh1750", p, 0x23, []uint16{0x23, 0x5c}) // ADDR low, high
			if err != nil {
				return nil, err
			}
			return &bh1750{dev: dev}, nil
		},
	})
}

// BH1750 instructions.
const (
	bh1750PowerOn      = 0x01
	bh1750OneTimeH     = 0x20
	bh1750WaitOneTimeH = 180 * time.Millisecond
)

// bh1750 is one BH1750.
type bh1750 struct {
	dev i2c.Dev
	mu  sync.Mutex // one measurement at a time
}

// Quantities implements Sensor.
func (d *bh1750) Quantities() []Quantity { return bh1750Quantities() }

func bh1750Quantities() []Quantity { return []Quantity{{nameIlluminance, unitLux}} }

// Read implements Sensor.
func (d *bh1750) Read(ctx context.Context) ([]Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.dev.Tx([]byte{bh1750PowerOn}, nil); err != nil {
		return nil, fmt.Errorf("bh1750 at %#x: power on: %w", d.dev.Addr, err)
	}
	if err := d.dev.Tx([]byte{bh1750OneTimeH}, nil); err != nil {
		return nil, fmt.Errorf("bh1750 at %#x: start measurement: %w", d.dev.Addr, err)
	}
	if err := sleep(ctx, bh1750WaitOneTimeH); err != nil {
		return nil, fmt.Errorf("bh1750 at %#x: wait for measurement: %w", d.dev.Addr, err)
	}
	var b [2]byte
	if err := d.dev.Tx(nil, b[:]); err != nil {
		return nil, fmt.Errorf("bh1750 at %#x: read measurement: %w", d.dev.Addr, err)
	}
	return readings(d.Quantities(), float64(uint16(b[0])<<8|uint16(b[1]))/1.2), nil
}
