package mdns

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
)

// link is a link the responder works on, with its addresses (IPv6 ones without zone).
type link struct {
	ifi   net.Interface
	addrs []netip.Addr
}

// usable is what a link needs to be worked on; loopback is left out, as a peer on it is this
// host itself.
const usable = net.FlagUp | net.FlagMulticast

// usableLinks returns the up, multicast, non-loopback links that have an address, by index.
func usableLinks() ([]link, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var links []link
	for _, ifi := range all {
		if ifi.Flags&usable != usable || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		as, err := ifi.Addrs()
		if err != nil {
			continue // gone meanwhile
		}
		l := link{ifi: ifi}
		for _, a := range as {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok {
					l.addrs = append(l.addrs, ip.Unmap())
				}
			}
		}
		if len(l.addrs) == 0 {
			continue
		}
		slices.SortFunc(l.addrs, netip.Addr.Compare)
		links = append(links, l)
	}
	slices.SortFunc(links, func(a, b link) int { return a.ifi.Index - b.ifi.Index })
	return links, nil
}

// sameLinks reports whether the responder started on a can go on for b: the same links, by
// index and name, with the same flags and addresses.
func sameLinks(a, b []link) bool {
	return slices.EqualFunc(a, b, func(x, y link) bool {
		return x.ifi.Index == y.ifi.Index && x.ifi.Name == y.ifi.Name && x.ifi.Flags == y.ifi.Flags &&
			slices.Equal(x.addrs, y.addrs)
	})
}

func linkNames(links []link) string {
	names := make([]string, len(links))
	for i, l := range links {
		names[i] = l.ifi.Name
	}
	return strings.Join(names, " ")
}

// watchLinks returns a channel that gets a value once links and addresses have been still for
// a second after a change, until ctx is done.
func watchLinks(ctx context.Context, log *slog.Logger) (<-chan struct{}, error) {
	links := make(chan netlink.LinkUpdate, 16)
	addrs := make(chan netlink.AddrUpdate, 16)
	done := make(chan struct{})
	errCB := func(err error) { log.Debug("mdns: link events", "err", err) }
	if err := netlink.LinkSubscribeWithOptions(links, done, netlink.LinkSubscribeOptions{ErrorCallback: errCB}); err != nil {
		close(done)
		return nil, fmt.Errorf("follow link events: %w", err)
	}
	if err := netlink.AddrSubscribeWithOptions(addrs, done, netlink.AddrSubscribeOptions{ErrorCallback: errCB}); err != nil {
		close(done)
		go drain(links, nil)
		return nil, fmt.Errorf("follow address events: %w", err)
	}
	out := make(chan struct{}, 1)
	go func() {
		defer func() {
			close(done)
			go drain(links, addrs) // until netlink's readers see their sockets closed
		}()
		settle := time.NewTimer(time.Hour)
		settle.Stop()
		for links != nil || addrs != nil {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-links:
				if !ok {
					links = nil
				}
				settle.Reset(quiet)
			case _, ok := <-addrs:
				if !ok {
					addrs = nil
				}
				settle.Reset(quiet)
			case <-settle.C:
				select {
				case out <- struct{}{}:
				default: // one pending is enough
				}
			}
		}
		log.Warn("mdns: link and address events ended; links are checked every 30 s only")
	}()
	return out, nil
}

func drain(links <-chan netlink.LinkUpdate, addrs <-chan netlink.AddrUpdate) {
	for links != nil || addrs != nil {
		select {
		case _, ok := <-links:
			if !ok {
				links = nil
			}
		case _, ok := <-addrs:
			if !ok {
				addrs = nil
			}
		}
	}
}
