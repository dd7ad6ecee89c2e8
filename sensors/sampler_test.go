package sensors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/syncbuf"
)

// scripted is a sensor whose reads follow a script: a value, or an error.
type scripted struct {
	mu    sync.Mutex
	steps []any // float64 or error; the last repeats
	i     int
}

func (s *scripted) Quantities() []Quantity { return []Quantity{{"temperature", "Cel"}} }
func (s *scripted) Read(context.Context) ([]Reading, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	step := s.steps[min(s.i, len(s.steps)-1)]
	s.i++
	if err, ok := step.(error); ok {
		return nil, err
	}
	return []Reading{{Quantity{"temperature", "Cel"}, step.(float64)}}, nil
}

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Publish(name string, s Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("%s=%.1f", name, s.Readings[0].Value))
}

func (r *recorder) Fail(name string, err error, lastGood time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("%s fail good=%v", name, !lastGood.IsZero()))
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// registerScripted adds a test kind whose Open follows opens (errors first, then the sensor);
// it returns the kind's name, unique per run (the registry outlives a test), and the call count.
func registerScripted(t *testing.T, kind string, opens []error, s *scripted) (string, *int) {
	kind = fmt.Sprintf("%s-%d", kind, time.Now().UnixNano())
	calls := new(int)
	var mu sync.Mutex
	Register(Driver{Kind: kind, Bus: "none", Open: func(Params) (Sensor, error) {
		mu.Lock()
		defer mu.Unlock()
		i := *calls
		*calls++
		if i < len(opens) {
			return nil, opens[i]
		}
		return s, nil
	}})
	return kind, calls
}

func runSampler(t *testing.T, spec Spec, until func([]string) bool) []string {
	t.Helper()
	return runSamplerLog(t, spec, slog.New(slog.DiscardHandler), until)
}

func runSamplerLog(t *testing.T, spec Spec, log *slog.Logger, until func([]string) bool) []string {
	t.Helper()
	rec := &recorder{}
	s := NewSampler([]Spec{spec}, rec, log)
	s.MaxBackoff = 5 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	for ctx.Err() == nil && !until(rec.list()) {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
	return rec.list()
}

func TestSamplerThresholdAndFailures(t *testing.T) {
	nack := errors.New("NACK")
	sc := &scripted{steps: []any{20.0, 20.05, 20.2, 20.2, nack, 21.0}}
	kind, _ := registerScripted(t, "test-threshold", nil, sc)
	got := runSampler(t, Spec{Name: "room", Kind: kind, Interval: time.Millisecond, Threshold: 0.1},
		func(ev []string) bool { return len(ev) >= 4 })
	want := []string{"room=20.0", "room=20.2", "room fail good=true", "room=21.0"}
	if fmt.Sprint(got[:4]) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v (20.05 is under the threshold; 20.2 twice is no change)", got, want)
	}
}

func TestSamplerAbsentThenPlugged(t *testing.T) {
	sc := &scripted{steps: []any{18.5}}
	kind, calls := registerScripted(t, "test-absent", []error{errors.New("no device"), errors.New("no device")}, sc)
	got := runSampler(t, Spec{Name: "cellar", Kind: kind, Interval: time.Millisecond},
		func(ev []string) bool { return len(ev) >= 3 })
	if fmt.Sprint(got[:3]) != "[cellar fail good=false cellar fail good=false cellar=18.5]" || *calls != 3 {
		t.Errorf("events %v after %d opens", got, *calls)
	}
}

func TestSamplerReopensAfterFailures(t *testing.T) {
	gone := errors.New("unplugged")
	sc := &scripted{steps: []any{1.0, gone, gone, gone, 2.0}}
	kind, calls := registerScripted(t, "test-reopen", nil, sc)
	got := runSampler(t, Spec{Name: "x", Kind: kind, Interval: time.Millisecond},
		func(ev []string) bool { return len(ev) >= 5 })
	if *calls < 2 || got[len(got)-1] != "x=2.0" {
		t.Errorf("opens %d, events %v", *calls, got)
	}
}

// TestSamplerLogsChanges: a sensor failing the same way again and again is logged once, a
// different error again, and the recovery once.
func TestSamplerLogsChanges(t *testing.T) {
	gone, crc := errors.New("unplugged"), errors.New("CRC mismatch")
	sc := &scripted{steps: []any{1.0, gone, gone, gone, gone, gone, gone, gone, crc, crc, 2.0}}
	kind, _ := registerScripted(t, "test-log", []error{gone, gone}, sc)
	var buf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	runSamplerLog(t, Spec{Name: "x", Kind: kind, Interval: time.Millisecond}, log,
		func(ev []string) bool { return len(ev) > 0 && ev[len(ev)-1] == "x=2.0" })
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		_, msg, _ := strings.Cut(l, "msg=")
		msg, _, _ = strings.Cut(msg, " sensor=")
		_, err, _ := strings.Cut(l, "err=")
		got = append(got, strings.Trim(msg, `"`)+" "+err)
	}
	want := []string{`sensor not present; retrying unplugged`, `sensor opened `, `sensor recovered `,
		`sensor read failed unplugged`, `sensor read failed "CRC mismatch"`, `sensor recovered `}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
