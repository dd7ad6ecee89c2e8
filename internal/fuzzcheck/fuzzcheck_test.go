package fuzzcheck

import (
	"strings"
	"testing"
)

var sink []byte

func TestAllocatedCountsLargeAllocations(t *testing.T) {
	for _, size := range []int{64 << 10, 1 << 20, 8 << 20} {
		got := Allocated(func() { sink = make([]byte, size) })
		if got < uint64(size) || got > uint64(size)+Slack/4 {
			t.Errorf("allocating %d bytes: Allocated says %d", size, got)
		}
	}
}

// failTB records a Fatalf instead of stopping the test.
type failTB struct {
	testing.TB
	msg string
}

func (f *failTB) Helper() {}
func (f *failTB) Fatalf(format string, args ...any) {
	f.msg = format
}

func TestBounded(t *testing.T) {
	ok := &failTB{TB: t}
	Bounded(ok, 100, 16, func() { sink = make([]byte, 1600) })
	if ok.msg != "" {
		t.Errorf("1600 bytes for 100 input bytes at 16 per byte: failed")
	}
	// An input of 16 bytes that claims 100 MiB.
	bad := &failTB{TB: t}
	Bounded(bad, 16, 64, func() { sink = make([]byte, 100<<20) })
	if !strings.Contains(bad.msg, "allocated") {
		t.Errorf("100 MiB for 16 input bytes: passed")
	}
	sink = nil
}
