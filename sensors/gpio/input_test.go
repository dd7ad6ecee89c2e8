package gpio

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

type change struct {
	level bool
	at    time.Time
}

// start runs in until the test ends, returning the reported changes and Run's result.
func start(t *testing.T, in *Input) (<-chan change, <-chan error, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan change, 16)
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- in.Run(ctx, func(level bool, at time.Time) { changes <- change{level, at} })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(2 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return changes, done, cancel
}

func next(t *testing.T, changes <-chan change, within time.Duration) change {
	t.Helper()
	select {
	case c := <-changes:
		return c
	case <-time.After(within):
		t.Fatalf("no change within %v", within)
		return change{}
	}
}

func none(t *testing.T, changes <-chan change, during time.Duration) {
	t.Helper()
	select {
	case c := <-changes:
		t.Fatalf("unexpected change to %v", c.level)
	case <-time.After(during):
	}
}

func TestInputEdges(t *testing.T) {
	const poll = 300 * time.Millisecond
	tests := []struct {
		name     string
		initial  gpio.Level
		invert   bool
		debounce time.Duration
		edges    []gpio.Level
		first    bool
		want     []bool
		within   time.Duration // for the first change after the first level
	}{
		{name: "first level high", initial: gpio.High, first: true},
		{name: "first level low", initial: gpio.Low, first: false},
		{name: "clean edge at once", initial: gpio.Low, edges: []gpio.Level{gpio.High}, want: []bool{true}, within: poll / 2},
		{name: "clean edge debounced", initial: gpio.Low, debounce: 20 * time.Millisecond, edges: []gpio.Level{gpio.High}, want: []bool{true}, within: poll / 2},
		{name: "bounce back to original", initial: gpio.Low, debounce: 50 * time.Millisecond,
			edges: []gpio.Level{gpio.High, gpio.Low, gpio.High, gpio.Low}},
		{name: "bounce to new level", initial: gpio.Low, debounce: 50 * time.Millisecond,
			edges: []gpio.Level{gpio.High, gpio.Low, gpio.High}, want: []bool{true}, within: poll},
		{name: "invert", initial: gpio.Low, invert: true, edges: []gpio.Level{gpio.High}, first: true, want: []bool{false}, within: poll / 2},
		{name: "two changes", initial: gpio.High, edges: []gpio.Level{gpio.Low}, first: true, want: []bool{false}, within: poll / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pin := &gpiotest.Pin{N: "GPIO17", L: tt.initial, EdgesChan: make(chan gpio.Level, 16)}
			in, err := NewInput(Config{Name: "door", Pin: pin, Pull: gpio.Float, Edge: gpio.BothEdges,
				Debounce: tt.debounce, Invert: tt.invert, PollInterval: poll})
			if err != nil {
				t.Fatal(err)
			}
			changes, _, _ := start(t, in)
			if c := next(t, changes, time.Second); c.level != tt.first {
				t.Fatalf("first level = %v, want %v", c.level, tt.first)
			}
			for _, e := range tt.edges {
				pin.EdgesChan <- e
			}
			for _, want := range tt.want {
				if c := next(t, changes, tt.within); c.level != want {
					t.Fatalf("change = %v, want %v", c.level, want)
				}
				if in.Level() != want {
					t.Errorf("Level() = %v, want %v", in.Level(), want)
				}
			}
			none(t, changes, 4*tt.debounce+20*time.Millisecond)
		})
	}
}

func TestInputPolling(t *testing.T) {
	tests := []struct {
		name     string
		invert   bool
		debounce time.Duration
		want     bool
	}{
		{name: "plain", want: true},
		{name: "debounced", debounce: 10 * time.Millisecond, want: true},
		{name: "inverted", invert: true, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pin := &gpiotest.Pin{N: "GPIO27", L: gpio.Low} // no EdgesChan: NoEdge must not need one
			in, err := NewInput(Config{Pin: pin, Edge: gpio.NoEdge, Invert: tt.invert,
				Debounce: tt.debounce, PollInterval: 5 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			changes, _, _ := start(t, in)
			if c := next(t, changes, time.Second); c.level != !tt.want {
				t.Fatalf("first level = %v, want %v", c.level, !tt.want)
			}
			none(t, changes, 30*time.Millisecond)
			if err := pin.Out(gpio.High); err != nil {
				t.Fatal(err)
			}
			if c := next(t, changes, time.Second); c.level != tt.want {
				t.Fatalf("change = %v, want %v", c.level, tt.want)
			}
			none(t, changes, 30*time.Millisecond)
		})
	}
}

func TestInputRunEndsWithContext(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO22", EdgesChan: make(chan gpio.Level)}
	in, err := NewInput(Config{Pin: pin, Edge: gpio.BothEdges, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	changes, done, cancel := start(t, in)
	next(t, changes, time.Second)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not return")
	}
}

func TestNewInputErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "no pin", cfg: Config{Name: "door"}, want: `"door"`},
		{name: "output", cfg: Config{Name: "door", Pin: &gpiotest.Pin{N: "GPIO5"}, Output: true}, want: "GPIO5"},
		{name: "edge without driver support", cfg: Config{Pin: &gpiotest.Pin{N: "GPIO6"}, Edge: gpio.BothEdges}, want: "GPIO6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewInput(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewInput error = %v, want one naming %s", err, tt.want)
			}
		})
	}
}
