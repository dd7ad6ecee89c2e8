// Package timesrc is time as a dependency. Protocol clients with long timers (a DHCP lease, an
// LwM2M registration's lifetime) take a Clock, so that their tests run hours of schedule in
// milliseconds on a clock of their own, and the appliance gives them System.
package timesrc

import "time"

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer fires once on C after its duration; a duration <= 0 fires at once.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it stopped it.
	Stop() bool
}

// System is the system's clock. The times it gives carry the monotonic reading, so deadlines
// survive the wall clock being stepped by NTP.
type System struct{}

func (System) Now() time.Time                 { return time.Now() }
func (System) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }
