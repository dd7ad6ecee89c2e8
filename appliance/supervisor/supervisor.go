// Package supervisor runs the appliance's subsystems (the CoAP server, client sessions, and
// later the network, WiFi and sensors) and restarts one that fails, with back-off, so a fault
// in one part never takes the appliance down. Each subsystem's state is reported as it
// changes, for the /sys resources.
package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Subsystem is one part of the appliance. Run works until ctx is done; an error (or a panic)
// means it failed and is run again after a back-off.
type Subsystem interface {
	Name() string
	Run(ctx context.Context) error
}

// Func adapts a function to a Subsystem.
type Func struct {
	N string
	F func(ctx context.Context) error
}

func (f Func) Name() string                  { return f.N }
func (f Func) Run(ctx context.Context) error { return f.F(ctx) }

// States of a subsystem.
const (
	Starting   = "starting"
	Running    = "running"
	Restarting = "restarting" // failed; waiting for the back-off before the next start
	Stopped    = "stopped"    // returned without error, or the appliance is stopping
)

// State is what the supervisor knows of one subsystem.
type State struct {
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Restarts  int       `json:"restarts"`
	LastError string    `json:"last_error,omitempty"`
	Since     time.Time `json:"since"`
}

// Supervisor runs subsystems.
type Supervisor struct {
	log      *slog.Logger
	onChange func(State)
	// MinBackoff and MaxBackoff bound the wait before a restart; a subsystem that ran longer
	// than MaxBackoff starts again at MinBackoff.
	MinBackoff, MaxBackoff time.Duration

	mu     sync.Mutex
	states map[string]*State
	beat   atomic.Int64 // unix nanoseconds of the last sign of life, for the watchdog
}

// New returns a supervisor; onChange, when not nil, gets every state change.
func New(log *slog.Logger, onChange func(State)) *Supervisor {
	return &Supervisor{log: log, onChange: onChange, MinBackoff: time.Second, MaxBackoff: time.Minute, states: map[string]*State{}}
}

// Run runs every subsystem until ctx is done and all have returned.
func (s *Supervisor) Run(ctx context.Context, subs ...Subsystem) {
	var wg sync.WaitGroup
	for _, sub := range subs {
		s.set(sub.Name(), func(st *State) { st.State = Starting })
		wg.Go(func() { s.keep(ctx, sub) })
	}
	wg.Go(func() { s.heartbeat(ctx) })
	wg.Wait()
}

// keep runs sub again and again until ctx is done.
func (s *Supervisor) keep(ctx context.Context, sub Subsystem) {
	wait := s.MinBackoff
	for {
		s.set(sub.Name(), func(st *State) { st.State = Running })
		start := time.Now()
		err := runSafely(ctx, sub)
		if ctx.Err() != nil || err == nil {
			s.set(sub.Name(), func(st *State) { st.State = Stopped })
			if err == nil && ctx.Err() == nil {
				s.log.Info("subsystem stopped", "subsystem", sub.Name())
			}
			return
		}
		if time.Since(start) > s.MaxBackoff {
			wait = s.MinBackoff
		}
		s.set(sub.Name(), func(st *State) { st.State, st.LastError = Restarting, err.Error(); st.Restarts++ })
		s.log.Error("subsystem failed", "subsystem", sub.Name(), "err", err, "restart_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.set(sub.Name(), func(st *State) { st.State = Stopped })
			return
		case <-t.C:
		}
		wait = min(2*wait, s.MaxBackoff)
	}
}

// runSafely turns a panic into an error, with the stack in the error text.
func runSafely(ctx context.Context, sub Subsystem) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return sub.Run(ctx)
}

func (s *Supervisor) set(name string, change func(*State)) {
	s.mu.Lock()
	st := s.states[name]
	if st == nil {
		st = &State{Name: name}
		s.states[name] = st
	}
	before := st.State
	change(st)
	if st.State != before {
		st.Since = time.Now().UTC()
	}
	snapshot := *st
	s.mu.Unlock()
	if s.onChange != nil {
		s.onChange(snapshot)
	}
}

// States returns every subsystem's state, by name.
func (s *Supervisor) States() []State {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]State, 0, len(s.states))
	for _, st := range s.states {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// heartbeat marks the supervisor alive every second.
func (s *Supervisor) heartbeat(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		s.beat.Store(time.Now().UnixNano())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Healthy reports whether the supervisor showed life within d (the watchdog is pinged only
// then, so a hung appliance is reset by the hardware).
func (s *Supervisor) Healthy(d time.Duration) bool {
	return time.Since(time.Unix(0, s.beat.Load())) < d
}
