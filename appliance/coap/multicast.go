package coap

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The All-CoAP-Nodes groups (RFC 7252 §12.8): the IPv4 one the original joined, and the
// link-local and site-local IPv6 ones.
var (
	groupV4         = netip.MustParseAddr("224.0.1.187")
	groupLinkV6     = netip.MustParseAddr("ff02::fd")
	groupSiteV6     = netip.MustParseAddr("ff05::fd")
	rejoinInterval  = 10 * time.Second
	multicastUsable = net.FlagUp | net.FlagMulticast
)

// groups holds the server's group sockets: for each family it serves, one bound to the group
// on port 5683, where clients ask (RFC 7252 §12.8), and one on each other port the server
// listens on (`pigw coap discover --port`); the link-local IPv6 group needs one per link.
// They are opened and joined on every multicast link, and again whenever links change (and
// every few seconds), so interfaces that come up later (WiFi) are served too.
type groups struct {
	srv    *Server
	ports  map[bool][]uint16 // by family (true: IPv6)
	socks  map[groupKey]*endpoint
	joined map[joinKey]bool
	failed map[groupKey]bool // logged once at Warn, then at Debug
	wg     sync.WaitGroup
}

// A groupKey names a group socket; ifindex is set for the link-local group only.
type groupKey struct {
	group   netip.Addr
	port    uint16
	ifindex int
}

type joinKey struct {
	sock  groupKey
	iface int
}

// serveGroups runs the group sockets until ctx is done.
func (s *Server) serveGroups(ctx context.Context) {
	g := &groups{srv: s, ports: map[bool][]uint16{}, socks: map[groupKey]*endpoint{}, joined: map[joinKey]bool{}, failed: map[groupKey]bool{}}
	for _, ap := range s.Addrs() {
		v6 := ap.Addr().Is6()
		for _, p := range []uint16{DefaultPort, ap.Port()} {
			if !slices.Contains(g.ports[v6], p) {
				g.ports[v6] = append(g.ports[v6], p)
			}
		}
	}
	defer g.wg.Wait()
	defer g.closeAll()
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
		ifaces = slices.DeleteFunc(ifaces, func(ifi net.Interface) bool { return ifi.Flags&multicastUsable != multicastUsable })
		g.update(ctx, ifaces)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-links:
		}
	}
}

// update opens and joins what the links in ifaces need, and closes and forgets what links
// that are gone had.
func (g *groups) update(ctx context.Context, ifaces []net.Interface) {
	present := map[int]bool{}
	for _, ifi := range ifaces {
		present[ifi.Index] = true
	}
	for k, ep := range g.socks {
		if k.ifindex != 0 && !present[k.ifindex] {
			ep.close()
			delete(g.socks, k)
		}
	}
	for k := range g.joined {
		if !present[k.iface] || g.socks[k.sock] == nil {
			delete(g.joined, k) // the kernel drops the membership of a link that goes away
		}
	}
	for _, v6 := range []bool{false, true} {
		for _, port := range g.ports[v6] {
			if !v6 {
				g.serve(ctx, groupKey{groupV4, port, 0}, ifaces)
				continue
			}
			g.serve(ctx, groupKey{groupSiteV6, port, 0}, ifaces)
			for _, ifi := range ifaces {
				g.serve(ctx, groupKey{groupLinkV6, port, ifi.Index}, []net.Interface{ifi})
			}
		}
	}
}

// serve opens the socket k names, if it is not open, and joins its group on ifaces.
func (g *groups) serve(ctx context.Context, k groupKey, ifaces []net.Interface) {
	s := g.srv
	ep := g.socks[k]
	if ep == nil {
		var err error
		if ep, err = listenGroup(s, k.group, k.port, k.ifindex); err != nil {
			level := slog.LevelWarn
			if g.failed[k] {
				level = slog.LevelDebug
			}
			g.failed[k] = true
			s.log.Log(ctx, level, "service discovery: cannot take multicast requests", "group", k.group.String(), "port", k.port, "err", err)
			return
		}
		g.socks[k] = ep
		s.log.Info("listening for multicast requests", "addr", ep.local.String(), "iface", ifaceName(ifaces, k.ifindex))
		g.wg.Go(func() { ep.readLoop(ctx) })
	}
	for _, ifi := range ifaces {
		jk := joinKey{k, ifi.Index}
		if g.joined[jk] {
			continue
		}
		if err := join(ep, &ifi, k.group); err != nil {
			s.log.Debug("join multicast group", "group", k.group.String(), "iface", ifi.Name, "err", err)
			continue
		}
		g.joined[jk] = true
		s.log.Info("joined All-CoAP-Nodes group", "group", k.group.String(), "iface", ifi.Name, "port", k.port)
	}
}

func (g *groups) closeAll() {
	for _, ep := range g.socks {
		ep.close()
	}
}

func ifaceName(ifaces []net.Interface, index int) string {
	for _, ifi := range ifaces {
		if ifi.Index == index {
			return ifi.Name
		}
	}
	return "any"
}

func join(ep *endpoint, ifi *net.Interface, g netip.Addr) error {
	addr := &net.UDPAddr{IP: g.AsSlice()}
	if ep.v6 {
		return ipv6.NewPacketConn(ep.conn).JoinGroup(ifi, addr)
	}
	return ipv4.NewPacketConn(ep.conn).JoinGroup(ifi, addr)
}

// answerer returns the unicast socket that answers a multicast request the group socket gs
// took: the answer must come from a port the client can send its next requests to. It is a
// socket of the same family, on the group socket's port if the server listens there, bound to
// the wildcard address or to an address of the link the request came in on; nil if none is.
func (s *Server) answerer(gs *endpoint, pi pktinfo) *endpoint {
	s.listenMu.Lock()
	eps := s.endpoints // replaced, never changed in place
	s.listenMu.Unlock()
	var onLink []netip.Addr
	for _, samePort := range []bool{true, false} {
		for _, ep := range eps {
			if ep.v6 != gs.v6 || (samePort && ep.local.Port() != gs.local.Port()) {
				continue
			}
			if ep.wildcard {
				return ep
			}
			if onLink == nil {
				onLink = linkAddrs(int(pi.ifindex))
			}
			if slices.Contains(onLink, ep.local.Addr().WithZone("")) {
				return ep
			}
		}
	}
	return nil
}

// linkAddrs returns the addresses of the link with that index (without zones).
func linkAddrs(index int) []netip.Addr {
	ifi, err := net.InterfaceByIndex(index)
	if err != nil {
		return []netip.Addr{}
	}
	as, err := ifi.Addrs()
	if err != nil {
		return []netip.Addr{}
	}
	out := make([]netip.Addr, 0, len(as))
	for _, a := range as {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}
