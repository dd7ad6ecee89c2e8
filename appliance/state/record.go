package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// ErrCorrupt is wrapped by errors about records whose content or file name
// fails the integrity checks.
var ErrCorrupt = errors.New("corrupt record")

// A record on disk is a 16-byte header followed by the data; integers are
// big-endian:
//
//	offset  size  field
//	0       4     magic "PGS1"
//	4       8     length of the data in bytes
//	12      4     CRC-32C (Castagnoli) of the data
//	16      n     data
const (
	recordMagic = "PGS1"
	headerLen   = 16
)

func checksum(data []byte) uint32 {
	return crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
}

// recordHeader returns the header to write in front of data.
func recordHeader(data []byte) []byte {
	h := make([]byte, headerLen)
	copy(h, recordMagic)
	binary.BigEndian.PutUint64(h[4:12], uint64(len(data)))
	binary.BigEndian.PutUint32(h[12:16], checksum(data))
	return h
}

// decodeRecord checks a whole record file and returns its data, which
// aliases b.
func decodeRecord(b []byte) ([]byte, error) {
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: %d bytes is shorter than the %d-byte header", ErrCorrupt, len(b), headerLen)
	}
	if string(b[:4]) != recordMagic {
		return nil, fmt.Errorf("%w: bad magic %q, want %q", ErrCorrupt, b[:4], recordMagic)
	}
	data := b[headerLen:]
	if n := binary.BigEndian.Uint64(b[4:12]); n != uint64(len(data)) {
		return nil, fmt.Errorf("%w: header says %d data bytes, file holds %d", ErrCorrupt, n, len(data))
	}
	if want, got := binary.BigEndian.Uint32(b[12:16]), checksum(data); got != want {
		return nil, fmt.Errorf("%w: CRC-32C is %#08x, header says %#08x", ErrCorrupt, got, want)
	}
	return data, nil
}
