package coap

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The All-CoAP-Nodes groups (RFC 7252 §12.8): the IPv4 one the original joined, and the
// link-local and site-local IPv6 ones.
var (
	groupV4         = netip.MustParseAddr("224.0.1.187")
	groupsV6        = []netip.Addr{netip.MustParseAddr("ff02::fd"), netip.MustParseAddr("ff05::fd")}
	rejoinInterval  = 10 * time.Second
	multicastUsable = net.FlagUp | net.FlagMulticast
)

// joinGroups joins the groups on every multicast interface, on each wildcard socket, and
// again whenever a link changes (and every few seconds), so interfaces that come up later
// (WiFi) are joined too.
func (s *Server) joinGroups(ctx context.Context) {
	type joinKey struct {
		ep    *endpoint
		iface int
		group netip.Addr
	}
	joined := map[joinKey]bool{}
	var wildcard []*endpoint
	for _, ep := range s.endpoints {
		if ep.local.Addr().IsUnspecified() {
			wildcard = append(wildcard, ep)
		}
	}
	t := time.NewTicker(rejoinInterval)
	defer t.Stop()
	// Link events wake the loop at once (WiFi up, a USB adapter plugged in); the ticker is
	// there for when they cannot be followed.
	links := make(chan netlink.LinkUpdate, 16)
	done := make(chan struct{})
	defer close(done)
	if err := netlink.LinkSubscribe(links, done); err != nil {
		s.log.Debug("link events for service discovery", "err", err)
	}
	for {
		ifaces, err := net.Interfaces()
		if err != nil {
			s.log.Warn("list interfaces for service discovery", "err", err)
		}
		for _, ifi := range ifaces {
			if ifi.Flags&multicastUsable != multicastUsable {
				continue
			}
			for _, ep := range wildcard {
				groups := []netip.Addr{groupV4}
				if ep.v6 {
					groups = groupsV6
				}
				for _, g := range groups {
					k := joinKey{ep, ifi.Index, g}
					if joined[k] {
						continue
					}
					if err := join(ep, &ifi, g); err != nil {
						s.log.Debug("join multicast group", "group", g.String(), "iface", ifi.Name, "err", err)
						continue
					}
					joined[k] = true
					s.log.Info("joined All-CoAP-Nodes group", "group", g.String(), "iface", ifi.Name, "port", ep.local.Port())
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-links:
		}
	}
}

func join(ep *endpoint, ifi *net.Interface, g netip.Addr) error {
	addr := &net.UDPAddr{IP: g.AsSlice()}
	if ep.v6 {
		return ipv6.NewPacketConn(ep.conn).JoinGroup(ifi, addr)
	}
	return ipv4.NewPacketConn(ep.conn).JoinGroup(ifi, addr)
}
