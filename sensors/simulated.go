package sensors

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// A simulated weather station, so that `pigw run` on a laptop serves temperature, humidity
// and pressure that look like a real sensor's: smooth daily curves (warmest at 15:00, most
// humid at dawn, the atmosphere's twice-daily pressure tide), a slow drift over days as
// weather fronts would bring, and a little noise. Every value is a function of the time
// Params.Now gives and of option seed (an integer, default 1) alone, with no state between
// Reads, so a test that fixes the clock gets the same readings on every run and machine, and
// two simulated sensors with different seeds disagree as two real ones would. The time of
// day is taken in the location of the time Now returns.
func init() {
	Register(Driver{
		Kind:        "simulated",
		Description: "simulated temperature, humidity and pressure for development and demos",
		Bus:         "none",
		Quantities:  simulatedQuantities(),
		Open:        openSimulated,
	})
}

func openSimulated(p Params) (Sensor, error) {
	s := &simulated{seed: 1, now: p.Now}
	for k, v := range p.Options {
		if k != "seed" {
			return nil, fmt.Errorf("simulated: unknown options %q (known: seed)", optionNames(p.Options))
		}
		n, err := strconv.ParseInt(v, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("simulated: option seed %q: not an integer", v)
		}
		s.seed = uint64(n)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// simulated is one simulated station; it holds no state, so Reads may overlap.
type simulated struct {
	seed uint64
	now  func() time.Time
}

// Quantities implements Sensor.
func (s *simulated) Quantities() []Quantity { return simulatedQuantities() }

func simulatedQuantities() []Quantity {
	return []Quantity{{nameTemperature, unitCelsius}, {nameHumidity, unitRH}, {namePressure, unitPascal}}
}

// Read implements Sensor.
func (s *simulated) Read(ctx context.Context) ([]Reading, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("simulated: %w", err)
	}
	t := s.now()
	h, m, sec := t.Clock()
	day := (float64(h*3600+m*60+sec) + float64(t.Nanosecond())/1e9) / 86400 // 0..1 from midnight
	daily := math.Cos(2 * math.Pi * (day - 15.0/24))                        // 1 at 15:00, -1 at 03:00
	tide := math.Cos(2 * math.Pi * 2 * (day - 10.0/24))                     // highs at 10:00 and 22:00

	// Each term has its own noise stream, so that they wander independently.
	base := 15 + 2*s.noise(0, t, 1000*time.Hour) // this station's climate, nearly constant
	temp := base + 5*daily + 3*s.noise(1, t, 36*time.Hour) + 0.3*s.noise(2, t, 20*time.Minute)
	hum := 60 - 15*daily + 10*s.noise(4, t, 30*time.Hour) + 1.5*s.noise(5, t, 15*time.Minute)
	pres := 101325 + 80*tide + 1200*s.noise(6, t, 48*time.Hour) + 8*s.noise(7, t, 10*time.Minute)

	return readings(s.Quantities(),
		math.Round(temp*100)/100,
		math.Round(min(max(hum, 0), 100)*10)/10,
		math.Round(pres),
	), nil
}

// noise is smooth value noise in [-1, 1]: a pseudo-random value at every multiple of period
// since the Unix epoch, eased from one to the next. It depends on the seed, the stream and t.
func (s *simulated) noise(stream uint64, t time.Time, period time.Duration) float64 {
	ns := t.UnixNano()
	p := int64(period)
	k := ns / p
	if ns%p < 0 {
		k-- // floor, for times before 1970
	}
	f := float64(ns-k*p) / float64(p)
	f = f * f * (3 - 2*f) // smoothstep: no kinks at the knots
	a, b := s.knot(stream, k), s.knot(stream, k+1)
	return a + (b-a)*f
}

// knot is the value at knot k of a stream, in [-1, 1]: the SplitMix64 finalizer applied to
// the seed, stream and k.
func (s *simulated) knot(stream uint64, k int64) float64 {
	x := s.seed*0x9e3779b97f4a7c15 ^ stream*0xbf58476d1ce4e5b9 ^ uint64(k)*0x94d049bb133111eb
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<52) - 1
}
