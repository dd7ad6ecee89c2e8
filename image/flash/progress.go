package flash

import (
	"fmt"
	"io"
	"time"
)

// progress reports how far a pass (writing, verifying) has come: on a terminal one line
// redrawn a few times a second, otherwise a line at every tenth of the way, so a log stays
// short.
type progress struct {
	w      io.Writer // nil: silent
	redraw bool
	verb   string // "writing"
	total  int64
	now    func() time.Time
	start  time.Time
	last   time.Time // of the last redraw
	tenths int64     // tenths reported so far, without redraw
}

func newProgress(w io.Writer, redraw bool, verb string, total int64, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, redraw: redraw, verb: verb, total: total, now: now, start: t, last: t}
}

// update reports that done bytes of total are through.
func (p *progress) update(done int64) {
	if p.w == nil || p.total == 0 {
		return
	}
	t := p.now()
	if p.redraw {
		if t.Sub(p.last) < 250*time.Millisecond && done < p.total {
			return
		}
		p.last = t
		fmt.Fprintf(p.w, "\r\033[K%s", p.line(done, t))
		if done >= p.total {
			fmt.Fprintln(p.w)
		}
		return
	}
	if tenths := done * 10 / p.total; tenths > p.tenths {
		p.tenths = tenths
		fmt.Fprintln(p.w, p.line(done, t))
	}
}

// end finishes a redrawn line that stopped short (an error, an interrupt).
func (p *progress) end() {
	if p.w != nil && p.redraw {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) line(done int64, t time.Time) string {
	return fmt.Sprintf("%s %s of %s, %d%%, %s", p.verb, HumanSize(done), HumanSize(p.total),
		done*100/p.total, Rate(done, t.Sub(p.start)))
}

// HumanSize formats a byte count in binary units with one decimal: "1.9 GiB".
func HumanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Rate formats a throughput in decimal megabytes per second, as card makers state speeds.
func Rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "- MB/s"
	}
	return fmt.Sprintf("%.1f MB/s", float64(n)/1e6/d.Seconds())
}
