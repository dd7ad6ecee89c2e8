package sensors

import (
	"context"
	"errors"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// Power On (0x01), One Time H-Resolution Mode (0x20), then the result of the datasheet's
// "Measurement sequence example": 0x8390, 28067 lx.
func bh1750Conversation(addr uint16) (open, read []i2ctest.IO) {
	return nil, []i2ctest.IO{
		{Addr: addr, W: []byte{0x01}},
		{Addr: addr, W: []byte{0x20}},
		{Addr: addr, R: []byte{0x83, 0x90}},
	}
}

func TestBH1750Read(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Params
		addr uint16
		data []byte
		want float64
	}{
		// (2^15 + 2^9 + 2^8 + 2^7 + 2^4) / 1.2 ≈ 28067 lx.
		{"datasheet example", Params{}, 0x23, []byte{0x83, 0x90}, 33680 / 1.2},
		{"0x8340", Params{}, 0x23, []byte{0x83, 0x40}, 28000},
		{"dark", Params{Addr: 0x5c}, 0x5c, []byte{0x00, 0x00}, 0},
		{"full scale", Params{Options: map[string]string{"addr": "92"}}, 0x5c, []byte{0xff, 0xff}, 54612.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bus := playback([]i2ctest.IO{
				{Addr: tc.addr, W: []byte{0x01}},
				{Addr: tc.addr, W: []byte{0x20}},
				{Addr: tc.addr, R: tc.data},
			})
			tc.p.Bus = bus
			s := openKind(t, "bh1750", tc.p)
			got, err := s.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkReadings(t, got, []Reading{{Quantity{"illuminance", "lx"}, tc.want}}, 1e-9)
			if err := bus.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestBH1750ReadErrors(t *testing.T) {
	_, read := bh1750Conversation(0x23)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		ops    []i2ctest.IO
		failAt int
		want   string
		is     error
	}{
		{"no device", context.Background(), nil, 0, "bh1750 at 0x23: power on: i2c: no acknowledge", errNACK},
		{"mode", context.Background(), read[:1], 1, "bh1750 at 0x23: start measurement: i2c: no acknowledge", errNACK},
		{"cancelled", cancelled, read[:2], -1, "bh1750 at 0x23: wait for measurement: context canceled", context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := nack(tc.failAt, tc.ops)
			s := openKind(t, "bh1750", Params{Bus: bus})
			_, err := s.Read(tc.ctx)
			checkErr(t, err, tc.want)
			if !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if err := bus.Close(); tc.failAt < 0 && err != nil {
				t.Error(err)
			}
		})
	}
}
