package appliance

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// lastLines keeps the last log line of each subsystem, for the status page. Nothing in the
// log says which subsystem wrote a line, and adding an attribute would change lines that
// people and tests read; so each subsystem gets a logger whose handler notes its lines and
// passes them on unchanged (tap), and lines of the appliance's own logger that name a
// subsystem (the supervisor's) count for that subsystem.
type lastLines struct {
	mu   sync.Mutex
	last map[string]string
}

// maxLastLine bounds a kept line, in bytes.
const maxLastLine = 512

func newLastLines() *lastLines { return &lastLines{last: map[string]string{}} }

// logger returns log with its lines noted as name's; name "" notes only lines with a
// subsystem attribute.
func (l *lastLines) logger(log *slog.Logger, name string) *slog.Logger {
	return slog.New(tap{next: log.Handler(), name: name, lines: l})
}

// line is name's last line, or "".
func (l *lastLines) line(name string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last[name]
}

func (l *lastLines) note(name string, r slog.Record) {
	if name == "" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "subsystem" {
				name = a.Value.String()
				return false
			}
			return true
		})
		if name == "" {
			return
		}
	}
	var b bytes.Buffer
	// The same form as the log's own lines, without the time (the page shows the state's).
	h := slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	_ = h.Handle(context.Background(), r)
	line := string(bytes.TrimRight(b.Bytes(), "\n"))
	if len(line) > maxLastLine {
		line = strings.ToValidUTF8(line[:maxLastLine-3], "") + "..."
	}
	l.mu.Lock()
	l.last[name] = line
	l.mu.Unlock()
}

// tap is a slog.Handler that notes each record it passes on.
type tap struct {
	next  slog.Handler
	name  string
	lines *lastLines
}

func (t tap) Enabled(ctx context.Context, level slog.Level) bool { return t.next.Enabled(ctx, level) }

func (t tap) Handle(ctx context.Context, r slog.Record) error {
	t.lines.note(t.name, r)
	return t.next.Handle(ctx, r)
}

func (t tap) WithAttrs(as []slog.Attr) slog.Handler {
	return tap{next: t.next.WithAttrs(as), name: t.name, lines: t.lines}
}

func (t tap) WithGroup(g string) slog.Handler {
	return tap{next: t.next.WithGroup(g), name: t.name, lines: t.lines}
}
