package sensors

import (
	"context"
	"errors"
	"slices"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// The worked compensation example of the BMP280 datasheet (BST-BMP280-DS001, "Calculating
// pressure and temperature"), whose formulas the BME280 shares:
// dig_T1 27504, dig_T2 26435, dig_T3 -1000, dig_P1 36477, dig_P2 -10685, dig_P3 3024,
// dig_P4 2855, dig_P5 140, dig_P6 -7, dig_P7 15500, dig_P8 -14600, dig_P9 6000, as stored
// little-endian from 0x88 (BME280 §4.2.2, Table 16).
func bmp280ExampleCalibration() []byte {
	return []byte{
		0x70, 0x6b, // dig_T1 0x6B70
		0x43, 0x67, // dig_T2 0x6743
		0x18, 0xfc, // dig_T3 0xFC18
		0x7d, 0x8e, // dig_P1 0x8E7D
		0x43, 0xd6, // dig_P2 0xD643
		0xd0, 0x0b, // dig_P3 0x0BD0
		0x27, 0x0b, // dig_P4 0x0B27
		0x8c, 0x00, // dig_P5 0x008C
		0xf9, 0xff, // dig_P6 0xFFF9
		0x8c, 0x3c, // dig_P7 0x3C8C
		0xf8, 0xc6, // dig_P8 0xC6F8
		0x70, 0x17, // dig_P9 0x1770
	}
}

// Humidity calibration of a typical BME280: dig_H1 75 (at 0xA1, after the unused 0xA0), and
// from 0xE1 dig_H2 362, dig_H3 0, dig_H4 313 (0x139), dig_H5 50 (0x032), dig_H6 30.
func bme280ExampleCalibration() []byte {
	return append(bmp280ExampleCalibration(), 0x00, 0x4b)
}

func bme280ExampleCalibrationH() []byte {
	return []byte{0x6a, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1e}
}

// The example's adc_P 415148 (0x655AC) and adc_T 519888 (0x7EED0), as the 20-bit values sit in
// 0xF7..0xFC (§5.4.7, §5.4.8), and adc_H 30000 (0x7530) at 0xFD..0xFE.
func bmp280ExampleData() []byte { return []byte{0x65, 0x5a, 0xc0, 0x7e, 0xed, 0x00} }

func bme280ExampleData() []byte { return append(bmp280ExampleData(), 0x75, 0x30) }

func bme280Conversation(addr uint16) (open, read []i2ctest.IO) {
	open = []i2ctest.IO{
		{Addr: addr, W: []byte{0xd0}, R: []byte{0x60}},
		{Addr: addr, W: []byte{0x88}, R: bme280ExampleCalibration()},
		{Addr: addr, W: []byte{0xe1}, R: bme280ExampleCalibrationH()},
	}
	read = []i2ctest.IO{
		// ctrl_hum osrs_h x1; config: no filter; ctrl_meas osrs_t x1, osrs_p x1, forced mode.
		{Addr: addr, W: []byte{0xf2, 0x01, 0xf5, 0x00, 0xf4, 0x25}},
		{Addr: addr, W: []byte{0xf3}, R: []byte{0x00}},
		{Addr: addr, W: []byte{0xf7}, R: bme280ExampleData()},
	}
	return open, read
}

func bmp280Conversation(addr uint16) (open, read []i2ctest.IO) {
	open = []i2ctest.IO{
		{Addr: addr, W: []byte{0xd0}, R: []byte{0x58}},
		{Addr: addr, W: []byte{0x88}, R: bmp280ExampleCalibration()},
	}
	read = []i2ctest.IO{
		{Addr: addr, W: []byte{0xf5, 0x00, 0xf4, 0x25}},
		{Addr: addr, W: []byte{0xf3}, R: []byte{0x00}},
		{Addr: addr, W: []byte{0xf7}, R: bmp280ExampleData()},
	}
	return open, read
}

func TestBME280Read(t *testing.T) {
	// The datasheet example: t_fine 128422, T 25.08 °C, p 100653.27 Pa (double formulas);
	// the 64-bit integer formula gives 25767233 / 256 Pa. Humidity: the double formula
	// (§8.1) gives 55.0007 %RH for the calibration above, the integer one 56317 / 1024 %RH.
	temperature := Reading{Quantity{"temperature", "Cel"}, 25.08}
	pressure := Reading{Quantity{"pressure", "Pa"}, 25767233.0 / 256}
	humidity := Reading{Quantity{"humidity", "%RH"}, 56317.0 / 1024}

	bmeOpen, bmeRead := bme280Conversation(0x76)
	bmpOpen, bmpRead := bmp280Conversation(0x76)
	bme77Open, bme77Read := bme280Conversation(0x77)
	for _, tc := range []struct {
		name string
		kind string
		p    Params
		ops  [][]i2ctest.IO
		want []Reading
	}{
		{"bme280", "bme280", Params{}, [][]i2ctest.IO{bmeOpen, bmeRead}, []Reading{temperature, pressure, humidity}},
		{"bmp280", "bmp280", Params{}, [][]i2ctest.IO{bmpOpen, bmpRead}, []Reading{temperature, pressure}},
		{"addr option", "bme280", Params{Options: map[string]string{"addr": "0x77"}}, [][]i2ctest.IO{bme77Open, bme77Read}, []Reading{temperature, pressure, humidity}},
		{"addr", "bme280", Params{Addr: 0x77}, [][]i2ctest.IO{bme77Open, bme77Read}, []Reading{temperature, pressure, humidity}},
		{"measuring", "bmp280", Params{}, [][]i2ctest.IO{bmpOpen, bmpRead[:1], {
			{Addr: 0x76, W: []byte{0xf3}, R: []byte{0x08}}, // measuring
			{Addr: 0x76, W: []byte{0xf3}, R: []byte{0x09}}, // measuring, im_update
			{Addr: 0x76, W: []byte{0xf3}, R: []byte{0x01}}, // done; im_update does not matter
		}, bmpRead[2:]}, []Reading{temperature, pressure}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := playback(tc.ops...)
			tc.p.Bus = bus
			d, err := Lookup(tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			s, err := d.Open(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Quantities, s.Quantities()) {
				t.Errorf("driver %s says %v, the open sensor %v", tc.kind, d.Quantities, s.Quantities())
			}
			got, err := s.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkReadings(t, got, tc.want, 1e-9)
			if err := bus.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

// The integer formulas agree with the datasheet's example and its double formulas.
func TestBME280Compensation(t *testing.T) {
	var c bme280Calibration
	c.decodeTP(bme280ExampleCalibration())
	c.h1 = bme280ExampleCalibration()[25]
	c.decodeH([7]byte(bme280ExampleCalibrationH()))
	want := bme280Calibration{
		t1: 27504, t2: 26435, t3: -1000,
		p1: 36477, p2: -10685, p3: 3024, p4: 2855, p5: 140, p6: -7, p7: 15500, p8: -14600, p9: 6000,
		h1: 75, h2: 362, h3: 0, h4: 313, h5: 50, h6: 30,
	}
	if c != want {
		t.Fatalf("calibration %+v, want %+v", c, want)
	}
	centi, tFine := c.temperature(519888)
	if centi != 2508 || tFine != 128422 {
		t.Errorf("temperature: %d (0.01 °C), t_fine %d; want 2508, 128422", centi, tFine)
	}
	p, ok := c.pressure(415148, tFine)
	if pa := float64(p) / 256; !ok || pa < 100653.27-0.05 || pa > 100653.27+0.05 {
		t.Errorf("pressure: %d/256 = %.2f Pa, want 100653.27", p, pa)
	}
	if rh := float64(c.humidity(30000, tFine)) / 1024; rh < 55.0007-0.01 || rh > 55.0007+0.01 {
		t.Errorf("humidity: %.4f %%RH, want 55.0007", rh)
	}
	// Out of range readings are limited to 0..100 %RH.
	if h := c.humidity(0, tFine); h != 0 {
		t.Errorf("humidity(0): %d, want 0", h)
	}
	if h := c.humidity(0xffff, tFine); h != 100<<10 {
		t.Errorf("humidity(0xffff): %d, want %d", h, 100<<10)
	}
	// dig_P1 0 would divide by zero.
	c.p1 = 0
	if _, ok := c.pressure(415148, tFine); ok {
		t.Error("pressure with dig_P1 = 0: no error")
	}
}

// dig_H4 and dig_H5 are signed 12-bit values that share 0xE5.
func TestBME280HumidityCalibrationNibbles(t *testing.T) {
	for _, tc := range []struct {
		e4, e5, e6 byte
		h4, h5     int16
	}{
		{0x13, 0x29, 0x03, 313, 50},
		{0xff, 0xf8, 0xff, -8, -1},
		{0x80, 0x0f, 0x7f, -2033, 0x7f0},
	} {
		var c bme280Calibration
		c.decodeH([7]byte{0, 0, 0, tc.e4, tc.e5, tc.e6, 0})
		if c.h4 != tc.h4 || c.h5 != tc.h5 {
			t.Errorf("0xE4..0xE6 = %#x %#x %#x: dig_H4 %d, dig_H5 %d; want %d, %d", tc.e4, tc.e5, tc.e6, c.h4, c.h5, tc.h4, tc.h5)
		}
	}
}

func TestBME280OpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind string
		bus  *nackBus
		want []string
		nack bool
	}{
		{"BMP280 as bme280", "bme280", nack(-1, []i2ctest.IO{{Addr: 0x76, W: []byte{0xd0}, R: []byte{0x58}}}),
			[]string{"bme280 at 0x76: chip ID 0x58 (BMP280), want 0x60 (BME280)"}, false},
		{"BME280 as bmp280", "bmp280", nack(-1, []i2ctest.IO{{Addr: 0x76, W: []byte{0xd0}, R: []byte{0x60}}}),
			[]string{"bmp280 at 0x76: chip ID 0x60 (BME280), want 0x58 (BMP280)"}, false},
		{"unknown chip", "bme280", nack(-1, []i2ctest.IO{{Addr: 0x76, W: []byte{0xd0}, R: []byte{0x00}}}),
			[]string{"bme280 at 0x76: chip ID 0x00 (unknown), want 0x60 (BME280)"}, false},
		{"no device", "bme280", nack(0),
			[]string{"bme280 at 0x76: read chip ID: i2c: no acknowledge"}, true},
		{"calibration", "bmp280", nack(1, []i2ctest.IO{{Addr: 0x76, W: []byte{0xd0}, R: []byte{0x58}}}),
			[]string{"bmp280 at 0x76: read calibration: "}, true},
		{"humidity calibration", "bme280", nack(2, bme280Open(0x76)[:2]),
			[]string{"bme280 at 0x76: read humidity calibration: "}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Lookup(tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Open(Params{Bus: tc.bus})
			checkErr(t, err, tc.want...)
			if errors.Is(err, errNACK) != tc.nack {
				t.Errorf("errors.Is(%v, errNACK) = %t", err, !tc.nack)
			}
		})
	}
}

func bme280Open(addr uint16) []i2ctest.IO {
	open, _ := bme280Conversation(addr)
	return open
}

func TestBME280ReadErrors(t *testing.T) {
	open, read := bme280Conversation(0x76)
	skipped := []i2ctest.IO{read[0], read[1], {Addr: 0x76, W: []byte{0xf7}, R: []byte{0x65, 0x5a, 0xc0, 0x80, 0x00, 0x00, 0x75, 0x30}}}
	skippedH := []i2ctest.IO{read[0], read[1], {Addr: 0x76, W: []byte{0xf7}, R: []byte{0x65, 0x5a, 0xc0, 0x7e, 0xed, 0x00, 0x80, 0x00}}}
	var busy []i2ctest.IO
	for range 11 {
		busy = append(busy, i2ctest.IO{Addr: 0x76, W: []byte{0xf3}, R: []byte{0x08}})
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		ops    [][]i2ctest.IO
		failAt int
		want   []string
		is     error
	}{
		{"start", context.Background(), [][]i2ctest.IO{open}, 3, []string{"bme280 at 0x76: start measurement: "}, errNACK},
		{"status", context.Background(), [][]i2ctest.IO{open, read[:1]}, 4, []string{"bme280 at 0x76: read status: "}, errNACK},
		{"data", context.Background(), [][]i2ctest.IO{open, read[:2]}, 5, []string{"bme280 at 0x76: read data: "}, errNACK},
		{"cancelled", cancelled, [][]i2ctest.IO{open, read[:1]}, -1, []string{"bme280 at 0x76: wait for measurement: "}, context.Canceled},
		{"busy", context.Background(), [][]i2ctest.IO{open, read[:1], busy}, -1, []string{"bme280 at 0x76: measurement still running after 19.3ms"}, nil},
		{"skipped", context.Background(), [][]i2ctest.IO{open, skipped}, -1, []string{"bme280 at 0x76: measurement skipped (raw temperature 0x80000, pressure 0x655ac)"}, nil},
		{"skipped humidity", context.Background(), [][]i2ctest.IO{open, skippedH}, -1, []string{"bme280 at 0x76: humidity measurement skipped (raw 0x8000)"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := nack(tc.failAt, tc.ops...)
			d, err := Lookup("bme280")
			if err != nil {
				t.Fatal(err)
			}
			s, err := d.Open(Params{Bus: bus})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Read(tc.ctx)
			checkErr(t, err, tc.want...)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if err := bus.Close(); tc.failAt < 0 && err != nil {
				t.Error(err)
			}
		})
	}
}
