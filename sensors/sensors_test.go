package sensors

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// errNACK stands for a device that does not acknowledge.
var errNACK = errors.New("i2c: no acknowledge")

// nackBus plays back a conversation, except that transaction number failAt (0-based) fails as
// a device that does not answer would.
type nackBus struct {
	i2ctest.Playback
	failAt int
}

func (b *nackBus) Tx(addr uint16, w, r []byte) error {
	b.Lock()
	fail := b.Count == b.failAt
	b.Unlock()
	if fail {
		return errNACK
	}
	return b.Playback.Tx(addr, w, r)
}

// nack returns a nackBus that plays back ops.
func nack(failAt int, ops ...[]i2ctest.IO) *nackBus {
	return &nackBus{Playback: i2ctest.Playback{Ops: slices.Concat(ops...), DontPanic: true}, failAt: failAt}
}

// playback returns a bus that expects exactly ops, and that reports a deviation as an error
// rather than a panic.
func playback(ops ...[]i2ctest.IO) *i2ctest.Playback {
	return &i2ctest.Playback{Ops: slices.Concat(ops...), DontPanic: true}
}

// checkReadings compares readings, values within tol.
func checkReadings(t *testing.T, got, want []Reading, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d readings %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].Quantity != want[i].Quantity || math.Abs(got[i].Value-want[i].Value) > tol {
			t.Errorf("reading %d: got %v %.6f, want %v %.6f (±%g)", i, got[i].Quantity, got[i].Value, want[i].Quantity, want[i].Value, tol)
		}
	}
}

// checkErr checks that err is not nil and says all of want.
func checkErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// conversations gives, for every I2C kind, what Open and one Read exchange with a device at addr.
func conversations() map[string]func(addr uint16) (open, read []i2ctest.IO) {
	return map[string]func(addr uint16) (open, read []i2ctest.IO){
		"bme280": bme280Conversation,
		"bmp280": bmp280Conversation,
		"sht3x":  sht3xConversation,
		"sht4x":  sht4xConversation,
		"tmp102": tmp102Conversation,
		"lm75":   lm75Conversation,
		"bh1750": bh1750Conversation,
	}
}

// Every I2C kind opens at its DefaultAddr when Params.Addr is 0, reads what its Quantities say in
// that order, and uses only the SenML names and units the appliance serves.
func TestKinds(t *testing.T) {
	units := map[string]string{
		nameTemperature: unitCelsius,
		namePressure:    unitPascal,
		nameHumidity:    unitRH,
		nameIlluminance: unitLux,
	}
	convs := conversations()
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			d, err := Lookup(kind)
			if err != nil {
				t.Fatal(err)
			}
			if d.Bus != "i2c" {
				t.Skipf("bus %s", d.Bus)
			}
			if d.Kind != kind || d.DefaultAddr == 0 || d.Description == "" || d.Open == nil {
				t.Fatalf("driver %+v: want its kind, a default address, a description and Open", d)
			}
			conv, ok := convs[kind]
			if !ok {
				t.Fatalf("kind %s has no conversation in conversations()", kind)
			}
			open, read := conv(d.DefaultAddr)
			bus := playback(open, read)
			s, err := d.Open(Params{Bus: bus})
			if err != nil {
				t.Fatal(err)
			}
			rs, err := s.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := bus.Close(); err != nil {
				t.Error(err)
			}
			qs := s.Quantities()
			if len(qs) == 0 || len(qs) != len(rs) {
				t.Fatalf("Quantities() %v, Read() %v", qs, rs)
			}
			for i, q := range qs {
				if rs[i].Quantity != q {
					t.Errorf("reading %d is %v, Quantities() says %v", i, rs[i].Quantity, q)
				}
				if u, ok := units[q.Name]; !ok || u != q.Unit {
					t.Errorf("quantity %v: want one of %v", q, units)
				}
			}
		})
	}
}

// Concurrent Reads of one device do not interleave their transactions.
func TestConcurrentReads(t *testing.T) {
	const n = 3
	for kind, conv := range conversations() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			d, err := Lookup(kind)
			if err != nil {
				t.Fatal(err)
			}
			open, read := conv(d.DefaultAddr)
			ops := [][]i2ctest.IO{open}
			for range n {
				ops = append(ops, read)
			}
			bus := playback(ops...)
			s, err := d.Open(Params{Bus: bus})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					if _, err := s.Read(context.Background()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if err := bus.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

// The parameters every I2C driver checks.
func TestOpenParams(t *testing.T) {
	for _, tc := range []struct {
		kind string
		p    Params
		want []string
	}{
		{"bme280", Params{}, []string{"bme280: no I2C bus"}},
		{"sht3x", Params{Bus: playback(), Addr: 0x46}, []string{"sht3x: address 0x46", "0x44, 0x45"}},
		{"sht4x", Params{Bus: playback(), Options: map[string]string{"addr": "0x47"}}, []string{"sht4x: address 0x47"}},
		{"tmp102", Params{Bus: playback(), Options: map[string]string{"addr": "72x"}}, []string{`tmp102: option addr "72x"`}},
		{"lm75", Params{Bus: playback(), Options: map[string]string{"addr": "0x80"}}, []string{`lm75: option addr "0x80"`}},
		{"bh1750", Params{Bus: playback(), Addr: 0x23, Options: map[string]string{"addr": "0x5c"}}, []string{"bh1750: option addr 0x5c contradicts address 0x23"}},
		{"bh1750", Params{Bus: playback(), Options: map[string]string{"mode": "h2", "gain": "2"}}, []string{`bh1750: unknown options ["gain" "mode"] (known: addr)`}},
		{"lm75", Params{Bus: playback(), Options: map[string]string{"resolution": "8"}}, []string{`lm75 at 0x48: option resolution "8"`}},
		{"lm75", Params{Bus: playback(), Options: map[string]string{"resolution": "eleven"}}, []string{`option resolution "eleven"`}},
		{"lm75", Params{Bus: playback(), Options: map[string]string{"bits": "9"}}, []string{`lm75: unknown options ["bits"] (known: addr, resolution)`}},
	} {
		d, err := Lookup(tc.kind)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Open(tc.p)
		checkErr(t, err, tc.want...)
	}
}

// sleep returns as soon as its context is done.
func TestSleepCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, 3600e9); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleep: %v, want %v", err, context.Canceled)
	}
}
