package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRestartWithBackoff(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	s := New(slog.New(slog.DiscardHandler), func(st State) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s:%s:%d", st.Name, st.State, st.Restarts))
		mu.Unlock()
	})
	s.MinBackoff, s.MaxBackoff = 10*time.Millisecond, 40*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int32
	flaky := Func{"flaky", func(ctx context.Context) error {
		switch runs.Add(1) {
		case 1:
			return errors.New("disk gone")
		case 2:
			panic("nil map")
		}
		<-ctx.Done()
		return nil
	}}
	steady := Func{"steady", func(ctx context.Context) error { <-ctx.Done(); return nil }}
	done := make(chan struct{})
	go func() { s.Run(ctx, flaky, steady); close(done) }()
	deadline := time.Now().Add(3 * time.Second)
	for runs.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	states := s.States()
	if len(states) != 2 || states[0].Name != "flaky" || states[0].State != Running || states[0].Restarts != 2 {
		t.Fatalf("states %+v", states)
	}
	if !strings.Contains(states[0].LastError, "panic: nil map") {
		t.Errorf("last error %q", states[0].LastError)
	}
	if !s.Healthy(2 * time.Second) {
		t.Error("not healthy while running")
	}
	cancel()
	<-done
	for _, st := range s.States() {
		if st.State != Stopped {
			t.Errorf("%s: %s after stop", st.Name, st.State)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := "flaky:restarting:1"
	if !strings.Contains(strings.Join(seen, " "), want) {
		t.Errorf("changes %v lack %s", seen, want)
	}
}
