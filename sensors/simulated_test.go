package sensors

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// simulatedAt opens a simulated sensor whose clock is *now.
func simulatedAt(t *testing.T, now *time.Time, opts map[string]string) Sensor {
	t.Helper()
	s, err := openSimulated(Params{Options: opts, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readAt(t *testing.T, s Sensor) []Reading {
	t.Helper()
	rs, err := s.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Over simulated days in every season, minute by minute, values stay plausible, change
// smoothly, and afternoons are warmer and drier than nights.
func TestSimulatedDay(t *testing.T) {
	for _, seed := range []string{"1", "2", "-7", "0x5eed"} {
		for _, day := range []string{"2025-01-15", "2025-04-01", "2025-07-20", "2025-10-31"} {
			t.Run(seed+"/"+day, func(t *testing.T) {
				now, err := time.Parse(time.DateOnly, day)
				if err != nil {
					t.Fatal(err)
				}
				s := simulatedAt(t, &now, map[string]string{"seed": seed})
				lo := [3]float64{-10, 5, 95000} // °C, %RH, Pa
				hi := [3]float64{40, 100, 106000}
				step := [3]float64{0.2, 1, 10} // at most per minute
				var prev []Reading
				var night, afternoon [3]float64 // sums over 02:00-05:00 and 13:00-16:00
				for m := 0; m < 24*60; m++ {
					rs := readAt(t, s)
					for i, r := range rs {
						if r.Value < lo[i] || r.Value > hi[i] {
							t.Fatalf("%s %s = %g, want %g..%g", now.Format(time.TimeOnly), r.Name, r.Value, lo[i], hi[i])
						}
						if prev != nil && math.Abs(r.Value-prev[i].Value) > step[i] {
							t.Fatalf("%s %s jumped from %g to %g", now.Format(time.TimeOnly), r.Name, prev[i].Value, r.Value)
						}
						switch h := now.Hour(); {
						case h >= 2 && h < 5:
							night[i] += r.Value
						case h >= 13 && h < 16:
							afternoon[i] += r.Value
						}
					}
					prev = rs
					now = now.Add(time.Minute)
				}
				if afternoon[0] <= night[0] || afternoon[1] >= night[1] {
					t.Errorf("mean afternoon %.1f °C %.1f %%RH, night %.1f °C %.1f %%RH: want warmer and drier afternoons",
						afternoon[0]/180, afternoon[1]/180, night[0]/180, night[1]/180)
				}
			})
		}
	}
}

func TestSimulatedDeterministic(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 34, 56, 789, time.UTC)
	a := readAt(t, simulatedAt(t, &at, nil))
	b := readAt(t, simulatedAt(t, &at, map[string]string{"seed": "1"}))
	c := readAt(t, simulatedAt(t, &at, map[string]string{"seed": "2"}))
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("seed 1 gives %v, default seed %v: want the same", b, a)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Errorf("seeds 1 and 2 both give %v", a)
	}
	// The same instant in another location is another time of day, hence another reading;
	// the same wall clock and instant again is the same reading.
	again := at.In(time.FixedZone("", 0))
	if d := readAt(t, simulatedAt(t, &again, nil)); fmt.Sprint(d) != fmt.Sprint(a) {
		t.Errorf("same instant and wall clock: %v, want %v", d, a)
	}
	tokyo := at.In(time.FixedZone("JST", 9*3600))
	if d := readAt(t, simulatedAt(t, &tokyo, nil)); fmt.Sprint(d) == fmt.Sprint(a) {
		t.Errorf("21:34 JST reads as 12:34 UTC: %v", d)
	}
}

func TestSimulatedBeforeEpoch(t *testing.T) {
	at := time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC)
	s := simulatedAt(t, &at, nil)
	prev := readAt(t, s)
	for range 3 {
		at = at.Add(30 * time.Second)
		rs := readAt(t, s)
		if math.Abs(rs[0].Value-prev[0].Value) > 0.5 {
			t.Errorf("across 1970: %v then %v", prev, rs)
		}
		prev = rs
	}
}

func TestSimulatedOpen(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		err  string
	}{
		{map[string]string{"seed": "x"}, `simulated: option seed "x": not an integer`},
		{map[string]string{"seed": "1", "speed": "2"}, `simulated: unknown options ["seed" "speed"] (known: seed)`},
	} {
		_, err := openSimulated(Params{Options: tc.opts})
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Open(%v): %v, want an error saying %q", tc.opts, err, tc.err)
		}
	}
	d, err := Lookup("simulated")
	if err != nil {
		t.Fatal(err)
	}
	if d.Bus != "none" || d.Description == "" {
		t.Errorf("driver %+v", d)
	}
	s, err := d.Open(Params{}) // the real clock
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Read(ctx); err == nil {
		t.Error("Read with a cancelled context succeeded")
	}
	if rs, err := s.Read(context.Background()); err != nil || len(rs) != 3 {
		t.Errorf("Read() = %v, %v", rs, err)
	}
}

func Example_simulated() {
	d, err := Lookup("simulated")
	if err != nil {
		fmt.Println(err)
		return
	}
	clock := func() time.Time { return time.Date(2025, 7, 20, 15, 0, 0, 0, time.UTC) }
	s, err := d.Open(Params{Options: map[string]string{"seed": "42"}, Now: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	rs, err := s.Read(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rs {
		fmt.Printf("%s %g %s\n", r.Name, r.Value, r.Unit)
	}
	// Output:
	// temperature 19.35 Cel
	// humidity 40.6 %RH
	// pressure 100939 Pa
}
