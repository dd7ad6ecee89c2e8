package logring

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestRing(t *testing.T) {
	calls := 0
	r := New(3, func() { calls++ })
	for _, tt := range []struct {
		write string
		want  []string
	}{
		{"a\n", []string{"a"}},
		{"b\nc\n", []string{"a", "b", "c"}},
		{"d\n", []string{"b", "c", "d"}},
		{"e\nf\ng\nh\n", []string{"f", "g", "h"}},
	} {
		_, _ = r.Write([]byte(tt.write))
		if got := r.Lines(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("after %q: %v, want %v", tt.write, got, tt.want)
		}
	}
	if calls != 4 {
		t.Errorf("onAppend called %d times", calls)
	}
	if got := r.Tail(2, 100); got != "g\nh\n" {
		t.Errorf("Tail(2) %q", got)
	}
	if got := r.Tail(3, 4); got != "g\nh\n" {
		t.Errorf("Tail(3, 4 bytes) %q", got)
	}
	long := New(2, nil)
	_, _ = long.Write([]byte(strings.Repeat("x", 5000)))
	if l := long.Lines()[0]; len(l) != 1024 || !strings.HasSuffix(l, "...") {
		t.Errorf("long line kept %d bytes", len(l))
	}
}

// A Ring behind slog's text handler, next to the console's.
func ExampleRing() {
	ring := New(100, nil)
	log := slog.New(slog.NewTextHandler(ring, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // for a stable example
			}
			return a
		},
	}))
	log.Info("booted", "hostname", "pigw")
	log.Warn("no /perm", "err", "not found")
	fmt.Print(ring)
	// Output:
	// level=INFO msg=booted hostname=pigw
	// level=WARN msg="no /perm" err="not found"
}
