package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	clock := time.Unix(0, 0)
	now := func() time.Time { clock = clock.Add(100 * time.Millisecond); return clock }
	var b bytes.Buffer
	p := New(&b, false, "writing", 1000, now)
	for done := int64(0); done <= 1000; done += 50 {
		p.Update(done)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 10 || lines[9] != "writing 1000 B of 1000 B, 100%, 0.0 MB/s" {
		t.Errorf("got %d lines:\n%s", len(lines), b.String())
	}
	b.Reset()
	p = New(&b, true, "verifying", 1000, now)
	for done := int64(100); done <= 1000; done += 100 {
		p.Update(done)
	}
	if n := strings.Count(b.String(), "\r"); n != 4 || !strings.HasSuffix(b.String(), "100%, 0.0 MB/s\n") {
		t.Errorf("redrawn %d times, want every 250ms and at the end: %q", n, b.String())
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1 << 20: "1.0 MiB", 2040109465: "1.9 GiB", 31914983424: "29.7 GiB",
	} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Rate(24_100_000, time.Second); got != "24.1 MB/s" {
		t.Errorf("Rate = %q", got)
	}
}

// A resumed pass counts the bytes it started with toward the share, not the rate, and says
// how long is left at the rate of this pass.
func TestResume(t *testing.T) {
	clock := time.Unix(0, 0)
	now := func() time.Time { return clock }
	var b bytes.Buffer
	p := New(&b, false, "uploading", 10_000_000, now)
	p.Resume(5_000_000)
	clock = clock.Add(10 * time.Second)
	p.Update(6_000_000)
	if got, want := strings.TrimSpace(b.String()), "uploading 5.7 MiB of 9.5 MiB, 60%, 0.1 MB/s, 0:40 left"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Clock(3723 * time.Second); got != "1:02:03" {
		t.Errorf("Clock = %q", got)
	}
}
