package clock_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pigw/pigw/appliance/clock"
)

// At boot a Pi believes it is 1970; the time saved at the last shutdown is put back before
// anything else runs.
func ExampleSync_Restore() {
	dir, _ := os.MkdirTemp("", "clock")
	defer os.RemoveAll(dir)
	state := filepath.Join(dir, "clock")
	_ = os.WriteFile(state, []byte("1795000000\n"), 0o600)
	s := clock.New(clock.Config{
		StateFile: state,
		Now:       func() time.Time { return time.Unix(0, 0) },
		SetTime:   func(t time.Time) error { fmt.Println("set to", t.UTC().Format(time.RFC3339)); return nil },
		Logger:    slog.New(slog.DiscardHandler),
	})
	_, _ = s.Restore()
	// Output: set to 2026-11-18T11:06:40Z
}
