package sensors

import "testing"

func TestCRC8(t *testing.T) {
	for _, tc := range []struct {
		data []byte
		want byte
	}{
		{[]byte{0xbe, 0xef}, 0x92}, // SHT3x-DIS §4.12, Table 19; SHT4x "Checksum Calculation"
		{[]byte{0x00, 0x00}, 0x81},
		{[]byte{0xff, 0xff}, 0xac},
		{[]byte{0x66, 0x66}, 0x93},
		{nil, 0xff}, // the initial value
	} {
		if got := crc8(tc.data); got != tc.want {
			t.Errorf("crc8(%#x) = %#02x, want %#02x", tc.data, got, tc.want)
		}
	}
}

func TestSensirionWords(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want []uint16
		err  string
	}{
		{[]byte{0xbe, 0xef, 0x92, 0x66, 0x66, 0x93}, []uint16{0xbeef, 0x6666}, ""},
		{[]byte{0xbe, 0xef, 0x93, 0x66, 0x66, 0x93}, nil, "temperature word 0xbeef: CRC mismatch: got 0x93, computed 0x92"},
		{[]byte{0xbe, 0xef, 0x92, 0x66, 0x67, 0x93}, nil, "humidity word 0x6667: CRC mismatch: got 0x93, computed 0x"},
		{[]byte{0xbe, 0xef, 0x92}, nil, "read 3 bytes, want 6"},
	} {
		got, err := sensirionWords(tc.b, "temperature", "humidity")
		if tc.err != "" {
			checkErr(t, err, tc.err)
			continue
		}
		if err != nil || len(got) != 2 || got[0] != tc.want[0] || got[1] != tc.want[1] {
			t.Errorf("sensirionWords(%#x) = %#x, %v; want %#x", tc.b, got, err, tc.want)
		}
	}
}
