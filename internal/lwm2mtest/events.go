package lwm2mtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Kind says what an Event reports.
type Kind string

// The events of the harness.
const (
	Ready        Kind = "ready"      // listening on Port
	Register     Kind = "register"   // POST /rd answered 2.01
	Update       Kind = "update"     // POST /rd/<id> answered 2.04
	Deregister   Kind = "deregister" // DELETE /rd/<id> answered 2.02
	Expire       Kind = "expire"     // the lifetime ran out without an Update (checked every second)
	Notify       Kind = "notify"     // a notification of an observation that Observe started
	Progress     Kind = "progress"   // every 512 blocks of a WriteBlocks: Blocks sent so far
	HarnessError Kind = "error"      // a bad command line or an exception in the harness; fails the test
)

// NoOption is Format or Observe when the message had no such option, or when lwm2m-node-lib
// does not tell (the answers to Execute, Discover and Write-Attributes).
const NoOption = -1

// Event is one thing the server saw. The strings are what the client sent, unchecked.
type Event struct {
	Kind     Kind      `json:"event"`
	Time     time.Time `json:"-"` // when the harness handled the datagram (ms)
	Received time.Time `json:"-"` // when this package read the event

	Port int `json:"port"` // Ready

	// Register, Update, Deregister, Expire
	ID       string   `json:"id"`       // the registration's id
	Location string   `json:"location"` // Register: the Location-Path answered, "rd/<id>"
	Endpoint string   `json:"ep"`
	Lifetime string   `json:"lt"`    // lt=, "" when absent
	Version  string   `json:"lwm2m"` // lwm2m=, Register
	Binding  string   `json:"b"`     // b=
	Query    []string `json:"query"` // every Uri-Query option in order, Register and Update
	Links    []string `json:"links"` // Register: the payload split at commas

	// Register and Update: the payload as received and its Content-Format; Notify: the
	// notification's. Confirmable: the message was CON. From: the client's address.
	Payload     []byte `json:"payload"`
	Format      int    `json:"format"`
	Confirmable bool   `json:"con"`
	From        string `json:"from"`

	// Progress
	Blocks int `json:"blocks"`

	// Notify
	Path    string `json:"path"`
	Code    string `json:"code"`
	Observe int    `json:"observe"` // the Observe option's number

	Error string `json:"error"` // HarnessError
}

func parseEvent(b []byte, received time.Time) (Event, error) {
	ev := Event{Format: NoOption, Observe: NoOption, Received: received}
	var t struct {
		T int64 `json:"t"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return Event{}, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return Event{}, err
	}
	ev.Time = time.UnixMilli(t.T)
	return ev, nil
}

func (e Event) String() string {
	switch e.Kind {
	case Notify:
		return fmt.Sprintf("%s %s %s observe=%d %s %q", e.Kind, e.Endpoint, e.Path, e.Observe, e.Code, e.Payload)
	case Ready:
		return fmt.Sprintf("%s port=%d", e.Kind, e.Port)
	case Progress:
		return fmt.Sprintf("%s %s %s blocks=%d", e.Kind, e.Endpoint, e.Path, e.Blocks)
	case HarnessError:
		return fmt.Sprintf("%s %s", e.Kind, e.Error)
	}
	return fmt.Sprintf("%s id=%s location=%q ep=%q lt=%q lwm2m=%q b=%q query=%q format=%d con=%v payload=%q from=%s",
		e.Kind, e.ID, e.Location, e.Endpoint, e.Lifetime, e.Version, e.Binding, e.Query, e.Format, e.Confirmable, e.Payload, e.From)
}

// Next returns the oldest event of that kind that no Next or WaitEvent has returned yet,
// waiting for one until ctx ends or the harness exits. Events of other kinds stay for later
// calls.
func (s *Server) Next(ctx context.Context, kind Kind) (Event, error) {
	return s.wait(ctx, string(kind), func(e Event) bool { return e.Kind == kind })
}

// WaitEvent is Next for the oldest event that match accepts.
func (s *Server) WaitEvent(ctx context.Context, match func(Event) bool) (Event, error) {
	return s.wait(ctx, "a matching event", match)
}

func (s *Server) wait(ctx context.Context, what string, match func(Event) bool) (Event, error) {
	for {
		s.mu.Lock()
		for i, e := range s.events {
			if !s.taken[i] && match(e) {
				s.taken[i] = true
				s.mu.Unlock()
				return e, nil
			}
		}
		grew, exit := s.grew, s.exit
		s.mu.Unlock()
		if exit != nil {
			return Event{}, fmt.Errorf("waiting for %s: %w", what, exit)
		}
		select {
		case <-ctx.Done():
			return Event{}, fmt.Errorf("waiting for %s: %w; events so far:\n%s", what, ctx.Err(), s.eventLog())
		case <-grew:
		case <-s.gone:
		}
	}
}

// Events returns every event so far, returned by Next or not.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

func (s *Server) eventLog() string {
	var b strings.Builder
	for _, e := range s.Events() {
		fmt.Fprintf(&b, "  %s %s\n", e.Time.Format("15:04:05.000"), e)
	}
	return b.String()
}
