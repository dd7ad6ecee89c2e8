// Package network configures the appliance's links through netlink: links up, static IPv4 and
// IPv6 addresses, routes with metrics that prefer wired links, DHCP, and the DNS servers the
// resolver reads. It follows link events, so a USB Ethernet adapter plugged in later, or a
// link that went down and up, gets its configuration again; an interface named by a pattern
// such as usb* configures each Ethernet-class link it matches, so the image's configuration
// serves whatever wired adapter a board turns out to have.
package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pigw/pigw/appliance/network/dhcp4"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Interface is the static configuration of one link, or of each link a pattern matches.
type Interface struct {
	Name      string // a link's name, or a pattern of names (see IsPattern)
	Up        bool
	Addresses []netip.Prefix // none for a pattern, nor Gateway, Gateway6 or Routes
	Gateway   netip.Addr     // IPv4 default route, when valid
	Gateway6  netip.Addr     // IPv6 default route, when valid
	Routes    []Route
	MTU       int // 0 leaves it
	// Metric is that of this link's routes. For a pattern it is the base of each link's (0:
	// DefaultMetric of the link's name); a link with DHCP gets the lowest free one from it.
	Metric int
	DHCP   bool
}

// Route is one route through a link.
type Route struct {
	To     netip.Prefix
	Via    netip.Addr // invalid: on-link
	Metric int        // 0: the link's metric
}

// Config is the static network configuration.
type Config struct {
	Interfaces []Interface
	DNS        []netip.Addr
	ResolvConf string // default /etc/resolv.conf (its target when it is a symbolic link)
	Hostname   string // sent to DHCP servers
	LeaseDir   string // where DHCP leases are kept across reboots; "" keeps none
	OnDHCP     func(link, state string)
	// OnLease, when set, gets each lease a link's DHCP client applied (ok true), and each
	// that ended (ok false), for the status page.
	OnLease func(link string, l dhcp4.Lease, ok bool)
}

// Static applies a Config and keeps it applied; it is a subsystem of the appliance.
type Static struct {
	cfg Config
	log *slog.Logger
	h   *netlink.Handle
	ns  *int // the namespace to follow link events in; nil for the current one

	// Kept across Runs: a link keeps its metric, and its DHCP client (with its lease) lives on
	// when Run fails and the supervisor starts it again.
	plan    *plan          // used by Run only
	dhcpRun sync.WaitGroup // the DHCP clients, which end when Run's ctx is done

	mu        sync.Mutex
	dhcp      map[string]bool         // links with a DHCP client
	leaseDNS  map[string][]netip.Addr // DNS servers of each link's DHCP lease
	dhcpState map[string]string
}

// NewStatic returns the subsystem for cfg, working in the current network namespace.
func NewStatic(cfg Config, log *slog.Logger) *Static {
	return newStatic(cfg, log, &netlink.Handle{}, nil)
}

// newStatic returns the subsystem for cfg working through h, and following the link events of
// the namespace ns (nil: the current one).
func newStatic(cfg Config, log *slog.Logger, h *netlink.Handle, ns *int) *Static {
	return &Static{cfg: cfg, log: log, h: h, ns: ns, plan: newPlan(cfg.Interfaces), dhcp: map[string]bool{},
		leaseDNS: map[string][]netip.Addr{}, dhcpState: map[string]string{}}
}

// Name is the subsystem's name.
func (s *Static) Name() string { return "network" }

// Run applies the configuration, then again to each configured link that appears or comes up,
// until ctx is done. A link that is not there yet is waited for; a link that a pattern
// matches is configured when it appears, hot-plugged ones included.
func (s *Static) Run(ctx context.Context) error {
	if err := s.writeResolvConf(); err != nil {
		s.log.Error("DNS servers not written", "err", err)
	}
	updates := make(chan netlink.LinkUpdate, 32)
	done := make(chan struct{})
	defer close(done)
	opts := netlink.LinkSubscribeOptions{ErrorCallback: func(err error) { s.log.Debug("link events", "err", err) }}
	if s.ns != nil {
		h := netnsHandle(*s.ns)
		opts.Namespace = &h
	}
	if err := netlink.LinkSubscribeWithOptions(updates, done, opts); err != nil {
		return fmt.Errorf("follow link events: %w", err)
	}
	// A DHCP client runs until ctx is done, across Runs: when one fails (a configuration the
	// kernel refuses), the next finds the clients running and their leases applied.
	defer func() {
		if ctx.Err() != nil {
			s.dhcpRun.Wait() // they release their leases
		}
	}()
	configure := func(ifc Interface) error {
		if err := s.applyOrWait(ifc); err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if ifc.DHCP && !s.dhcp[ifc.Name] {
			s.dhcp[ifc.Name] = true
			s.dhcpRun.Go(func() {
				s.dhcpLink(ctx, ifc)
				s.mu.Lock()
				delete(s.dhcp, ifc.Name)
				s.mu.Unlock()
			})
		}
		return nil
	}
	patterns := 0
	for _, ifc := range s.cfg.Interfaces {
		if IsPattern(ifc.Name) {
			patterns++
			continue
		}
		if err := configure(ifc); err != nil {
			return err
		}
	}
	if patterns > 0 {
		links, err := s.h.LinkList()
		if err != nil {
			return fmt.Errorf("list links: %w", err)
		}
		for _, l := range links {
			if ifc, byPattern, ok := s.lookup(l); ok && byPattern { // the others are configured above
				if err := configure(ifc); err != nil {
					return err
				}
			}
		}
	}
	s.log.Info("network configured; following link events", "interfaces", len(s.cfg.Interfaces)-patterns, "patterns", patterns)
	for {
		select {
		case <-ctx.Done():
			return nil
		case u, ok := <-updates:
			if !ok {
				return errors.New("link events ended")
			}
			if u.Header.Type != unix.RTM_NEWLINK {
				continue
			}
			if ifc, _, ok := s.lookup(u.Link); ok {
				if err := configure(ifc); err != nil {
					return err
				}
			}
		}
	}
}

// lookup returns the configuration of a link, whether a pattern gives it, and whether there is
// one; it logs what a pattern gives a link it matches for the first time.
func (s *Static) lookup(l netlink.Link) (ifc Interface, byPattern, ok bool) {
	name := l.Attrs().Name
	ifc, m, ok, err := s.plan.lookup(name, l.Attrs().EncapType == "ether")
	if err != nil {
		s.log.Error("link not configured", "link", name, "err", err)
	}
	if m != nil && m.first {
		attrs := []any{"link", name, "pattern", m.pattern, "up", ifc.Up, "dhcp", ifc.DHCP, "metric", ifc.Metric}
		if len(m.skipped) > 0 {
			attrs = append(attrs, "metrics_taken", strings.Join(m.skipped, " "))
		}
		s.log.Info("link matches a pattern", attrs...)
	}
	return ifc, m != nil, ok
}

// applyOrWait applies ifc; a link that is not there yet is waited for, but a configuration
// the kernel refuses is an error: the subsystem fails, and the supervisor tries again later
// and shows the error.
func (s *Static) applyOrWait(ifc Interface) error {
	err := s.apply(ifc)
	var missing errNoLink
	if errors.As(err, &missing) {
		s.log.Warn("link not there yet; configured when it appears", "link", ifc.Name)
		return nil
	}
	return err
}

type errNoLink struct{ name string }

func (e errNoLink) Error() string { return "no link " + e.name }

// apply brings a link to its configuration; it is idempotent.
func (s *Static) apply(ifc Interface) error {
	link, err := s.h.LinkByName(ifc.Name)
	if err != nil {
		return errNoLink{ifc.Name}
	}
	if ifc.MTU > 0 && link.Attrs().MTU != ifc.MTU {
		if err := s.h.LinkSetMTU(link, ifc.MTU); err != nil {
			return fmt.Errorf("%s: MTU %d: %w", ifc.Name, ifc.MTU, err)
		}
	}
	if !ifc.Up {
		return nil
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		if err := s.h.LinkSetUp(link); err != nil {
			return fmt.Errorf("%s: up: %w", ifc.Name, err)
		}
		s.log.Info("link up", "link", ifc.Name)
	}
	var errs []error
	for _, p := range ifc.Addresses {
		a := &netlink.Addr{IPNet: prefixNet(p)}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD // no duplicate detection delay on a static address
		}
		if err := s.h.AddrReplace(link, a); err != nil {
			errs = append(errs, fmt.Errorf("%s: address %s: %w", ifc.Name, p, err))
		}
	}
	routes := append([]Route(nil), ifc.Routes...)
	if ifc.Gateway.IsValid() {
		routes = append(routes, Route{To: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Via: ifc.Gateway})
	}
	if ifc.Gateway6.IsValid() {
		routes = append(routes, Route{To: netip.PrefixFrom(netip.IPv6Unspecified(), 0), Via: ifc.Gateway6})
	}
	for _, r := range routes {
		nr := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: prefixNet(r.To), Priority: max(r.Metric, ifc.Metric)}
		if r.Metric > 0 {
			nr.Priority = r.Metric
		}
		if r.Via.IsValid() {
			nr.Gw = r.Via.AsSlice()
		}
		if err := s.h.RouteReplace(nr); err != nil {
			errs = append(errs, fmt.Errorf("%s: route to %s via %s: %w", ifc.Name, r.To, r.Via, err))
		}
	}
	if len(errs) == 0 {
		s.log.Info("link configured", "link", ifc.Name, "addresses", len(ifc.Addresses), "routes", len(routes))
	}
	return errors.Join(errs...)
}

func prefixNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), bits)}
}

// writeResolvConf writes the DNS servers atomically where the resolver reads them; on a
// read-only /etc the image links /etc/resolv.conf to /run, which is followed.
func (s *Static) writeResolvConf() error {
	dns := s.resolvers()
	if len(dns) == 0 {
		return nil
	}
	path := s.cfg.ResolvConf
	if path == "" {
		path = "/etc/resolv.conf"
		if target, err := filepath.EvalSymlinks(path); err == nil {
			path = target
		} else if t, err := os.Readlink(path); err == nil { // a link to a file not made yet
			path = t
		}
	}
	var b strings.Builder
	b.WriteString("# written by pigw from network.dns\n")
	for _, a := range dns {
		fmt.Fprintf(&b, "nameserver %s\n", a)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	s.log.Info("DNS servers", "file", path, "servers", len(dns))
	return nil
}
