package config

import (
	"net/netip"

	"github.com/pigw/pigw/appliance/network"
)

// System is the setup of the machine itself, for when pigw runs as PID 1.
type System struct {
	// Hostname is the machine's host name: 1..63 letters, digits and '-',
	// not starting or ending with '-' (one DNS label). Default: "pigw",
	// which "" also means.
	Hostname string `yaml:"hostname"`
	// Modules are the kernel modules to load at boot, in this order, when
	// pigw runs as PID 1, such as [brcmfmac] for the Raspberry Pi's WiFi.
	// Names are 1..56 bytes of letters, digits, '_' and '-', each listed
	// once; '-' and '_' are the same in a module's name, so "brcm-fmac" and
	// "brcm_fmac" are one module. Parameters may follow the name, as
	// modprobe takes them: name=value words, each after one space, values
	// of printable ASCII without spaces or quotes, 1024 bytes in all, such
	// as "i2c-stub chip_addr=0x76,0x48". Default: none.
	Modules []string `yaml:"modules"`
	// Watchdog, when true, pings /dev/watchdog when there is one, so that
	// the machine is reset if pigw hangs; false leaves the device closed.
	// Default: true.
	Watchdog *bool `yaml:"watchdog"`
	// MDNS, when true, answers <hostname>.local (A and AAAA) over mDNS and
	// announces the CoAP services (_coap._udp, _coaps._udp when DTLS is
	// on) and the status page (_http._tcp) over DNS-SD, with the version
	// and board in their TXT records, on every up, multicast link other
	// than loopback; false stays silent. Default: true when pigw runs as
	// the system (PID 1), false under pigw run, so that a laptop or a test
	// does not announce itself.
	MDNS *bool `yaml:"mdns"`
}

// WatchdogOn reports whether the hardware watchdog is to be used: Watchdog is true or left out.
func (s System) WatchdogOn() bool { return s.Watchdog == nil || *s.Watchdog }

// MDNSOn reports whether mDNS is to be answered and announced: MDNS when set, else asInit,
// whether pigw runs as the system (PID 1).
func (s System) MDNSOn(asInit bool) bool {
	if s.MDNS == nil {
		return asInit
	}
	return *s.MDNS
}

// Network configures the network interfaces and the resolver.
type Network struct {
	// Interfaces are the interfaces to set up, in this order: each names a
	// link, or is a pattern that configures every Ethernet-class link it
	// matches (see interfaces[].name). Default: none, interfaces are left as
	// they are. A list in a higher configuration layer replaces the lower
	// layers' whole list, such as the image's eth*, en* and usb* by DHCP.
	Interfaces []Interface `yaml:"interfaces"`
	// DNS are the addresses of the resolvers, IPv4 or IPv6 literals (names
	// are not looked up), such as ["192.168.1.1", "2001:4860:4860::8888"].
	// At most 3, as the resolver reads only the first 3; each once.
	// Default: none.
	DNS []string `yaml:"dns"`
}

// Interface is the setup of one network interface.
type Interface struct {
	// Name is the Linux interface's name, such as eth0 or wlan0, or a
	// pattern of names such as "usb*". Required and unique. A name is
	// 1..15 bytes, no '/', ':' or whitespace, not "." or "..". A name that
	// holds '*', '?' or '[' is a pattern, in the syntax of Go's path.Match
	// ('*' any text, '?' one character, "[0-9]" one of a class, "[^0-9]"
	// one not in it, '\' to escape), 1..64 bytes, with no '/', ':' or
	// whitespace either. A pattern applies to each link of the Ethernet
	// class (ARPHRD_ETHER: Ethernet, USB Ethernet, WiFi; never lo or a
	// tunnel) whose name it matches and that no entry names exactly, when
	// the link appears, hot-plugged ones included; of several patterns that
	// match, the first in the list wins. A pattern may set up, dhcp, mtu
	// and metric, but no addresses, gateway, gateway6 or routes: one
	// address cannot sit on several links.
	Name string `yaml:"name"`
	// Up brings the interface up when true, down when false. Default:
	// true.
	Up *bool `yaml:"up"`
	// Addresses are the interface's addresses with their prefix length
	// (CIDR), such as "192.168.1.10/24" or "fd00::10/64", each once (see
	// Prefixes). Each must be a host's address in its prefix: not the
	// network or broadcast address of an IPv4 prefix shorter than /31, not
	// an unspecified or multicast address. Default: none.
	Addresses []string `yaml:"addresses"`
	// DHCP, when true, gets an IPv4 address, and the router of the IPv4
	// default route, from a DHCP server (see UsesDHCP). Static addresses may
	// be given too, such as IPv6 ones, but no gateway, and up may not be
	// false. The default route from DHCP has the interface's metric (see
	// EffectiveMetric), which no other IPv4 default route may share; a link
	// a pattern gives DHCP gets the lowest metric from its base (100, 101,
	// ...) that no other IPv4 default route has. Write {name: eth0, dhcp:
	// true} for an interface set up by DHCP alone. Default: false.
	DHCP *bool `yaml:"dhcp"`
	// Gateway is the router of the IPv4 default route through this
	// interface, such as "192.168.1.1": an IPv4 address inside one of the
	// IPv4 prefixes of addresses, and not one of them. Not allowed with
	// dhcp, which gives the router. Default: "", no IPv4 default route.
	Gateway string `yaml:"gateway"`
	// Gateway6 is the router of the IPv6 default route through this
	// interface, such as "fe80::1" or "fd00::1": an IPv6 address, link-local
	// ones included, written without a zone (the route is on this
	// interface). Default: "", no IPv6 default route.
	Gateway6 string `yaml:"gateway6"`
	// Routes are further routes through this interface. Default: none.
	Routes []Route `yaml:"routes"`
	// MTU is the interface's MTU: 68..65535, and at least 1280 when the
	// interface has IPv6 addresses. Default: 0, the MTU is left as it is.
	MTU int `yaml:"mtu"`
	// Metric is the metric of the interface's default routes, and of its
	// routes that have none: 1..65535. Default: 0, which means 600 for WiFi
	// (names starting with "wl", such as wlan0) and 100 for the rest (eth0,
	// enp1s0), so that a wired link wins over WiFi (see EffectiveMetric).
	// Two routes to one destination need different metrics. For a pattern
	// it is the base metric of each link it matches (0: by the link's name).
	Metric int `yaml:"metric"`
}

// Route is a route through an interface.
type Route struct {
	// To is the destination prefix, such as "10.0.0.0/8" or "fd00:1::/64",
	// with no bits set after the prefix length. Required.
	To string `yaml:"to"`
	// Via is the router to go through: an address of the family of to,
	// without a zone. Default: "", the destination is on the link.
	Via string `yaml:"via"`
	// Metric is the route's metric: 1..65535. Default: 0, the interface's
	// metric (see EffectiveMetric).
	Metric int `yaml:"metric"`
}

// Prefixes returns the addresses of the interface, parsed, in the order
// written. It leaves out those that do not parse, which Parse and Validate
// refuse.
func (i Interface) Prefixes() []netip.Prefix {
	var ps []netip.Prefix
	for _, a := range i.Addresses {
		if p, err := netip.ParsePrefix(a); err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// IsPattern reports whether the interface's name is a pattern of link names:
// whether it holds '*', '?' or '['.
func (i Interface) IsPattern() bool { return network.IsPattern(i.Name) }

// UsesDHCP reports whether the interface gets its IPv4 address by DHCP:
// whether DHCP is set and true.
func (i Interface) UsesDHCP() bool { return i.DHCP != nil && *i.DHCP }

// EffectiveMetric returns the metric of the interface's default routes and
// of its routes that have none: Metric, or when that is 0, 600 for a WiFi
// interface (a name starting with "wl", such as wlan0 or wlp2s0) and 100
// for any other, such as eth0 or enp1s0. The links a pattern matches
// start from Metric, or when that is 0, from this rule applied to each
// link's name.
func (i Interface) EffectiveMetric() int {
	if i.Metric != 0 {
		return i.Metric
	}
	return network.DefaultMetric(i.Name)
}

// EntryFor returns the index of the interface that configures the link
// named link: the entry with its name, else the first pattern that matches
// it; -1 when none does.
func (n Network) EntryFor(link string) int {
	names := make([]string, len(n.Interfaces))
	for i, it := range n.Interfaces {
		names[i] = it.Name
	}
	return network.Choose(names, link)
}

// Resolvers returns the resolvers' addresses, parsed, in the order written.
// It leaves out those that do not parse, which Parse and Validate refuse.
func (n Network) Resolvers() []netip.Addr {
	var as []netip.Addr
	for _, s := range n.DNS {
		if a, err := netip.ParseAddr(s); err == nil {
			as = append(as, a)
		}
	}
	return as
}
