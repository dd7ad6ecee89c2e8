package config

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Rules for the system and network sections.
const (
	defaultHostname = "pigw"
	maxHostname     = 63 // bytes in a host name: one DNS label
	maxModuleName   = 56 // bytes in a kernel module's name
	maxModuleParams = 1024
	maxIfName       = 15 // bytes in a Linux interface name (IFNAMSIZ less the NUL)
	maxIfPattern    = 64 // bytes in a pattern of interface names
	maxResolvers    = 3  // name servers the resolver reads (MAXNS)
	minMTU          = 68 // the least MTU of IPv4 (RFC 791)
	maxMTU          = 65535
	minIPv6MTU      = 1280 // the least MTU of IPv6 (RFC 8200)
	maxMetric       = 65535
)

// system checks the system section and fills in its defaults.
func (v *validator) system(s *System, path string) {
	if s.Hostname == "" {
		s.Hostname = defaultHostname
	} else if msg := checkHostname(s.Hostname); msg != "" {
		v.fail(path+".hostname", false, "%s", msg)
	}

	first := map[string]int{} // module index by name, '-' written as '_'
	for i, m := range s.Modules {
		p := fmt.Sprintf("%s.modules[%d]", path, i)
		name, params, spaced := strings.Cut(m, " ")
		if msg := checkModule(name); msg != "" {
			v.fail(p, false, "%s", msg)
			continue
		}
		if msg := checkModuleParams(params); spaced && msg != "" {
			v.fail(p, false, "module %s: %s", name, msg)
			continue
		}
		key := strings.ReplaceAll(name, "-", "_")
		switch j, dup := first[key]; {
		case !dup:
			first[key] = i
		case moduleName(s.Modules[j]) == name:
			v.fail(p, false, "%q is listed twice (first as modules[%d])", name, j)
		default:
			v.fail(p, false, "%q is listed twice (first as modules[%d], %q: '-' and '_' are the same in a module's name)", name, j, moduleName(s.Modules[j]))
		}
	}

	if s.Watchdog == nil {
		s.Watchdog = ptrTo(true)
	}
}

// checkHostname says what is wrong with a host name that is not empty, or
// returns "".
func checkHostname(h string) string {
	switch {
	case len(h) > maxHostname:
		return fmt.Sprintf("%q is %d bytes long, more than %d", h, len(h), maxHostname)
	case strings.ContainsFunc(h, func(r rune) bool { return !isAlnum(r) && r != '-' }):
		return fmt.Sprintf("%q may only hold letters, digits and '-'", h)
	case h[0] == '-' || h[len(h)-1] == '-':
		return fmt.Sprintf("%q may not start or end with '-'", h)
	}
	return ""
}

// checkModule says what is wrong with a kernel module's name, or returns "".
func checkModule(m string) string {
	switch {
	case m == "":
		return "empty (give a kernel module's name, such as brcmfmac)"
	case strings.ContainsFunc(m, func(r rune) bool { return !isAlnum(r) && r != '_' && r != '-' }):
		return fmt.Sprintf("%q may only hold letters, digits, '_' and '-'", m)
	case len(m) > maxModuleName:
		return fmt.Sprintf("%q is %d bytes long, more than %d", m, len(m), maxModuleName)
	}
	return ""
}

// moduleName is the name in a modules entry, without its parameters.
func moduleName(entry string) string {
	name, _, _ := strings.Cut(entry, " ")
	return name
}

// checkModuleParams says what is wrong with the parameters after a module's name, such as
// "chip_addr=0x76,0x48 debug=1", or returns "". A name followed by a space and nothing has an
// empty parameter, which is wrong.
func checkModuleParams(params string) string {
	if len(params) > maxModuleParams {
		return fmt.Sprintf("parameters are %d bytes long, more than %d", len(params), maxModuleParams)
	}
	seen := map[string]bool{}
	for _, f := range strings.Split(params, " ") {
		key, val, ok := strings.Cut(f, "=")
		switch {
		case f == "":
			return fmt.Sprintf("parameters %q: separate them with one space", params)
		case key == "" || strings.ContainsFunc(key, func(r rune) bool { return !isAlnum(r) && r != '_' }):
			return fmt.Sprintf("parameter %q: want name=value, the name of letters, digits and '_'", f)
		case !ok || val == "":
			return fmt.Sprintf("parameter %q: want name=value, such as %s=1", f, key)
		case strings.ContainsFunc(val, func(r rune) bool { return r <= ' ' || r > '~' || r == '"' || r == '\\' }):
			return fmt.Sprintf("parameter %q: the value may only hold printable ASCII without spaces, quotes or backslashes", f)
		case seen[key]:
			return fmt.Sprintf("parameter %s is given twice", key)
		}
		seen[key] = true
	}
	return ""
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// network checks the network section and fills in its defaults.
func (v *validator) network(n *Network, path string) {
	routes := map[routeKey]string{}
	first := map[string]int{} // interface index by name
	for i := range n.Interfaces {
		it := &n.Interfaces[i]
		p := fmt.Sprintf("%s.interfaces[%d]", path, i)
		if !v.iface(it, p, routes) {
			continue
		}
		if j, dup := first[it.Name]; dup {
			prev := fmt.Sprintf("%s.interfaces[%d]", path, j)
			v.fail(p+".name", false, "%q is already used by %s%s", it.Name, prev, v.where(prev+".name", p+".name"))
			continue
		}
		first[it.Name] = i
	}

	if len(n.DNS) > maxResolvers {
		v.fail(path+".dns", false, "%d addresses, more than %d (the resolver reads only the first %d)", len(n.DNS), maxResolvers, maxResolvers)
	}
	seen := map[netip.Addr]int{}
	for i, s := range n.DNS {
		p := fmt.Sprintf("%s.dns[%d]", path, i)
		a, err := netip.ParseAddr(s)
		if err != nil {
			v.fail(p, false, "%q is not an IPv4 or IPv6 address (names are not looked up)", s)
			continue
		}
		if what := notHost(a); what != "" {
			v.fail(p, false, "%q is %s, not a resolver's", s, what)
			continue
		}
		if j, dup := seen[a]; dup {
			v.fail(p, false, "%q is listed twice (first as dns[%d])", s, j)
			continue
		}
		seen[a] = i
	}
}

// routeKey is what the kernel tells routes apart by: two routes with the
// same key are one too many.
type routeKey struct {
	to     netip.Prefix
	metric int
}

// iface checks one interface, fills in its defaults, notes the routes it
// makes in routes (the path of what makes each) and reports whether its
// name is valid.
func (v *validator) iface(it *Interface, path string, routes map[routeKey]string) (nameOK bool) {
	check := checkIfName
	if it.IsPattern() {
		check = checkIfPattern
	}
	switch msg := check(it.Name); {
	case it.Name == "":
		v.fail(path+".name", false, "missing (give the interface's name, such as eth0 or wlan0)")
	case msg != "":
		v.fail(path+".name", false, "%s", msg)
	default:
		nameOK = true
	}

	if it.Up == nil {
		it.Up = ptrTo(true)
	}
	if it.DHCP == nil {
		it.DHCP = ptrTo(false)
	}
	dhcp := it.UsesDHCP()
	if dhcp && !*it.Up {
		v.fail(path+".dhcp", false, "true, but the interface is down (up: false); DHCP needs it up: remove dhcp or up")
	}
	if it.IsPattern() {
		// Its links' metrics are chosen as they appear, each free of the
		// others' (network.plan): no route is noted in routes.
		v.patternFields(it, path)
		v.mtu(it.MTU, false, path)
		v.metric(it.Metric, path)
		return nameOK
	}

	// The gateway is checked against the addresses only when they are all
	// valid, lest it be blamed for their mistake.
	addrsOK := !v.failed(path + ".addresses")
	var v4 []netip.Prefix // the IPv4 prefixes, masked
	hasV6 := false
	own := map[netip.Addr]int{} // address index by address
	for i, s := range it.Addresses {
		p := fmt.Sprintf("%s.addresses[%d]", path, i)
		pfx, msg := parseHostPrefix(s)
		if msg != "" {
			v.fail(p, false, "%s", msg)
			addrsOK = false
			continue
		}
		if j, dup := own[pfx.Addr()]; dup {
			if it.Addresses[j] == s {
				v.fail(p, false, "%q is listed twice (first as addresses[%d])", s, j)
			} else {
				v.fail(p, false, "%q: %s is already given as addresses[%d] (%q)", s, pfx.Addr(), j, it.Addresses[j])
			}
			continue
		}
		own[pfx.Addr()] = i
		if pfx.Addr().Is4() {
			v4 = append(v4, pfx.Masked())
		} else {
			hasV6 = true
		}
	}

	v.mtu(it.MTU, hasV6, path)
	metricOK := v.metric(it.Metric, path)
	metric := it.EffectiveMetric()

	if dhcp && metricOK {
		p := path + ".dhcp"
		v.addRoute(routes, routeKey{netip.PrefixFrom(netip.IPv4Unspecified(), 0), metric}, p, p,
			fmt.Sprintf("a default route from DHCP with metric %d", metric))
	}

	if it.Gateway != "" {
		p := path + ".gateway"
		a, err := netip.ParseAddr(it.Gateway)
		var msg string
		switch {
		case dhcp:
			msg = fmt.Sprintf("%q: a DHCP interface gets its gateway from the server; remove gateway or dhcp", it.Gateway)
		case err != nil:
			msg = fmt.Sprintf("%q is not an IPv4 address", it.Gateway)
		case !a.Is4():
			msg = fmt.Sprintf("%q is an IPv6 address (give it as gateway6)", it.Gateway)
		case !addrsOK:
		case len(v4) == 0:
			msg = fmt.Sprintf("%q: the interface has no IPv4 address to reach it through (give one in addresses, such as 192.168.1.10/24)", it.Gateway)
		case !slices.ContainsFunc(v4, func(p netip.Prefix) bool { return p.Contains(a) }):
			msg = fmt.Sprintf("%q is not inside any IPv4 prefix of the interface (%s); the gateway must be on the link", it.Gateway, joinPrefixes(v4))
		}
		if j, ok := own[a]; ok && msg == "" {
			msg = fmt.Sprintf("%q is the interface's own address (addresses[%d]); give the router's", it.Gateway, j)
		}
		if msg != "" {
			v.fail(p, false, "%s", msg)
		} else if metricOK {
			v.addRoute(routes, routeKey{netip.PrefixFrom(netip.IPv4Unspecified(), 0), metric}, p, p,
				fmt.Sprintf("%q: a default route with metric %d", it.Gateway, metric))
		}
	}

	if it.Gateway6 != "" {
		p := path + ".gateway6"
		a, err := netip.ParseAddr(it.Gateway6)
		var msg string
		switch {
		case err != nil:
			msg = fmt.Sprintf("%q is not an IPv6 address", it.Gateway6)
		case a.Is4():
			msg = fmt.Sprintf("%q is an IPv4 address (give it as gateway)", it.Gateway6)
		case a.Zone() != "":
			msg = fmt.Sprintf("%q: leave out the zone %q (the route is on this interface)", it.Gateway6, a.Zone())
		case notHost(a) != "":
			msg = fmt.Sprintf("%q is %s, not a router's", it.Gateway6, notHost(a))
		}
		if j, ok := own[a]; ok && msg == "" {
			msg = fmt.Sprintf("%q is the interface's own address (addresses[%d]); give the router's", it.Gateway6, j)
		}
		if msg != "" {
			v.fail(p, false, "%s", msg)
		} else if metricOK {
			v.addRoute(routes, routeKey{netip.PrefixFrom(netip.IPv6Unspecified(), 0), metric}, p, p,
				fmt.Sprintf("%q: a default route with metric %d", it.Gateway6, metric))
		}
	}

	for i := range it.Routes {
		v.route(&it.Routes[i], fmt.Sprintf("%s.routes[%d]", path, i), metric, metricOK, routes)
	}
	return nameOK
}

// patternFields reports the fields that an interface named by a pattern may
// not have.
func (v *validator) patternFields(it *Interface, path string) {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"addresses", len(it.Addresses) > 0},
		{"gateway", it.Gateway != ""},
		{"gateway6", it.Gateway6 != ""},
		{"routes", len(it.Routes) > 0},
	} {
		if f.set {
			v.fail(path+"."+f.name, false, "not allowed with the pattern %q, which may match several links: an address, gateway or route belongs to one link (give that link an entry with its own name)", it.Name)
		}
	}
}

// mtu checks an interface's MTU, at path.mtu; ipv6 tells whether the
// interface has IPv6 addresses.
func (v *validator) mtu(mtu int, ipv6 bool, path string) {
	switch {
	case mtu != 0 && (mtu < minMTU || mtu > maxMTU):
		v.fail(path+".mtu", false, "%d is out of range (0 to leave it as it is, or %d..%d)", mtu, minMTU, maxMTU)
	case mtu != 0 && mtu < minIPv6MTU && ipv6:
		v.fail(path+".mtu", false, "%d is too small for the interface's IPv6 addresses (IPv6 needs %d at least)", mtu, minIPv6MTU)
	}
}

// metric checks an interface's metric, at path.metric, and reports whether
// it is valid.
func (v *validator) metric(metric int, path string) bool {
	if metric < 0 || metric > maxMetric {
		v.fail(path+".metric", false, "%d is out of range (0 for the default, or 1..%d)", metric, maxMetric)
		return false
	}
	return true
}

// route checks a route through an interface with the metric ifMetric, valid
// if ifMetricOK, and notes it in routes.
func (v *validator) route(r *Route, path string, ifMetric int, ifMetricOK bool, routes map[routeKey]string) {
	var to netip.Prefix
	pfx, err := netip.ParsePrefix(r.To)
	switch {
	case r.To == "":
		v.fail(path+".to", false, "missing (give the destination prefix, such as 10.0.0.0/8)")
	case err != nil:
		if a, err := netip.ParseAddr(r.To); err == nil && a.Zone() == "" {
			v.fail(path+".to", false, "%q has no prefix length (write %s for this one address)", r.To, netip.PrefixFrom(a, a.BitLen()))
		} else {
			v.fail(path+".to", false, "%q is not a prefix (write CIDR, such as 10.0.0.0/8 or fd00:1::/64)", r.To)
		}
	case pfx != pfx.Masked():
		v.fail(path+".to", false, "%q has bits set after the prefix length (write %s)", r.To, pfx.Masked())
	default:
		to = pfx
	}

	if r.Via != "" {
		a, err := netip.ParseAddr(r.Via)
		switch {
		case err != nil:
			v.fail(path+".via", false, "%q is not an IPv4 or IPv6 address", r.Via)
		case a.Zone() != "":
			v.fail(path+".via", false, "%q: leave out the zone %q (the route is on this interface)", r.Via, a.Zone())
		case notHost(a) != "":
			v.fail(path+".via", false, "%q is %s, not a router's", r.Via, notHost(a))
		case to.IsValid() && a.Is4() != to.Addr().Is4():
			v.fail(path+".via", false, "%q is an %s address, but to (%s) is %s", r.Via, family(a), to, family(to.Addr()))
		}
	}

	metric, metricOK := r.Metric, true
	switch {
	case r.Metric < 0 || r.Metric > maxMetric:
		v.fail(path+".metric", false, "%d is out of range (0 for the interface's, or 1..%d)", r.Metric, maxMetric)
		metricOK = false
	case r.Metric == 0:
		metric, metricOK = ifMetric, ifMetricOK
	}
	if to.IsValid() && metricOK {
		v.addRoute(routes, routeKey{to, metric}, path, path+".to", fmt.Sprintf("%q with metric %d", r.To, metric))
	}
}

// addRoute notes in routes the route k, made by the field at name, or
// reports at path, with what describing the route, that another field
// already makes it.
func (v *validator) addRoute(routes map[routeKey]string, k routeKey, name, path, what string) {
	if prev, dup := routes[k]; dup {
		v.fail(path, false, "%s is already given by %s%s; give one of them another metric", what, prev, v.where(prev, path))
		return
	}
	routes[k] = name
}

// checkIfName says what is wrong with an interface name that is not empty,
// or returns "". The rules are the kernel's (dev_valid_name).
func checkIfName(name string) string {
	switch {
	case name == "":
		return ""
	case len(name) > maxIfName:
		return fmt.Sprintf("%q is %d bytes long, more than %d (the kernel's limit)", name, len(name), maxIfName)
	case name == "." || name == "..":
		return fmt.Sprintf("%q is not allowed as an interface name", name)
	case strings.ContainsFunc(name, func(r rune) bool { return r == '/' || r == ':' || unicode.IsSpace(r) }):
		return fmt.Sprintf("%q may not hold '/', ':' or whitespace", name)
	}
	return ""
}

// checkIfPattern says what is wrong with a pattern of interface names (see
// Interface.Name), or returns "".
func checkIfPattern(p string) string {
	switch {
	case len(p) > maxIfPattern:
		return fmt.Sprintf("%q is %d bytes long, more than %d (a pattern's limit)", p, len(p), maxIfPattern)
	case strings.ContainsFunc(p, func(r rune) bool { return r == '/' || r == ':' || unicode.IsSpace(r) }):
		return fmt.Sprintf("%q may not hold '/', ':' or whitespace", p)
	case strings.Contains(p, "[!"):
		return fmt.Sprintf("%q: write [^...] for the characters not in a class ([!...] would be a class that holds '!')", p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Sprintf(`%q is not a valid pattern (* any text, ? one character, [0-9] one of a class, [^0-9] one not in it, \ escapes the next character)`, p)
	}
	return ""
}

// parseHostPrefix parses an interface's address with its prefix length, or
// says what is wrong with it.
func parseHostPrefix(s string) (netip.Prefix, string) {
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		addr, _, _ := strings.Cut(s, "/")
		a, err := netip.ParseAddr(addr)
		switch {
		case err == nil && a.Zone() != "":
			return netip.Prefix{}, fmt.Sprintf("%q: leave out the zone %q (the address is on this interface)", s, a.Zone())
		case err == nil && addr == s:
			bits := 64
			if a.Is4() {
				bits = 24
			}
			return netip.Prefix{}, fmt.Sprintf("%q has no prefix length (write it as %s, say)", s, netip.PrefixFrom(a, bits))
		}
		return netip.Prefix{}, fmt.Sprintf("%q is not an address with a prefix length (write CIDR, such as 192.168.1.10/24 or fd00::10/64)", s)
	}
	a := pfx.Addr()
	example := "fd00::10/64"
	if a.Is4() {
		example = "192.168.1.10/24"
	}
	switch {
	case notHost(a) != "":
		return netip.Prefix{}, fmt.Sprintf("%q is %s; give the host's address, such as %s", s, notHost(a), example)
	case !a.Is4() || pfx.Bits() >= 31:
	case a == pfx.Masked().Addr():
		return netip.Prefix{}, fmt.Sprintf("%q is the network address of its prefix; give the host's address, such as %s", s, hostIn(pfx))
	case a == broadcast(pfx):
		return netip.Prefix{}, fmt.Sprintf("%q is the broadcast address of its prefix; give the host's address, such as %s", s, hostIn(pfx))
	}
	return pfx, ""
}

// notHost says why a may not be a host's address, or returns "".
func notHost(a netip.Addr) string {
	switch {
	case a.IsUnspecified():
		return "the unspecified address"
	case a.IsMulticast():
		return "a multicast address"
	}
	return ""
}

// hostIn returns, for an example, an address of a host in the IPv4 prefix
// p shorter than /31: the tenth if there is one, else the first.
func hostIn(p netip.Prefix) netip.Prefix {
	network := p.Masked().Addr()
	a := network
	for range 10 {
		a = a.Next()
	}
	if !p.Contains(a) || a == broadcast(p) {
		a = network.Next()
	}
	return netip.PrefixFrom(a, p.Bits())
}

// broadcast returns the broadcast address of the IPv4 prefix p.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	n := binary.BigEndian.Uint32(b[:]) | uint32(uint64(1)<<(32-p.Bits())-1)
	binary.BigEndian.PutUint32(b[:], n)
	return netip.AddrFrom4(b)
}

// joinPrefixes lists prefixes for an error message.
func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

const maxNTPServers = 8

// time checks the time section and fills in its defaults.
func (v *validator) time(t *Time, path string) {
	if len(t.NTP) > maxNTPServers {
		v.fail(path+".ntp", false, "%d servers, more than %d", len(t.NTP), maxNTPServers)
	}
	for i, srv := range t.NTP {
		if msg := checkServer(srv); msg != "" {
			v.fail(fmt.Sprintf("%s.ntp[%d]", path, i), false, "%s", msg)
		}
	}
	switch iv := time.Duration(t.Interval); {
	case iv == 0: // a Config built in Go
		t.Interval = Duration(time.Hour)
	case iv < time.Minute || iv > 24*time.Hour:
		v.fail(path+".interval", false, "%s: must be 1m..24h", iv)
	}
}

// checkServer says what is wrong with "host", "host:port", "IP" or "[IPv6]:port", or returns "".
func checkServer(srv string) string {
	host := srv
	if h, port, err := net.SplitHostPort(srv); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("%q: port %q must be 1..65535", srv, port)
		}
		host = h
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	if host == "" || len(host) > 253 {
		return fmt.Sprintf("%q: must be a host name or an IP address, with an optional :port", srv)
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || checkHostname(label) != "" {
			return fmt.Sprintf("%q: %q is not a valid host name (letters, digits, '-' and dots; IPv6 with a port in brackets)", srv, host)
		}
	}
	return ""
}
