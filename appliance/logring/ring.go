// Package logring keeps the last lines of the appliance's log in memory, so they can be read
// over CoAP (/sys/log) and on the status page, on a device that has no screen and may have
// no writable disk. Lines are numbered, so that a reader that polls (an event stream) gets
// each once.
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
	total    uint64 // lines written so far: the last line's number
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
		r.total++
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

// Line is one line with its number: lines are numbered from 1 in the order written.
type Line struct {
	Seq  uint64
	Text string
}

// After returns the held lines numbered after seq, no more than most of them (the newest), and the
// number of the last line written, so that a reader that polls gets each line once and knows
// when lines went by that the ring no longer holds.
func (r *Ring) After(seq uint64, most int) ([]Line, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq > r.total {
		seq = 0 // a reader from before a restart: the numbers start again
	}
	held := uint64(r.next)
	if r.full {
		held = uint64(len(r.lines))
	}
	from := max(seq, r.total-held) + 1
	if most <= 0 {
		return nil, r.total
	}
	if n := uint64(most); r.total > n && r.total-n+1 > from {
		from = r.total - n + 1
	}
	var out []Line
	for n := from; n <= r.total; n++ {
		i := (r.next - 1 - int(r.total-n) + len(r.lines)) % len(r.lines)
		out = append(out, Line{Seq: n, Text: r.lines[i]})
	}
	return out, r.total
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
