package network

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// An Interface whose Name is a pattern (see IsPattern) configures every Ethernet-class link
// (ARPHRD_ETHER: Ethernet, USB Ethernet, WiFi; never lo or a tunnel) whose name it matches
// and that no Interface names exactly; of several patterns that match, the first wins. So an
// image can give DHCP to whatever wired adapter a board has (eth0 on a Pi 4, usb0 on an
// emulated Pi 3 or a Zero 2 W's USB dongle) without knowing its name, and a user's exact
// entry still wins. A pattern carries no addresses, gateways or routes: one address cannot
// sit on several links.
//
// The IPv4 default route that DHCP gives each such link needs a metric of its own (the
// kernel replaces a default route with the same metric), so each link gets the lowest
// metric from its base upwards that no other link's IPv4 default route has.

// IsPattern reports whether an interface's name is a pattern of link names in path.Match's
// syntax (*, ?, [0-9], [^0-9], \ to escape) rather than one link's name: whether it holds
// '*', '?' or '['.
func IsPattern(name string) bool { return strings.ContainsAny(name, "*?[") }

// Default metrics of a link's routes: a wired link wins over WiFi.
const (
	WiredMetric = 100
	WiFiMetric  = 600
)

// DefaultMetric is the metric of a link's routes when its configuration gives none:
// WiFiMetric for a WiFi link (a name starting with "wl", such as wlan0 or wlp2s0),
// WiredMetric for any other, such as eth0, enp1s0 or usb0.
func DefaultMetric(link string) int {
	if strings.HasPrefix(link, "wl") {
		return WiFiMetric
	}
	return WiredMetric
}

// Choose returns the index of the name in names that configures the link named link: link
// itself, else the first pattern that matches it; -1 when none does. Whether the link is of
// the Ethernet class, which a pattern also needs, is the caller's to check.
func Choose(names []string, link string) int {
	if i := slices.Index(names, link); i >= 0 {
		return i
	}
	for i, n := range names {
		if IsPattern(n) {
			if ok, _ := path.Match(n, link); ok {
				return i
			}
		}
	}
	return -1
}

// maxMetric is the highest route metric a configuration gives (validated by the appliance).
const maxMetric = 65535

// plan decides what each link gets: the Interface that names it, or, for an Ethernet-class
// link a pattern matches, a copy of the pattern's with the link's name and a metric of its
// own. It remembers what it gave, so a link that goes and comes back (a USB adapter
// replugged), or a restart of the subsystem, keeps its metric.
type plan struct {
	ifcs    []Interface
	names   []string
	matched map[string]Interface // links configured by a pattern, by name
	metrics map[int]string       // metrics of IPv4 default routes, and the link that has each
}

func newPlan(ifcs []Interface) *plan {
	p := &plan{ifcs: ifcs, matched: map[string]Interface{}, metrics: map[int]string{}}
	for _, ifc := range ifcs {
		p.names = append(p.names, ifc.Name)
		if IsPattern(ifc.Name) {
			continue
		}
		for _, m := range ifc.defaultRouteMetrics() {
			p.metrics[m] = ifc.Name
		}
	}
	return p
}

// defaultRouteMetrics are the metrics of the IPv4 default routes ifc makes: by DHCP, through
// its gateway, or listed in its routes.
func (ifc Interface) defaultRouteMetrics() []int {
	var ms []int
	if ifc.DHCP || ifc.Gateway.IsValid() {
		ms = append(ms, ifc.Metric)
	}
	for _, r := range ifc.Routes {
		if r.To.Bits() == 0 && r.To.Addr().Is4() {
			ms = append(ms, cmp0(r.Metric, ifc.Metric))
		}
	}
	return ms
}

// cmp0 is a, or b when a is 0.
func cmp0(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// match is how a pattern configures a link.
type match struct {
	pattern string
	first   bool     // the pattern matched the link for the first time: the metric was chosen now
	base    int      // the metric the pattern gives the link
	skipped []string // the metrics from base below the link's, and whose they are: "100 (eth0)"
}

// lookup returns the configuration of the link named link: its own Interface, or a copy of
// the first pattern's that matches it when it is of the Ethernet class, with the link's name
// and, with DHCP, the lowest metric from the pattern's base that no other IPv4 default route
// has. m is non-nil when a pattern configures the link; ok is false when no Interface is for
// the link, or when a pattern's link finds no free metric (err says so).
func (p *plan) lookup(link string, ethernet bool) (ifc Interface, m *match, ok bool, err error) {
	i := Choose(p.names, link)
	switch {
	case i < 0:
		return Interface{}, nil, false, nil
	case !IsPattern(p.ifcs[i].Name):
		return p.ifcs[i], nil, true, nil
	case !ethernet:
		return Interface{}, nil, false, nil
	}
	pat := p.ifcs[i]
	m = &match{pattern: pat.Name, base: cmp0(pat.Metric, DefaultMetric(link))}
	if ifc, seen := p.matched[link]; seen {
		return ifc, m, true, nil
	}
	m.first = true
	ifc = pat
	ifc.Name, ifc.Metric = link, m.base
	if ifc.DHCP {
		for ; p.metrics[ifc.Metric] != ""; ifc.Metric++ {
			if ifc.Metric == maxMetric {
				return Interface{}, nil, false, fmt.Errorf("%s matches %q, but every metric from %d to %d has an IPv4 default route already",
					link, pat.Name, m.base, maxMetric)
			}
			m.skipped = append(m.skipped, fmt.Sprintf("%d (%s)", ifc.Metric, p.metrics[ifc.Metric]))
		}
		p.metrics[ifc.Metric] = link
	}
	p.matched[link] = ifc
	return ifc, m, true, nil
}
