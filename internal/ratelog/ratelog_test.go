package ratelog

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lines is a slog.Logger's output, a line per record, safe for concurrent use.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSpace(l.buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func newTestLog(interval time.Duration) (*Log, *lines) {
	out := &lines{}
	h := slog.NewTextHandler(out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	return New(slog.New(h), interval), out
}

func TestCountsInsteadOfLines(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events int
		lines  int    // after the events and one Flush
		last   string // the last line's count
	}{
		{"one", 1, 1, ""},
		{"two", 2, 2, "count=1 "},
		{"a flood", 100000, 2, "count=99999 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, out := newTestLog(time.Second)
			k := l.Kind("dtls_refused", "DTLS session refused", slog.LevelWarn)
			for i := range tc.events {
				k.Add(netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i%250 + 1)}), 5684), "too many sessions")
			}
			if got := out.get(); len(got) != 1 || !strings.Contains(got[0], `peer=192.0.2.1:5684 detail="too many sessions" kind=dtls_refused`) {
				t.Fatalf("before the interval, the log holds %d lines, starting %q; want the first event alone", len(got), got[:min(len(got), 2)])
			}
			l.Flush()
			got := out.get()
			if len(got) != tc.lines {
				t.Fatalf("%d lines after a flush, want %d, starting %q", len(got), tc.lines, got[:min(len(got), 3)])
			}
			if tc.last != "" && !strings.Contains(got[len(got)-1], tc.last) ||
				tc.last != "" && !strings.Contains(got[len(got)-1], "example_peer=192.0.2.2:5684") {
				t.Errorf("last line %q, want %s and the first counted peer as the example", got[len(got)-1], tc.last)
			}
			l.Flush()
			if again := out.get(); len(again) != len(got) {
				t.Errorf("a flush with nothing new logged %q", again[len(got):])
			}
			if n := l.Totals()["dtls_refused"]; n != uint64(tc.events) {
				t.Errorf("total %d, want %d", n, tc.events)
			}
		})
	}
}

// TestConcurrentAdds: every event is counted once, in the total and in the lines, while Run
// flushes (run with -race).
func TestConcurrentAdds(t *testing.T) {
	l, out := newTestLog(time.Millisecond)
	k := l.Kind("malformed", "malformed datagrams", slog.LevelInfo)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10000 {
				k.Add(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(g)}), 1), "")
			}
		}()
	}
	wg.Wait()
	cancel()
	<-done
	var logged uint64
	count := regexp.MustCompile(`count=(\d+) `)
	for _, line := range out.get() {
		if m := count.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			logged += n
		} else {
			logged++ // the first, logged at once
		}
	}
	if k.Total() != 80000 || logged != 80000 {
		t.Errorf("total %d, logged %d; want 80000 both", k.Total(), logged)
	}
}

func TestAddDoesNotAllocate(t *testing.T) {
	l, _ := newTestLog(time.Hour)
	k := l.Kind("rejected", "requests rejected", slog.LevelInfo)
	peer, detail := netip.MustParseAddrPort("[2001:db8::1]:5683"), []byte("4.02 unknown critical option")
	k.Add(netip.MustParseAddrPort("192.0.2.1:1"), "")
	if n := testing.AllocsPerRun(1000, func() {
		k.Add(peer, "4.02 unknown critical option")
		k.AddBytes(peer, detail)
	}); n != 0 {
		t.Errorf("Add allocates %v times", n)
	}
}

func TestKindsAreShared(t *testing.T) {
	l, _ := newTestLog(time.Hour)
	a := l.Kind("x", "x happened", slog.LevelInfo)
	b := l.Kind("x", "other words", slog.LevelError)
	if a != b {
		t.Error("the same name gave two kinds")
	}
	a.Add(netip.AddrPort{}, "")
	l.Kind("y", "y happened", slog.LevelInfo)
	if got := fmt.Sprint(l.Totals()); got != "map[x:1 y:0]" {
		t.Errorf("totals %s", got)
	}
}

func ExampleLog() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	l := New(slog.New(h), 10*time.Second)
	refused := l.Kind("dtls_refused", "DTLS session refused", slog.LevelWarn)
	for i := range 5000 {
		refused.Add(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, byte(i / 250), byte(i%250 + 1)}), 40000), "no cookie")
	}
	l.Flush() // Run does this every 10 s
	fmt.Println(l.Totals())
	// Output:
	// level=WARN msg="DTLS session refused" peer=127.0.0.1:40000 detail="no cookie" kind=dtls_refused note="the next ones are counted, one line per 10s"
	// level=WARN msg="DTLS session refused" count=4999 within=10s example_peer=127.0.0.2:40000 example_detail="no cookie" kind=dtls_refused total=5000
	// map[dtls_refused:5000]
}
