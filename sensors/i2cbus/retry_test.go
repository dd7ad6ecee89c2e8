package i2cbus

import (
	"errors"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

func TestRetrying(t *testing.T) {
	opens := 0
	chip := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x48, W: []byte{0x00}, R: []byte{0x17, 0x80}}}}
	r := &retrying{bus: 7, open: func(bus int) (i2c.BusCloser, error) {
		opens++
		if opens < 3 {
			return nil, errors.New("open /dev/i2c-7: no such file or directory")
		}
		return chip, nil
	}}
	var b [2]byte
	for i := range 2 {
		if err := r.Tx(0x48, []byte{0x00}, b[:]); err == nil || !strings.Contains(err.Error(), "/dev/i2c-7") {
			t.Fatalf("Tx %d before the bus is there: %v, want the open error", i, err)
		}
	}
	if got := r.String(); got != "/dev/i2c-7 (not open)" {
		t.Errorf("String before open = %q", got)
	}
	if err := r.Tx(0x48, []byte{0x00}, b[:]); err != nil || b != [2]byte{0x17, 0x80} {
		t.Fatalf("Tx once the bus is there: %v %x", err, b)
	}
	if err := r.Tx(0x48, []byte{0x00}, b[:]); err == nil {
		t.Error("the playback has one transaction; a second must fail, not reopen")
	}
	if opens != 3 {
		t.Errorf("opened %d times, want 3 (twice failing, then once)", opens)
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
}
