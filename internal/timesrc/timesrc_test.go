package timesrc

import (
	"testing"
	"time"
)

func TestSystemTimer(t *testing.T) {
	var c Clock = System{}
	start := c.Now()
	tm := c.NewTimer(10 * time.Millisecond)
	select {
	case at := <-tm.C():
		if at.Sub(start) < 10*time.Millisecond {
			t.Errorf("fired %v after it was made, want 10ms or more", at.Sub(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the timer did not fire")
	}
	if c.NewTimer(time.Hour).Stop() != true {
		t.Error("Stop of a running timer: false")
	}
}
