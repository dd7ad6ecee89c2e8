package sensors

import "fmt"

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
