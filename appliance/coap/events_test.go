package coap

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"github.com/pigw/pigw/internal/ratelog"
)

// syncBuffer is a log's output, written by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), substr)
}

// TestFloodsAreCounted: a flood of malformed datagrams and of requests the server refuses
// leaves a line of each kind at once and one per interval in the log, and its count in
// Counters.
func TestFloodsAreCounted(t *testing.T) {
	const n = 500
	out := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(out, nil))
	events := ratelog.New(log, time.Hour) // flushed by hand below
	s, addr := newTestServer(t, Config{Logger: log, Events: events})
	if _, err := s.AddResource("r", WithMethods(GET), WithValue([]byte("v"))); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	for i := range n {
		c.sendRaw([]byte{0x10, 0x01, 0, byte(i)}) // version 0
		// An unknown critical option (2049): 4.02, a rejection.
		if m := c.do(codes.GET, "r", "", opt{message.OptionID(2049), []byte{1}}); m.Code != codes.BadOption {
			t.Fatalf("unknown critical option: %v", m.Code)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Counters()["malformed"] < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.Counters(); got["malformed"] != n || got["rejected"] != n {
		t.Fatalf("counters %v, want %d malformed and %d rejected", got, n, n)
	}
	if m, r := out.lines(`msg="malformed datagrams"`), out.lines(`msg="requests rejected"`); m != 1 || r != 1 {
		t.Errorf("%d lines on malformed datagrams and %d on rejected requests before the interval's end, want 1 each:\n%s", m, r, out.b.String())
	}
	events.Flush()
	for _, want := range []string{
		`msg="malformed datagrams" count=499 within=1h0m0s example_peer=127.0.0.1:`,
		`msg="requests rejected" count=499 within=1h0m0s example_peer=127.0.0.1:`,
	} {
		if out.lines(want) != 1 {
			t.Errorf("no line %s in\n%s", want, out.b.String())
		}
	}
}
