package sensors

import (
	"context"
	"errors"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// A single shot measurement, high repeatability, no clock stretching (0x2400), then the result:
// temperature 0x6666 (CRC 0x93), humidity 0x6666 (CRC 0x93): 25 °C, 40 %RH.
func sht3xConversation(addr uint16) (open, read []i2ctest.IO) {
	return nil, []i2ctest.IO{
		{Addr: addr, W: []byte{0x24, 0x00}},
		{Addr: addr, R: []byte{0x66, 0x66, 0x93, 0x66, 0x66, 0x93}},
	}
}

func TestSHT3xRead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  []byte
		t, rh float64
	}{
		// §4.13: T = -45 + 175 × S_T / 65535, RH = 100 × S_RH / 65535.
		{"25 °C, 40 %RH", []byte{0x66, 0x66, 0x93, 0x66, 0x66, 0x93}, 25, 40},
		{"minimum", []byte{0x00, 0x00, 0x81, 0x00, 0x00, 0x81}, -45, 0},
		{"maximum", []byte{0xff, 0xff, 0xac, 0xff, 0xff, 0xac}, 130, 100},
		{"0x3333, 0x9999", []byte{0x33, 0x33, 0x88, 0x99, 0x99, 0xbe}, -10, 60},
		{"0x8000", []byte{0x80, 0x00, 0xa2, 0x80, 0x00, 0xa2}, -45 + 175*32768.0/65535, 100 * 32768.0 / 65535},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bus := playback([]i2ctest.IO{
				{Addr: 0x45, W: []byte{0x24, 0x00}},
				{Addr: 0x45, R: tc.data},
			})
			s := openKind(t, "sht3x", Params{Bus: bus, Addr: 0x45})
			got, err := s.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkReadings(t, got, []Reading{
				{Quantity{"temperature", "Cel"}, tc.t},
				{Quantity{"humidity", "%RH"}, tc.rh},
			}, 1e-9)
			if err := bus.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSHT3xReadErrors(t *testing.T) {
	cmd := i2ctest.IO{Addr: 0x44, W: []byte{0x24, 0x00}}
	for _, tc := range []struct {
		name   string
		ops    []i2ctest.IO
		failAt int
		want   []string
		nack   bool
	}{
		{"no device", nil, 0, []string{"sht3x at 0x44: start measurement: i2c: no acknowledge"}, true},
		{"not ready", []i2ctest.IO{cmd}, 1, []string{"sht3x at 0x44: read measurement: i2c: no acknowledge"}, true},
		{"temperature CRC", []i2ctest.IO{cmd, {Addr: 0x44, R: []byte{0x66, 0x66, 0x92, 0x66, 0x66, 0x93}}}, -1,
			[]string{"sht3x at 0x44: temperature word 0x6666: CRC mismatch: got 0x92, computed 0x93"}, false},
		{"humidity CRC", []i2ctest.IO{cmd, {Addr: 0x44, R: []byte{0x66, 0x66, 0x93, 0x66, 0x66, 0x00}}}, -1,
			[]string{"sht3x at 0x44: humidity word 0x6666: CRC mismatch: got 0x00, computed 0x93"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openKind(t, "sht3x", Params{Bus: nack(tc.failAt, tc.ops)})
			_, err := s.Read(context.Background())
			checkErr(t, err, tc.want...)
			if errors.Is(err, errNACK) != tc.nack {
				t.Errorf("errors.Is(%v, errNACK) = %t", err, !tc.nack)
			}
		})
	}
}

// openKind opens a sensor of a kind, failing the test on an error.
func openKind(t *testing.T, kind string, p Params) Sensor {
	t.Helper()
	d, err := Lookup(kind)
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
