package sensors

import (
	"context"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// The Sensirion SHT3x (SHT30, SHT31, SHT35) humidity and temperature sensor, read in single shot
// mode at high repeatability with clock stretching disabled (SHT3x-DIS datasheet §4.3, Table 9:
// command 0x2400). The chip does not acknowledge a read until the measurement is done, so Read
// waits the longest measurement duration (§2.2, Table 4: 15 ms at high repeatability) before
// reading temperature and humidity, each a 16-bit word followed by its CRC-8 (§4.4, §4.12),
// and converts them with §4.13:
//
//	T = -45 + 175 × S_T / (2^16 - 1) °C
//	RH = 100 × S_RH / (2^16 - 1) %RH
func init() {
	Register(Driver{
		Kind:        "sht3x",
		Description: "Sensirion SHT3x humidity and temperature sensor",
		Bus:         "i2c",
		DefaultAddr: 0x44,
		Quantities:  temperatureHumidity(),
		Open: func(p Params) (Sensor, error) {
			dev, err := i2cDevice("sht3x", p, 0x44, []uint16{0x44, 0x45}) // ADDR pin low, high (§3.3)
			if err != nil {
				return nil, err
			}
			return &sht3x{dev: dev}, nil
		},
	})
}

const sht3xWait = 16 * time.Millisecond // Table 4's 15 ms, plus a margin

// sht3x is one SHT3x.
type sht3x struct {
	dev i2c.Dev
	mu  sync.Mutex // one measurement at a time
}

// Quantities implements Sensor.
func (d *sht3x) Quantities() []Quantity { return temperatureHumidity() }

// Read implements Sensor.
func (d *sht3x) Read(ctx context.Context) ([]Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	w, err := sensirionMeasure(ctx, "sht3x", &d.dev, []byte{0x24, 0x00}, sht3xWait)
	if err != nil {
		return nil, err
	}
	t := -45 + 175*float64(w[0])/65535
	rh := 100 * float64(w[1]) / 65535
	return readings(d.Quantities(), t, rh), nil
}
