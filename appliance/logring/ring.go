// Package logring keeps the last lines of the appliance's log in memory, so they can be read
// over CoAP (/sys/log) on a device that has no screen and may have no writable disk.
//
// A Ring is an io.Writer that takes one line per Write, as slog's text handler writes a
// record, so it sits behind slog.NewTextHandler next to the console's handler.
package logring

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
)

// Ring holds the last Size lines.
type Ring struct {
	mu       sync.Mutex
	lines    []string
	next     int
	full     bool
	onAppend atomic.Pointer[func()]
}

// New returns a ring of size lines (at least 1). onAppend, when not nil, is called after each
// line, outside the ring's lock (to notify observers, for instance).
func New(size int, onAppend func()) *Ring {
	r := &Ring{lines: make([]string, max(size, 1))}
	r.OnAppend(onAppend)
	return r
}

// OnAppend sets the function called after each line (nil for none).
func (r *Ring) OnAppend(fn func()) {
	if fn == nil {
		r.onAppend.Store(nil)
		return
	}
	r.onAppend.Store(&fn)
}

// Write adds p as lines; a line longer than 1 KiB is cut.
func (r *Ring) Write(p []byte) (int, error) {
	n := len(p)
	r.mu.Lock()
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		if len(line) > 1024 {
			line = append(line[:1021:1021], "..."...)
		}
		r.lines[r.next] = string(line)
		r.next = (r.next + 1) % len(r.lines)
		r.full = r.full || r.next == 0
	}
	r.mu.Unlock()
	if fn := r.onAppend.Load(); fn != nil {
		(*fn)()
	}
	return n, nil
}

// Lines returns the held lines, oldest first.
func (r *Ring) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]string(nil), r.lines[:r.next]...)
	}
	return append(append([]string(nil), r.lines[r.next:]...), r.lines[:r.next]...)
}

// String is the held lines, one per line.
func (r *Ring) String() string {
	l := r.Lines()
	if len(l) == 0 {
		return ""
	}
	return strings.Join(l, "\n") + "\n"
}

// Tail is the last n lines, one per line, at most max bytes (whole lines dropped from the
// start to fit).
func (r *Ring) Tail(n, maxBytes int) string {
	l := r.Lines()
	if len(l) > n {
		l = l[len(l)-n:]
	}
	size := 0
	for i := len(l) - 1; i >= 0; i-- {
		size += len(l[i]) + 1
		if size > maxBytes {
			l = l[i+1:]
			break
		}
	}
	if len(l) == 0 {
		return ""
	}
	return strings.Join(l, "\n") + "\n"
}
