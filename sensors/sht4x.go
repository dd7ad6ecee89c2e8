package sensors

import (
	"context"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// The Sensirion SHT4x (SHT40, SHT41, SHT43, SHT45) humidity and temperature sensor, measured at
// high repeatability (SHT4x datasheet, "Command Overview": command 0xFD). The chip does not
// acknowledge a read until the measurement is done, so Read waits the longest measurement
// duration (datasheet "Timings": 8.3 ms at high repeatability) before reading temperature and
// humidity, each a 16-bit word followed by its CRC-8 ("Checksum Calculation"), and converts
// them with the datasheet's "Conversion of Signal Output":
//
//	T = -45 + 175 × S_T / (2^16 - 1) °C
//	RH = -6 + 125 × S_RH / (2^16 - 1) %RH, cropped to 0..100 %RH as the datasheet advises
func init() {
	Register(Driver{
		Kind:        "sht4x",
		Description: "Sensirion SHT4x humidity and temperature sensor",
		Bus:         "i2c",
		DefaultAddr: 0x44,
		Quantities:  temperatureHumidity(),
		Open: func(p Params) (Sensor, error) {
			// 0x44 for the …-AD1B parts, 0x45 for …-BD1B, 0x46 for …-CD1B.
			dev, err := i2cDevice("sht4x", p, 0x44, []uint16{0x44, 0x45, 0x46})
			if err != nil {
				return nil, err
			}
			return &sht4x{dev: dev}, nil
		},
	})
}

const sht4xWait = 10 * time.Millisecond // 8.3 ms, plus a margin

// sht4x is one SHT4x.
type sht4x struct {
	dev i2c.Dev
	mu  sync.Mutex // one measurement at a time
}

// Quantities implements Sensor.
func (d *sht4x) Quantities() []Quantity { return temperatureHumidity() }

// Read implements Sensor.
func (d *sht4x) Read(ctx context.Context) ([]Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	w, err := sensirionMeasure(ctx, "sht4x", &d.dev, []byte{0xfd}, sht4xWait)
	if err != nil {
		return nil, err
	}
	t := -45 + 175*float64(w[0])/65535
	rh := min(max(-6+125*float64(w[1])/65535, 0), 100)
	return readings(d.Quantities(), t, rh), nil
}
