package sensors

import (
	"context"
	"errors"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// A high repeatability measurement (0xFD), then temperature 0x6666 (CRC 0x93) and humidity
// 0x9999 (CRC 0xBE): 25 °C, 69 %RH.
func sht4xConversation(addr uint16) (open, read []i2ctest.IO) {
	return nil, []i2ctest.IO{
		{Addr: addr, W: []byte{0xfd}},
		{Addr: addr, R: []byte{0x66, 0x66, 0x93, 0x99, 0x99, 0xbe}},
	}
}

func TestSHT4xRead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  []byte
		t, rh float64
	}{
		// T = -45 + 175 × S_T / 65535, RH = -6 + 125 × S_RH / 65535 cropped to 0..100.
		{"25 °C, 69 %RH", []byte{0x66, 0x66, 0x93, 0x99, 0x99, 0xbe}, 25, 69},
		{"0x3333", []byte{0x33, 0x33, 0x88, 0x33, 0x33, 0x88}, -10, 19},
		{"0x6666", []byte{0x66, 0x66, 0x93, 0x66, 0x66, 0x93}, 25, 44},
		{"0x8000", []byte{0x80, 0x00, 0xa2, 0x80, 0x00, 0xa2}, -45 + 175*32768.0/65535, -6 + 125*32768.0/65535},
		{"cropped to 0", []byte{0x00, 0x00, 0x81, 0x00, 0x00, 0x81}, -45, 0},
		{"cropped to 100", []byte{0xff, 0xff, 0xac, 0xff, 0xff, 0xac}, 130, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bus := playback([]i2ctest.IO{
				{Addr: 0x46, W: []byte{0xfd}},
				{Addr: 0x46, R: tc.data},
			})
			s := openKind(t, "sht4x", Params{Bus: bus, Options: map[string]string{"addr": "0x46"}})
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

func TestSHT4xReadErrors(t *testing.T) {
	cmd := i2ctest.IO{Addr: 0x44, W: []byte{0xfd}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		ops    []i2ctest.IO
		failAt int
		want   []string
		is     error
	}{
		{"no device", context.Background(), nil, 0, []string{"sht4x at 0x44: start measurement: i2c: no acknowledge"}, errNACK},
		{"not ready", context.Background(), []i2ctest.IO{cmd}, 1, []string{"sht4x at 0x44: read measurement: i2c: no acknowledge"}, errNACK},
		{"cancelled", cancelled, []i2ctest.IO{cmd}, -1, []string{"sht4x at 0x44: wait for measurement: context canceled"}, context.Canceled},
		{"temperature CRC", context.Background(), []i2ctest.IO{cmd, {Addr: 0x44, R: []byte{0x66, 0x67, 0x93, 0x99, 0x99, 0xbe}}}, -1,
			[]string{"sht4x at 0x44: temperature word 0x6667: CRC mismatch: got 0x93"}, nil},
		{"humidity CRC", context.Background(), []i2ctest.IO{cmd, {Addr: 0x44, R: []byte{0x66, 0x66, 0x93, 0x99, 0x99, 0xbf}}}, -1,
			[]string{"sht4x at 0x44: humidity word 0x9999: CRC mismatch: got 0xbf, computed 0xbe"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openKind(t, "sht4x", Params{Bus: nack(tc.failAt, tc.ops)})
			_, err := s.Read(tc.ctx)
			checkErr(t, err, tc.want...)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}
