// Package wait has the one waiting primitive the appliance's loops share: a pause that ends
// early when the work is cancelled, so every back-off stops at once on shutdown.
package wait

import (
	"context"
	"time"
)

// Sleep waits d, or returns false as soon as ctx is done.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
