package wpa

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Re-attach back-off bounds.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// attach opens a new event socket and sends ATTACH on it.
func (c *Conn) attach(ctx context.Context) (*sock, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.d.Timeout)
		defer cancel()
	}
	s, err := c.d.dialSock(c.path)
	if err != nil {
		return nil, c.errorf("ATTACH", err)
	}
	buf := make([]byte, 64)
	reply, _, err := roundTrip(ctx, c.life, s.conn, buf, "ATTACH")
	if err == nil && reply != "OK" {
		err = fmt.Errorf("unexpected reply %q", firstLine(reply))
	}
	if err != nil {
		s.close()
		return nil, c.errorf("ATTACH", err)
	}
	return s, nil
}

// monitor owns the event socket s for the life of the Conn: it reads it,
// and when it is lost attaches a new one with back-off. It closes the Events
// channel and c.done when the Conn is closed.
func (c *Conn) monitor(s *sock) {
	defer close(c.done)
	defer close(c.events)
	buf := make([]byte, maxDatagram)
	backoff := minBackoff
	lastErr := ""
	for {
		if s != nil {
			err := c.watch(s, buf)
			s.close()
			s = nil
			if c.life.Err() != nil {
				return
			}
			c.logf("wpa_supplicant %s: event monitor lost (%v); re-attaching", c.path, err)
			c.deliver(Event{Level: -1, Name: EventDetached, Text: err.Error()})
			backoff, lastErr = minBackoff, ""
		}
		t := time.NewTimer(backoff)
		select {
		case <-c.life.Done():
			t.Stop()
			return
		case <-t.C:
		}
		var err error
		s, err = c.attach(c.life)
		if err != nil {
			if c.life.Err() != nil {
				return
			}
			if msg := err.Error(); msg != lastErr {
				c.logf("%s; retrying", msg)
				lastErr = msg
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		c.logf("wpa_supplicant %s: event monitor re-attached", c.path)
		c.deliver(Event{Level: -1, Name: EventAttached})
	}
}

// errTerminating ends a watch when wpa_supplicant announces its exit.
var errTerminating = errors.New("wpa_supplicant is terminating")

// watch reads events from s until the socket fails, PING goes unanswered for
// a whole interval, wpa_supplicant says it is terminating, or the Conn is
// closed. Delivery never blocks, so the socket is drained as fast as
// wpa_supplicant writes to it.
func (c *Conn) watch(s *sock, buf []byte) error {
	stop := context.AfterFunc(c.life, func() { s.conn.Close() })
	defer stop()
	interval := c.d.PingInterval
	nextPing := time.Now().Add(interval)
	awaitingPong := false
	for {
		if err := c.life.Err(); err != nil {
			return err
		}
		if now := time.Now(); !now.Before(nextPing) {
			if awaitingPong {
				return fmt.Errorf("no reply to PING within %v", interval)
			}
			if _, err := s.conn.Write([]byte("PING")); err != nil {
				return fmt.Errorf("PING: %w", err)
			}
			awaitingPong = true
			nextPing = now.Add(interval)
		}
		if err := s.conn.SetReadDeadline(nextPing); err != nil {
			return err
		}
		n, err := s.conn.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			return err
		}
		msg := string(buf[:n])
		switch {
		case isEvent(msg):
			ev := ParseEvent(msg)
			c.deliver(ev)
			if ev.Name == EventTerminating {
				return errTerminating
			}
		case strings.HasPrefix(msg, "PONG"):
			awaitingPong = false
		}
		// Anything else is a reply to ATTACH that came late; ignore it.
	}
}

// deliver queues ev without blocking, discarding the oldest queued events
// when the channel is full.
func (c *Conn) deliver(ev Event) {
	for {
		select {
		case c.events <- ev:
			return
		default:
		}
		select {
		case <-c.events:
			c.dropped.Add(1)
		default:
		}
	}
}
