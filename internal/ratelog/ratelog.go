// Package ratelog logs events that anyone on the network can cause as counts: the first of a
// kind at once, then one line per interval with how many there were and one example peer.
//
// A gateway on a shared LAN meets refused sessions, failed handshakes, malformed datagrams and
// rejected requests at the rate an attacker chooses. A log line for each turns a flood of
// forged datagrams into a flood of the serial console, of /sys/log and of the SD card, and
// costs a formatted line per datagram. Counting costs two atomic adds; the log gets at most one
// line per kind and interval, and the totals stay readable (Totals, served under /sys).
package ratelog

import (
	"context"
	"log/slog"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often a kind that keeps happening is logged.
const DefaultInterval = 10 * time.Second

// Log counts events by kind and logs them at most once per interval each.
type Log struct {
	log      *slog.Logger
	interval time.Duration

	mu    sync.Mutex
	kinds map[string]*Kind
}

// New returns a Log that writes to log; interval 0 means DefaultInterval. Run must be running
// for anything after the first event of a kind to be logged.
func New(log *slog.Logger, interval time.Duration) *Log {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Log{log: log, interval: interval, kinds: map[string]*Kind{}}
}

// Kind is one kind of event, such as "dtls_refused". Its Add is safe for concurrent use and
// does not allocate.
type Kind struct {
	l     *Log
	name  string
	msg   string
	level slog.Level

	total   atomic.Uint64
	pending atomic.Uint64 // since the last line
	example atomic.Pointer[example]
}

// example is an event of a kind, shown with its count.
type example struct {
	peer   netip.AddrPort
	detail string
}

// Kind returns the kind called name (a word for counters, such as "dtls_refused"), logged
// with msg at level. The same name gives the same Kind, with the msg and level it was made with.
func (l *Log) Kind(name, msg string, level slog.Level) *Kind {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k, ok := l.kinds[name]; ok {
		return k
	}
	k := &Kind{l: l, name: name, msg: msg, level: level}
	l.kinds[name] = k
	return k
}

// Add counts one event from peer; detail says what went wrong (an error's text, a rule). The
// first event of a kind is logged at once; later ones by Run, with the first of each interval
// as the example.
func (k *Kind) Add(peer netip.AddrPort, detail string) {
	switch k.count() {
	case logNow:
		k.logFirst(peer, detail)
	case keep:
		k.example.CompareAndSwap(nil, &example{peer: peer, detail: detail})
	}
}

// AddBytes is Add for a detail in a buffer the caller reuses: it is copied only when kept.
func (k *Kind) AddBytes(peer netip.AddrPort, detail []byte) {
	switch k.count() {
	case logNow:
		k.logFirst(peer, string(detail))
	case keep:
		k.example.CompareAndSwap(nil, &example{peer: peer, detail: string(detail)})
	}
}

type action int

const (
	counted action = iota // counted for the next line
	keep                  // counted, and the interval's example
	logNow                // the first of its kind
)

func (k *Kind) count() action {
	if k.total.Add(1) == 1 {
		return logNow
	}
	k.pending.Add(1)
	if k.example.Load() == nil {
		return keep
	}
	return counted
}

func (k *Kind) logFirst(peer netip.AddrPort, detail string) {
	k.l.log.Log(context.Background(), k.level, k.msg, "peer", peer.String(), "detail", detail, "kind", k.name,
		"note", "the next ones are counted, one line per "+k.l.interval.String())
}

// Total is how many events of the kind there have been.
func (k *Kind) Total() uint64 { return k.total.Load() }

// Run logs, every interval, each kind that had events since its last line, until ctx ends;
// then once more, so that nothing counted goes unlogged.
func (l *Log) Run(ctx context.Context) {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.Flush()
			return
		case <-t.C:
			l.Flush()
		}
	}
}

// Flush logs each kind that had events since its last line: one line with the count, the
// interval and an example.
func (l *Log) Flush() {
	for _, k := range l.sorted() {
		n := k.pending.Swap(0)
		ex := k.example.Swap(nil)
		if n == 0 {
			continue
		}
		attrs := []any{"count", n, "within", l.interval.String()}
		if ex != nil {
			attrs = append(attrs, "example_peer", ex.peer.String(), "example_detail", ex.detail)
		}
		l.log.Log(context.Background(), k.level, k.msg, append(attrs, "kind", k.name, "total", k.total.Load())...)
	}
}

// Totals are the counts of every kind so far, by name.
func (l *Log) Totals() map[string]uint64 {
	m := map[string]uint64{}
	for _, k := range l.sorted() {
		m[k.name] = k.total.Load()
	}
	return m
}

func (l *Log) sorted() []*Kind {
	l.mu.Lock()
	ks := make([]*Kind, 0, len(l.kinds))
	for _, k := range l.kinds {
		ks = append(ks, k)
	}
	l.mu.Unlock()
	sort.Slice(ks, func(i, j int) bool { return ks[i].name < ks[j].name })
	return ks
}
