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

func TestRingAfter(t *testing.T) {
	r := New(4, nil)
	text := func(ls []Line) string {
		var b strings.Builder
		for _, l := range ls {
			fmt.Fprintf(&b, "%d:%s ", l.Seq, l.Text)
		}
		return b.String()
	}
	if ls, last := r.After(0, 10); len(ls) != 0 || last != 0 {
		t.Errorf("empty ring: %v, %d", ls, last)
	}
	_, _ = r.Write([]byte("a\nb\nc\n"))
	for _, tt := range []struct {
		seq  uint64
		most int
		want string
		last uint64
	}{
		{0, 10, "1:a 2:b 3:c ", 3},
		{1, 10, "2:b 3:c ", 3},
		{3, 10, "", 3},
		{0, 2, "2:b 3:c ", 3},
		{0, 0, "", 3},
		{9, 10, "1:a 2:b 3:c ", 3}, // from before a restart: from the start
	} {
		ls, last := r.After(tt.seq, tt.most)
		if got := text(ls); got != tt.want || last != tt.last {
			t.Errorf("After(%d, %d) = %q, %d; want %q, %d", tt.seq, tt.most, got, last, tt.want, tt.last)
		}
	}
	_, _ = r.Write([]byte("d\ne\nf\n")) // a and b are gone
	for _, tt := range []struct {
		seq  uint64
		want string
	}{
		{0, "3:c 4:d 5:e 6:f "},
		{1, "3:c 4:d 5:e 6:f "},
		{4, "5:e 6:f "},
		{6, ""},
	} {
		if ls, last := r.After(tt.seq, 10); text(ls) != tt.want || last != 6 {
			t.Errorf("after wrapping, After(%d) = %q, %d; want %q, 6", tt.seq, text(ls), last, tt.want)
		}
	}
}
