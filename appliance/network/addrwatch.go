package network

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/vishvananda/netlink"
)

// AddressChanges returns a channel that gets a value once the host's global unicast addresses
// (private ones included, loopback and link-local not) have been still for settle after one
// was added or removed: a new DHCP lease, a link that came back with another address. Whoever
// told a server where it is (an LwM2M or Resource Directory registration) tells it again. The
// channel is closed when ctx is done, or when the kernel's events end.
func AddressChanges(ctx context.Context, settle time.Duration, log *slog.Logger) (<-chan struct{}, error) {
	updates := make(chan netlink.AddrUpdate, 16)
	done := make(chan struct{})
	opts := netlink.AddrSubscribeOptions{ErrorCallback: func(err error) { log.Debug("address events", "err", err) }}
	if err := netlink.AddrSubscribeWithOptions(updates, done, opts); err != nil {
		return nil, fmt.Errorf("follow address events: %w", err)
	}
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		defer func() {
			close(done)
			for range updates { // until netlink's reader sees its socket closed
			}
		}()
		timer := time.NewTimer(settle)
		timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-updates:
				if !ok {
					log.Warn("address events ended: address changes are no longer followed")
					return
				}
				if ip := u.LinkAddress.IP; ip.IsGlobalUnicast() {
					timer.Reset(settle)
				}
			case <-timer.C:
				select {
				case out <- struct{}{}:
				default: // one pending is enough
				}
			}
		}
	}()
	return out, nil
}
