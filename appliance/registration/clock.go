package registration

import "time"

// Clock is the engine's time: the system's, or in tests one that runs faster.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer fires once on C after its duration; a duration <= 0 fires at once.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// realClock is the system's clock; its times carry the monotonic reading, so an NTP step
// moves no deadline.
type realClock struct{}

func (realClock) Now() time.Time                 { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }
