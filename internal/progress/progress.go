// Package progress draws how far a long transfer has come (writing a card, pushing an update)
// for people: bytes, share, rate and time left.
//
// On a terminal it is one line redrawn a few times a second; otherwise a line at every tenth
// of the way, so that a CI log or a pipe stays short.
package progress

import (
	"fmt"
	"io"
	"time"
)

// Bar reports how far one pass (writing, verifying, uploading) has come.
type Bar struct {
	w      io.Writer // nil: silent
	redraw bool
	verb   string // "writing"
	total  int64
	now    func() time.Time
	start  time.Time
	last   time.Time // of the last redraw
	tenths int64     // tenths reported so far, without redraw
	base   int64     // bytes already through when the pass started (a resumed upload)
}

// New starts a bar for a pass over total bytes that writes to w (nil: silent); redraw is for
// a terminal. now is the clock (time.Now).
func New(w io.Writer, redraw bool, verb string, total int64, now func() time.Time) *Bar {
	t := now()
	return &Bar{w: w, redraw: redraw, verb: verb, total: total, now: now, start: t, last: t}
}

// Resume says that the pass starts with from bytes already through: they count toward the
// share, not toward the rate.
func (p *Bar) Resume(from int64) {
	p.base, p.start, p.tenths = from, p.now(), from*10/max(p.total, 1)
}

// Update reports that done bytes of total are through.
func (p *Bar) Update(done int64) {
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

// End finishes a redrawn line that stopped short (an error, an interrupt).
func (p *Bar) End() {
	if p.w != nil && p.redraw {
		fmt.Fprintln(p.w)
	}
}

func (p *Bar) line(done int64, t time.Time) string {
	d := t.Sub(p.start)
	s := fmt.Sprintf("%s %s of %s, %d%%, %s", p.verb, HumanSize(done), HumanSize(p.total),
		done*100/p.total, Rate(done-p.base, d))
	if moved := done - p.base; done < p.total && moved > 0 && d > 0 {
		left := time.Duration(float64(d) * float64(p.total-done) / float64(moved))
		s += fmt.Sprintf(", %s left", Clock(left))
	}
	return s
}

// Clock formats a duration as m:ss, or h:mm:ss from an hour on.
func Clock(d time.Duration) string {
	s := int64(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
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
