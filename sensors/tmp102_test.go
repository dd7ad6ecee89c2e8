package sensors

import (
	"context"
	"errors"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// The temperature register (pointer 0x00) reads 0x1900: 25 °C.
func tmp102Conversation(addr uint16) (open, read []i2ctest.IO) {
	return nil, []i2ctest.IO{{Addr: addr, W: []byte{0x00}, R: []byte{0x19, 0x00}}}
}

func TestTMP102Read(t *testing.T) {
	// The datasheet's tables of the temperature data format; the register holds the 12-bit value
	// in D15..D4, or (extended mode) the 13-bit value in D15..D3 with D0 set.
	for _, tc := range []struct {
		data []byte
		want float64
	}{
		// Normal mode, 12 bits.
		{[]byte{0x7f, 0xf0}, 127.9375}, // 0x7FF
		{[]byte{0x64, 0x00}, 100},      // 0x640
		{[]byte{0x50, 0x00}, 80},       // 0x500
		{[]byte{0x4b, 0x00}, 75},       // 0x4B0
		{[]byte{0x32, 0x00}, 50},       // 0x320
		{[]byte{0x19, 0x00}, 25},       // 0x190
		{[]byte{0x00, 0x40}, 0.25},     // 0x004
		{[]byte{0x00, 0x00}, 0},        // 0x000
		{[]byte{0xff, 0xc0}, -0.25},    // 0xFFC
		{[]byte{0xe7, 0x00}, -25},      // 0xE70
		{[]byte{0xc9, 0x00}, -55},      // 0xC90
		// Extended mode, 13 bits.
		{[]byte{0x4b, 0x01}, 150},      // 0x0960
		{[]byte{0x40, 0x01}, 128},      // 0x0800
		{[]byte{0x3f, 0xf9}, 127.9375}, // 0x07FF
		{[]byte{0x0c, 0x81}, 25},       // 0x0190
		{[]byte{0x00, 0x01}, 0},        // 0x0000
		{[]byte{0xff, 0xe1}, -0.25},    // 0x1FFC
		{[]byte{0xf3, 0x81}, -25},      // 0x1E70
		{[]byte{0xe4, 0x81}, -55},      // 0x1C90
	} {
		bus := playback([]i2ctest.IO{{Addr: 0x4b, W: []byte{0x00}, R: tc.data}})
		s := openKind(t, "tmp102", Params{Bus: bus, Addr: 0x4b})
		got, err := s.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		checkReadings(t, got, []Reading{{Quantity{"temperature", "Cel"}, tc.want}}, 0)
		if err := bus.Close(); err != nil {
			t.Error(err)
		}
	}
}

func TestTMP102ReadError(t *testing.T) {
	s := openKind(t, "tmp102", Params{Bus: nack(0)})
	_, err := s.Read(context.Background())
	checkErr(t, err, "tmp102 at 0x48: read temperature: i2c: no acknowledge")
	if !errors.Is(err, errNACK) {
		t.Errorf("error %v is not %v", err, errNACK)
	}
}
