package sensors

import (
	"context"
	"errors"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// The temperature register (pointer 0x00) reads 0x1900: 25 °C.
func lm75Conversation(addr uint16) (open, read []i2ctest.IO) {
	return nil, []i2ctest.IO{{Addr: addr, W: []byte{0x00}, R: []byte{0x19, 0x00}}}
}

func TestLM75Read(t *testing.T) {
	for _, tc := range []struct {
		resolution string // "": the default, 11 bits
		data       []byte
		want       float64
	}{
		// LM75A/B: 11 bits in D15..D5 (their datasheets' table of temperature register values).
		{"", []byte{0x7f, 0x00}, 127},     // 0x3F8
		{"", []byte{0x7d, 0x00}, 125},     // 0x3E8
		{"", []byte{0x19, 0x00}, 25},      // 0x0C8
		{"", []byte{0x00, 0x20}, 0.125},   // 0x001
		{"", []byte{0x00, 0x00}, 0},       // 0x000
		{"", []byte{0xff, 0xe0}, -0.125},  // 0x7FF
		{"", []byte{0xe7, 0x00}, -25},     // 0x738
		{"", []byte{0xc9, 0x20}, -54.875}, // 0x649
		{"11", []byte{0xc9, 0x00}, -55},   // 0x648
		{"", []byte{0x19, 0x1f}, 25},      // unused D4..D0 ignored
		// LM75: 9 bits in D15..D7; D6..D0 are undefined.
		{"9", []byte{0x7d, 0x00}, 125},  // 0x0FA
		{"9", []byte{0x19, 0x7f}, 25},   // 0x032
		{"9", []byte{0x00, 0x80}, 0.5},  // 0x001
		{"9", []byte{0xff, 0x80}, -0.5}, // 0x1FF
		{"9", []byte{0xe7, 0x00}, -25},  // 0x1CE
		{"9", []byte{0xc9, 0x7f}, -55},  // 0x192
		// TMP75/TMP105 at 10 and 12 bits.
		{"10", []byte{0x19, 0x40}, 25.25},    // 0x065
		{"10", []byte{0xe6, 0xc0}, -25.25},   // 0x39B
		{"12", []byte{0x19, 0x10}, 25.0625},  // 0x191
		{"12", []byte{0x7f, 0xf0}, 127.9375}, // 0x7FF
		{"12", []byte{0xff, 0xf0}, -0.0625},  // 0xFFF
		{"12", []byte{0xe6, 0xf0}, -25.0625}, // 0xE6F
		{"12", []byte{0xc9, 0x00}, -55},      // 0xC90
		// The most negative value at each resolution.
		{"9", []byte{0x80, 0x00}, -128},
		{"10", []byte{0x80, 0x00}, -128},
		{"11", []byte{0x80, 0x00}, -128},
		{"12", []byte{0x80, 0x00}, -128},
		// All ones: -1 LSB at each resolution.
		{"9", []byte{0xff, 0xff}, -0.5},
		{"10", []byte{0xff, 0xff}, -0.25},
		{"11", []byte{0xff, 0xff}, -0.125},
		{"12", []byte{0xff, 0xff}, -0.0625},
	} {
		var opts map[string]string
		if tc.resolution != "" {
			opts = map[string]string{"resolution": tc.resolution}
		}
		bus := playback([]i2ctest.IO{{Addr: 0x4f, W: []byte{0x00}, R: tc.data}})
		s := openKind(t, "lm75", Params{Bus: bus, Addr: 0x4f, Options: opts})
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

func TestLM75ReadError(t *testing.T) {
	s := openKind(t, "lm75", Params{Bus: nack(0), Addr: 0x4a})
	_, err := s.Read(context.Background())
	checkErr(t, err, "lm75 at 0x4a: read temperature: i2c: no acknowledge")
	if !errors.Is(err, errNACK) {
		t.Errorf("error %v is not %v", err, errNACK)
	}
}
