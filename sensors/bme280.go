package sensors

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// The Bosch BME280 (temperature, pressure, humidity) and BMP280 (temperature, pressure), read in
// forced mode with every oversampling at x1 and the IIR filter off: the "weather monitoring"
// setting of BME280 datasheet BST-BME280-DS002 §3.5.1, one measurement per Read.
//
// Register map (BME280 §5.3, Table 18; the BMP280's, BST-BMP280-DS001 §4.2, is the same minus
// humidity): chip ID at 0xD0, calibration at 0x88..0xA1 and 0xE1..0xE7, ctrl_hum 0xF2, status
// 0xF3, ctrl_meas 0xF4, config 0xF5, data 0xF7..0xFE. Values are compensated with the
// datasheet's fixed-point formulas (BME280 §4.2.3; BMP280 §3.11.3), which give the temperature
// in 0.01 °C, the pressure in 1/256 Pa and the humidity in 1/1024 %RH.
func init() {
	Register(Driver{
		Kind:        "bme280",
		Description: "Bosch BME280 temperature, pressure and humidity sensor",
		Bus:         "i2c",
		DefaultAddr: 0x76,
		Quantities:  bme280Quantities(),
		Open: func(p Params) (Sensor, error) {
			return openBME280(p, "bme280", true)
		},
	})
	Register(Driver{
		Kind:        "bmp280",
		Description: "Bosch BMP280 temperature and pressure sensor",
		Bus:         "i2c",
		DefaultAddr: 0x76,
		Quantities:  bmp280Quantities(),
		Open: func(p Params) (Sensor, error) {
			return openBME280(p, "bmp280", false)
		},
	})
}

// BME280 registers (§5.3) and values.
const (
	bme280RegCalib1  = 0x88 // dig_T1..dig_P9, then (BME280) dig_H1 at 0xA1
	bme280RegCalib2  = 0xe1 // dig_H2..dig_H6 (BME280 only)
	bme280RegID      = 0xd0
	bme280RegCtrlHum = 0xf2
	bme280RegStatus  = 0xf3
	bme280RegCtrl    = 0xf4
	bme280RegConfig  = 0xf5
	bme280RegData    = 0xf7 // press_msb; burst read through hum_lsb 0xFE (§4)

	bme280ChipID = 0x60 // §5.4.1
	bmp280ChipID = 0x58 // BMP280 §4.3.1

	bme280CtrlHumX1 = 0x01 // osrs_h = x1 (§5.4.3)
	// osrs_t = x1 (bits 7:5 = 001), osrs_p = x1 (bits 4:2 = 001), mode = forced (01) (§5.4.5).
	bme280CtrlForcedX1 = 0x25
	bme280Measuring    = 0x08 // status bit 3, set while a conversion runs (§5.4.4)

	// Raw values the chip reports for a skipped measurement (§3.4).
	bme280Skipped20 = 0x80000
	bme280Skipped16 = 0x8000
)

// bme280 is one BME280 or BMP280.
type bme280 struct {
	kind     string
	dev      i2c.Dev
	humidity bool
	cal      bme280Calibration
	wait     time.Duration // the maximum measurement time

	mu sync.Mutex // one measurement at a time: a Read is several transactions
}

// bme280Calibration holds the trimming parameters (§4.2.2, Table 16).
type bme280Calibration struct {
	t1                             uint16
	t2, t3                         int16
	p1                             uint16
	p2, p3, p4, p5, p6, p7, p8, p9 int16
	h1, h3                         uint8
	h2, h4, h5                     int16
	h6                             int8
}

func openBME280(p Params, kind string, humidity bool) (*bme280, error) {
	dev, err := i2cDevice(kind, p, 0x76, []uint16{0x76, 0x77})
	if err != nil {
		return nil, err
	}
	d := &bme280{kind: kind, dev: dev, humidity: humidity}

	var id [1]byte
	if err := d.dev.Tx([]byte{bme280RegID}, id[:]); err != nil {
		return nil, d.errorf("read chip ID: %w", err)
	}
	want := byte(bme280ChipID)
	if !humidity {
		want = bmp280ChipID
	}
	if id[0] != want {
		return nil, d.errorf("chip ID 0x%02x (%s), want 0x%02x (%s)", id[0], boschChip(id[0]), want, boschChip(want))
	}

	// BME280 Table 16: 0x88..0xA1 (0xA0 unused, 0xA1 dig_H1); the BMP280 ends at 0x9F.
	n := 24
	if humidity {
		n = 26
	}
	c := make([]byte, n)
	if err := d.dev.Tx([]byte{bme280RegCalib1}, c); err != nil {
		return nil, d.errorf("read calibration: %w", err)
	}
	d.cal.decodeTP(c)
	if humidity {
		d.cal.h1 = c[25]
		var h [7]byte
		if err := d.dev.Tx([]byte{bme280RegCalib2}, h[:]); err != nil {
			return nil, d.errorf("read humidity calibration: %w", err)
		}
		d.cal.decodeH(h)
	}

	// Maximum measurement time (§9.1): 1.25 ms + 2.3 ms per oversampled temperature sample +
	// 2.3 ms × pressure samples + 0.575 ms + 2.3 ms × humidity samples + 0.575 ms.
	d.wait = 1250*time.Microsecond + 2300*time.Microsecond + 2875*time.Microsecond
	if humidity {
		d.wait += 2875 * time.Microsecond
	}
	return d, nil
}

// boschChip names the Bosch sensors whose chip ID register is at 0xD0.
func boschChip(id byte) string {
	switch id {
	case bme280ChipID:
		return "BME280"
	case bmp280ChipID:
		return "BMP280"
	case 0x56, 0x57:
		return "BMP280 sample"
	case 0x55:
		return "BMP180"
	case 0x61:
		return "BME680"
	}
	return "unknown"
}

// errorf names the device in an error: "bme280 at 0x76: read status: ...".
func (d *bme280) errorf(format string, a ...any) error {
	return fmt.Errorf("%s at %#x: "+format, append([]any{d.kind, d.dev.Addr}, a...)...)
}

// decodeTP reads dig_T1..dig_P9: little-endian 16-bit words from 0x88 (Table 16).
func (c *bme280Calibration) decodeTP(b []byte) {
	u := func(i int) uint16 { return uint16(b[i]) | uint16(b[i+1])<<8 }
	s := func(i int) int16 { return int16(u(i)) }
	c.t1, c.t2, c.t3 = u(0), s(2), s(4)
	c.p1, c.p2, c.p3, c.p4, c.p5 = u(6), s(8), s(10), s(12), s(14)
	c.p6, c.p7, c.p8, c.p9 = s(16), s(18), s(20), s(22)
}

// decodeH reads dig_H2..dig_H6 from 0xE1..0xE7 (Table 16). dig_H4 and dig_H5 are signed 12-bit
// values sharing 0xE5: dig_H4 is 0xE4[7:0] then 0xE5[3:0], dig_H5 is 0xE5[7:4] then 0xE6[7:0].
func (c *bme280Calibration) decodeH(h [7]byte) {
	c.h2 = int16(uint16(h[0]) | uint16(h[1])<<8)
	c.h3 = h[2]
	c.h4 = int16(int8(h[3]))<<4 | int16(h[4]&0x0f)
	c.h5 = int16(int8(h[5]))<<4 | int16(h[4]>>4)
	c.h6 = int8(h[6])
}

// Quantities implements Sensor.
func (d *bme280) Quantities() []Quantity {
	if d.humidity {
		return bme280Quantities()
	}
	return bmp280Quantities()
}

func bmp280Quantities() []Quantity {
	return []Quantity{{nameTemperature, unitCelsius}, {namePressure, unitPascal}}
}

func bme280Quantities() []Quantity { return append(bmp280Quantities(), Quantity{nameHumidity, unitRH}) }

// Read implements Sensor: one forced-mode measurement (§3.3.3).
func (d *bme280) Read(ctx context.Context) ([]Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()

	// An I2C write is register/value pairs (§6.2.1). ctrl_hum takes effect only on the next
	// write to ctrl_meas (§5.4.3), so it goes first; config is writable in sleep mode (§5.4.6),
	// where forced mode leaves the chip between measurements.
	cmd := []byte{bme280RegConfig, 0x00, bme280RegCtrl, bme280CtrlForcedX1}
	if d.humidity {
		cmd = append([]byte{bme280RegCtrlHum, bme280CtrlHumX1}, cmd...)
	}
	if err := d.dev.Tx(cmd, nil); err != nil {
		return nil, d.errorf("start measurement: %w", err)
	}
	if err := sleep(ctx, d.wait); err != nil {
		return nil, d.errorf("wait for measurement: %w", err)
	}
	const polls = 10
	for i := 0; ; i++ {
		var s [1]byte
		if err := d.dev.Tx([]byte{bme280RegStatus}, s[:]); err != nil {
			return nil, d.errorf("read status: %w", err)
		}
		if s[0]&bme280Measuring == 0 {
			break
		}
		if i == polls {
			return nil, d.errorf("measurement still running after %v", d.wait+polls*time.Millisecond)
		}
		if err := sleep(ctx, time.Millisecond); err != nil {
			return nil, d.errorf("wait for measurement: %w", err)
		}
	}

	// Burst read of the data registers (§4): press_msb, lsb, xlsb[7:4], temp_msb, lsb,
	// xlsb[7:4] (§5.4.7, §5.4.8), then (BME280) hum_msb, hum_lsb (§5.4.9).
	n := 6
	if d.humidity {
		n = 8
	}
	b := make([]byte, n)
	if err := d.dev.Tx([]byte{bme280RegData}, b); err != nil {
		return nil, d.errorf("read data: %w", err)
	}
	adcP := int32(b[0])<<12 | int32(b[1])<<4 | int32(b[2])>>4
	adcT := int32(b[3])<<12 | int32(b[4])<<4 | int32(b[5])>>4
	if adcT == bme280Skipped20 || adcP == bme280Skipped20 {
		return nil, d.errorf("measurement skipped (raw temperature %#x, pressure %#x)", adcT, adcP)
	}
	centi, tFine := d.cal.temperature(adcT)
	p, ok := d.cal.pressure(adcP, tFine)
	if !ok {
		return nil, d.errorf("pressure compensation divides by zero (dig_P1 = %d)", d.cal.p1)
	}
	vs := []float64{float64(centi) / 100, float64(p) / 256}
	if d.humidity {
		adcH := int32(b[6])<<8 | int32(b[7])
		if adcH == bme280Skipped16 {
			return nil, d.errorf("humidity measurement skipped (raw %#x)", adcH)
		}
		vs = append(vs, float64(d.cal.humidity(adcH, tFine))/1024)
	}
	return readings(d.Quantities(), vs...), nil
}

// temperature compensates a raw temperature (§4.2.3, "BME280_compensate_T_int32"): it returns
// the temperature in 0.01 °C and t_fine, the fine temperature the other compensations use.
func (c *bme280Calibration) temperature(adcT int32) (centi, tFine int32) {
	t1, t2, t3 := int32(c.t1), int32(c.t2), int32(c.t3)
	var1 := ((adcT>>3 - t1<<1) * t2) >> 11
	x := adcT>>4 - t1
	var2 := (((x * x) >> 12) * t3) >> 14
	tFine = var1 + var2
	return (tFine*5 + 128) >> 8, tFine
}

// pressure compensates a raw pressure (§4.2.3, "BME280_compensate_P_int64"): it returns the
// pressure in 1/256 Pa, and false where the formula would divide by zero.
func (c *bme280Calibration) pressure(adcP, tFine int32) (uint32, bool) {
	var1 := int64(tFine) - 128000
	var2 := var1 * var1 * int64(c.p6)
	var2 += (var1 * int64(c.p5)) << 17
	var2 += int64(c.p4) << 35
	var1 = (var1*var1*int64(c.p3))>>8 + (var1*int64(c.p2))<<12
	var1 = ((int64(1)<<47 + var1) * int64(c.p1)) >> 33
	if var1 == 0 {
		return 0, false
	}
	p := 1048576 - int64(adcP)
	p = ((p<<31 - var2) * 3125) / var1
	var1 = (int64(c.p9) * (p >> 13) * (p >> 13)) >> 25
	var2 = (int64(c.p8) * p) >> 19
	p = (p+var1+var2)>>8 + int64(c.p7)<<4
	return uint32(p), true
}

// humidity compensates a raw humidity (§4.2.3, "bme280_compensate_H_int32"): it returns the
// relative humidity in 1/1024 %RH, limited to 0..100 %RH.
func (c *bme280Calibration) humidity(adcH, tFine int32) uint32 {
	h1, h2, h3 := int32(c.h1), int32(c.h2), int32(c.h3)
	h4, h5, h6 := int32(c.h4), int32(c.h5), int32(c.h6)
	v := tFine - 76800
	v = (((adcH<<14 - h4<<20 - h5*v) + 16384) >> 15) *
		(((((((v*h6)>>10)*(((v*h3)>>11)+32768))>>10)+2097152)*h2 + 8192) >> 14)
	v -= ((((v >> 15) * (v >> 15)) >> 7) * h1) >> 4
	v = max(v, 0)
	v = min(v, 419430400) // 100 %RH in Q22.10, shifted left 12
	return uint32(v >> 12)
}
