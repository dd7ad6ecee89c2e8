package dhcp4

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when the test says so.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*fakeTimer]bool
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, timers: map[*fakeTimer]bool{}}
}

type fakeTimer struct {
	clk  *fakeClock
	when time.Time
	c    chan time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{clk: f, when: f.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- f.now
		return t
	}
	f.timers[t] = true
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	active := t.clk.timers[t]
	delete(t.clk.timers, t)
	return active
}

// advanceTo sets the time and fires the timers that are due.
func (f *fakeClock) advanceTo(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
	for t := range f.timers {
		if !t.when.After(now) {
			t.c <- now
			delete(f.timers, t)
		}
	}
}

// pending is the earliest timer's deadline.
func (f *fakeClock) pending() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var first time.Time
	for t := range f.timers {
		if first.IsZero() || t.when.Before(first) {
			first = t.when
		}
	}
	return first, !first.IsZero()
}

// waitTimer waits until the client waits for a timer due at when.
func (f *fakeClock) waitTimer(t *testing.T, when time.Time) {
	t.Helper()
	waitFor(t, "a timer at "+when.String(), func() bool {
		w, ok := f.pending()
		return ok && w.Equal(when)
	})
}

// nextTimer waits until the client waits for a timer, and returns when it is due.
func (f *fakeClock) nextTimer(t *testing.T) time.Time {
	t.Helper()
	var w time.Time
	waitFor(t, "a timer", func() bool {
		var ok bool
		w, ok = f.pending()
		return ok
	})
	return w
}

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
