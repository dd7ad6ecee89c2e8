package sensors

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// crc8 is the checksum Sensirion's humidity sensors append to every 16-bit word: CRC-8 with
// polynomial x^8 + x^5 + x^4 + 1 (0x31), initial value 0xFF, no reflection, no final XOR
// (SHT3x-DIS datasheet §4.12, SHT4x datasheet "Checksum Calculation"; both give the example
// 0xBEEF → 0x92).
func crc8(data []byte) byte {
	crc := byte(0xff)
	for _, b := range data {
		crc ^= b
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ 0x31
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// sensirionWords checks and decodes a Sensirion read: big-endian 16-bit words, each followed by
// its crc8. names label the words in errors ("temperature", "humidity").
func sensirionWords(b []byte, names ...string) ([]uint16, error) {
	if len(b) != 3*len(names) {
		return nil, fmt.Errorf("read %d bytes, want %d", len(b), 3*len(names))
	}
	ws := make([]uint16, len(names))
	for i, name := range names {
		w := b[3*i : 3*i+2]
		if got, want := b[3*i+2], crc8(w); got != want {
			return nil, fmt.Errorf("%s word 0x%02x%02x: CRC mismatch: got 0x%02x, computed 0x%02x", name, w[0], w[1], got, want)
		}
		ws[i] = uint16(w[0])<<8 | uint16(w[1])
	}
	return ws, nil
}

// sensirionMeasure runs one single-shot measurement of a Sensirion humidity sensor: the
// command, the wait, then two CRC-checked words (temperature, humidity), which the chips'
// own formulas turn into values.
func sensirionMeasure(ctx context.Context, chip string, dev *i2c.Dev, cmd []byte, wait time.Duration) ([]uint16, error) {
	if err := dev.Tx(cmd, nil); err != nil {
		return nil, fmt.Errorf("%s at %#x: start measurement: %w", chip, dev.Addr, err)
	}
	if err := sleep(ctx, wait); err != nil {
		return nil, fmt.Errorf("%s at %#x: wait for measurement: %w", chip, dev.Addr, err)
	}
	var b [6]byte
	if err := dev.Tx(nil, b[:]); err != nil {
		return nil, fmt.Errorf("%s at %#x: read measurement: %w", chip, dev.Addr, err)
	}
	w, err := sensirionWords(b[:], nameTemperature, nameHumidity)
	if err != nil {
		return nil, fmt.Errorf("%s at %#x: %w", chip, dev.Addr, err)
	}
	return w, nil
}
