package sensors_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/pigw/pigw/sensors"
)

func ExampleLookup() {
	// A BME280 at 0x76 holding the calibration of the BMP280 datasheet's worked example, played
	// back in place of an I2C bus.
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xd0}, R: []byte{0x60}}, // chip ID
		{Addr: 0x76, W: []byte{0x88}, R: []byte{ // dig_T1..dig_P9, 0xA0, dig_H1
			0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b, 0x27, 0x0b,
			0x8c, 0x00, 0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0x00, 0x4b}},
		{Addr: 0x76, W: []byte{0xe1}, R: []byte{0x6a, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1e}}, // dig_H2..dig_H6
		{Addr: 0x76, W: []byte{0xf2, 0x01, 0xf5, 0x00, 0xf4, 0x25}},                        // measure once
		{Addr: 0x76, W: []byte{0xf3}, R: []byte{0x00}},                                     // status: done
		{Addr: 0x76, W: []byte{0xf7}, R: []byte{0x65, 0x5a, 0xc0, 0x7e, 0xed, 0x00, 0x75, 0x30}},
	}}

	d, err := sensors.Lookup("bme280")
	if err != nil {
		log.Fatal(err)
	}
	s, err := d.Open(sensors.Params{Bus: bus}) // Addr 0: d.DefaultAddr
	if err != nil {
		log.Fatal(err)
	}
	rs, err := s.Read(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s at %#x:\n", d.Description, d.DefaultAddr)
	for _, r := range rs {
		fmt.Printf("%s %.2f %s\n", r.Name, r.Value, r.Unit)
	}
	// Output:
	// Bosch BME280 temperature, pressure and humidity sensor at 0x76:
	// temperature 25.08 Cel
	// pressure 100653.25 Pa
	// humidity 55.00 %RH
}
