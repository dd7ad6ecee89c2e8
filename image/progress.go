package image

import (
	"fmt"
	"io"
	"time"
)

// progress reports the build's steps: on a terminal a line that says what is being done and
// then how long it took; elsewhere one plain line per finished step.
type progress struct {
	w   io.Writer
	tty bool
	n   int
}

const steps = 7

func (p *progress) step(what string, fn func() error) error {
	p.n++
	if p.w == nil {
		return fn()
	}
	start := time.Now()
	if p.tty {
		fmt.Fprintf(p.w, "[%d/%d] %s ...", p.n, steps, what)
	}
	err := fn()
	status := time.Since(start).Round(10 * time.Millisecond).String()
	if err != nil {
		status = "failed"
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K[%d/%d] %s: %s\n", p.n, steps, what, status)
	} else {
		fmt.Fprintf(p.w, "step %d/%d: %s: %s\n", p.n, steps, what, status)
	}
	return err
}

func (p *progress) printf(format string, args ...any) {
	if p.w != nil {
		fmt.Fprintf(p.w, format, args...)
	}
}
