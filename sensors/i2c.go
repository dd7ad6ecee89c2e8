package sensors

import (
	"context"
	"fmt"
	"github.com/pigw/pigw/internal/wait"
	"slices"
	"sort"
	"strconv"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// The quantities the I2C drivers measure, with their SenML units (RFC 8428 §12.1).
const (
	nameTemperature = "temperature"
	nameHumidity    = "humidity"
	namePressure    = "pressure"
	nameIlluminance = "illuminance"

	unitCelsius = "Cel"
	unitPascal  = "Pa"
	unitRH      = "%RH"
	unitLux     = "lx"
)

// i2cDevice resolves what every I2C driver needs from Params: the bus and the address, which is
// p.Addr, else the "addr" option (decimal or 0x-prefixed hex), else def. valid lists the
// addresses the chip can answer at (nil: any 7-bit address). Options other than "addr" and
// those in known are an error, so a typo in the configuration does not go unnoticed.
func i2cDevice(kind string, p Params, def uint16, valid []uint16, known ...string) (i2c.Dev, error) {
	var unknown []string
	for k := range p.Options {
		if k != "addr" && !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return i2c.Dev{}, fmt.Errorf("%s: unknown options %q (known: addr%s)", kind, unknown, knownList(known))
	}
	if p.Bus == nil {
		return i2c.Dev{}, fmt.Errorf("%s: no I2C bus", kind)
	}
	addr := p.Addr
	if s, ok := p.Options["addr"]; ok {
		a, err := strconv.ParseUint(s, 0, 7)
		if err != nil {
			return i2c.Dev{}, fmt.Errorf("%s: option addr %q: not a 7-bit I2C address", kind, s)
		}
		if addr != 0 && addr != uint16(a) {
			return i2c.Dev{}, fmt.Errorf("%s: option addr %#x contradicts address %#x", kind, a, addr)
		}
		addr = uint16(a)
	}
	if addr == 0 {
		addr = def
	}
	if addr > 0x7f || (valid != nil && !slices.Contains(valid, addr)) {
		return i2c.Dev{}, fmt.Errorf("%s: address %#x: the chip answers only at %s", kind, addr, addrList(valid))
	}
	return i2c.Dev{Bus: p.Bus, Addr: addr}, nil
}

func knownList(known []string) string {
	s := ""
	for _, k := range known {
		s += ", " + k
	}
	return s
}

func addrList(valid []uint16) string {
	if valid == nil {
		return "7-bit addresses (0x00..0x7f)"
	}
	s := ""
	for i, a := range valid {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%#x", a)
	}
	return s
}

// sleep waits d for a conversion, or returns ctx's error when the read is cancelled.
func sleep(ctx context.Context, d time.Duration) error {
	if !wait.Sleep(ctx, d) {
		return ctx.Err()
	}
	return nil
}

// readings pairs the quantities a sensor lists with the values it measured, in the same order.
func readings(qs []Quantity, values ...float64) []Reading {
	rs := make([]Reading, len(qs))
	for i, q := range qs {
		rs[i] = Reading{Quantity: q, Value: values[i]}
	}
	return rs
}
