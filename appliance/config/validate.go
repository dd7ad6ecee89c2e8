package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Validate checks c against the rules documented on its fields, as Parse
// does for a file, and reports every problem found. On the way it brings
// resource URIs and methods to their normal form: no leading "/", methods in
// upper case; and it fills in the defaults of session requests: name,
// method, include_options and confirmable; of system.hostname and
// system.watchdog; of the interfaces' up and dhcp; and of wifi.interface,
// wifi.country (stored in upper case), wifi.backend and the networks'
// security (both stored in lower case); of time.interval; of the sensors'
// bus, address (for I2C kinds), interval and threshold, their kinds stored
// in lower case; and of the GPIO pins' pull and edge (inputs), initial and
// restart (outputs), their pins stored as GPIO17 and the rest in lower case;
// and of update's confirm and trial (stored in lower case), trial_deadline
// and healthy_after; of lwm2m's lifetime, binding (stored in upper case)
// and objects (stored in lower case); and of rd's lifetime. It leaves
// web.listen as written: none means the default of the mode pigw runs in
// (Web.Addresses); and lwm2m.endpoint and rd.endpoint: none means
// system.hostname (LwM2M.EndpointName, RD.EndpointName).
//
// Parse calls Validate; call it for a Config built in Go. The errors then
// name fields but no file, line or column.
func (c *Config) Validate() error {
	errs := c.validate(func(string, bool) pos { return pos{} }, func(string) bool { return false })
	if len(errs) > 0 {
		return joinSorted(errs)
	}
	return nil
}

// validator collects the problems of one Config.
type validator struct {
	// at returns where the field at path is: its key if key is true, else
	// its value.
	at func(path string, key bool) pos
	// failed reports whether the field at path failed to decode, so that
	// rules about several fields can keep quiet about it.
	failed func(path string) bool
	errs   []*Error
}

func (v *validator) fail(path string, key bool, format string, args ...any) {
	p := v.at(path, key)
	v.errs = append(v.errs, &Error{File: p.file, Line: p.line, Column: p.col, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// where returns " (line N)" for the field at path, to be named in an error
// about the field at from; " (FILE line N)" when the two are in different
// files, as they may be in a merged configuration; "" when not known.
func (v *validator) where(path, from string) string {
	p := v.at(path, false)
	switch {
	case p.line == 0:
		return ""
	case p.file != v.at(from, false).file:
		return fmt.Sprintf(" (%s line %d)", p.file, p.line)
	}
	return fmt.Sprintf(" (line %d)", p.line)
}

func (c *Config) validate(at func(path string, key bool) pos, failed func(path string) bool) []*Error {
	v := &validator{at: at, failed: failed}
	v.coap(&c.CoAP, "coap")
	v.sessions(c.Sessions, "sessions")
	v.system(&c.System, "system")
	v.network(&c.Network, "network")
	v.wifi(&c.Wifi, "wifi", c.Network.Interfaces, "network.interfaces")
	v.time(&c.Time, "time")
	v.uniqueNames(append(v.sensors(c.Sensors, "sensors"), v.gpios(c.GPIO, "gpio")...))
	v.sessionSensors(c.Sessions, c.Sensors, "sessions")
	v.update(&c.Update, "update", c.CoAP.DTLS, "coap.dtls")
	v.web(&c.Web, "web")
	v.lwm2m(&c.LwM2M, "lwm2m")
	v.rd(&c.RD, "rd")
	return v.errs
}

// Rules for the CoAP section.
const (
	maxDiscoveryLeisure = 60 * time.Second
	maxMinInterval      = time.Hour
	minConEvery         = 1
	maxConEvery         = 1000
	maxURISegment       = 255 // bytes in a Uri-Path option (RFC 7252 section 5.10)
)

// limitRanges are the ranges of the keys of coap.limits.
var limitRanges = []struct {
	name     string
	value    func(*Limits) int
	min, max int
}{
	{"max_resources", func(l *Limits) int { return l.MaxResources }, 1, 100000},
	{"max_uri_length", func(l *Limits) int { return l.MaxURILength }, 1, 1024},
	{"max_value_size", func(l *Limits) int { return l.MaxValueSize }, 1, 1048576},
	{"max_observers", func(l *Limits) int { return l.MaxObservers }, 0, 100000},
	{"dedup_entries", func(l *Limits) int { return l.DedupEntries }, 64, 1048576},
	{"block_transfers", func(l *Limits) int { return l.BlockTransfers }, 1, 10000},
}

func (v *validator) coap(c *CoAP, path string) {
	plain := v.listen(c.Listen, path+".listen", "0.0.0.0:5683", nil)
	if c.DTLS != nil {
		v.dtls(c.DTLS, path+".dtls", func(ap netip.AddrPort, from string) string {
			if j, ok := plain[ap]; ok {
				p := fmt.Sprintf("%s.listen[%d]", path, j)
				return fmt.Sprintf("also in %s%s; CoAP and DTLS need addresses of their own", p, v.where(p, from))
			}
			return ""
		})
	}

	if d := time.Duration(c.DiscoveryLeisure); d < 0 || d > maxDiscoveryLeisure {
		v.fail(path+".discovery_leisure", false, "%v is out of range (0s..%v)", d, maxDiscoveryLeisure)
	}
	if d := time.Duration(c.Observe.MinInterval); d < 0 || d > maxMinInterval {
		v.fail(path+".observe.min_interval", false, "%v is out of range (0s..%v)", d, maxMinInterval)
	}
	if n := c.Observe.ConEvery; n < minConEvery || n > maxConEvery {
		v.fail(path+".observe.con_every", false, "%d is out of range (%d..%d)", n, minConEvery, maxConEvery)
	}

	l := &c.Limits
	ok := map[string]bool{} // limits that are in range and so can be enforced
	for _, lim := range limitRanges {
		n := lim.value(l)
		if n < lim.min || n > lim.max {
			v.fail(path+".limits."+lim.name, false, "%d is out of range (%d..%d)", n, lim.min, lim.max)
			continue
		}
		ok[lim.name] = true
	}

	if n := len(c.Resources); ok["max_resources"] && n > l.MaxResources {
		v.fail(path+".resources", false, "%d resources, more than limits.max_resources (%d)", n, l.MaxResources)
	}
	first := map[string]int{} // resource index by URI
	for i := range c.Resources {
		r := &c.Resources[i]
		p := fmt.Sprintf("%s.resources[%d]", path, i)
		if v.resource(r, p, l, ok) {
			if j, dup := first[r.URI]; dup {
				prev := fmt.Sprintf("%s.resources[%d]", path, j)
				v.fail(p+".uri", false, "%q is already used by %s%s", r.URI, prev, v.where(prev+".uri", p+".uri"))
				continue
			}
			first[r.URI] = i
		}
	}
}

// listen checks the addresses to listen on, example being one to suggest,
// and returns the index of each valid address. also, if not nil, says what
// else is wrong with a valid address at path, or returns "".
func (v *validator) listen(addrs []string, path, example string, also func(ap netip.AddrPort, path string) string) map[netip.AddrPort]int {
	first := map[netip.AddrPort]int{}
	if len(addrs) == 0 {
		v.fail(path, false, "no address to listen on (give at least one, such as %q)", example)
		return first
	}
	for i, a := range addrs {
		p := fmt.Sprintf("%s[%d]", path, i)
		ap, msg := parseListen(a)
		if msg == "" && also != nil {
			msg = also(ap, p)
		}
		if msg != "" {
			v.fail(p, false, "%q: %s", a, msg)
			continue
		}
		if j, dup := first[ap]; dup {
			v.fail(p, false, "%q is listed twice (first as listen[%d])", a, j)
			continue
		}
		first[ap] = i
	}
	return first
}

// parseListen parses host:port with host an IP literal, or says what is
// wrong with it.
func parseListen(s string) (netip.AddrPort, string) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, "not host:port (write IPv6 addresses in brackets, such as [::1]:5683)"
	}
	if host == "" {
		return netip.AddrPort{}, "host is empty (use 0.0.0.0 or [::] to listen on all addresses)"
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Sprintf("host %q is not an IPv4 or IPv6 address (names are not looked up)", host)
	}
	if addr.Is4() && strings.HasPrefix(s, "[") {
		return netip.AddrPort{}, "IPv4 address in brackets (brackets are for IPv6 only)"
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return netip.AddrPort{}, "port must be 1..65535"
	}
	return netip.AddrPortFrom(addr, uint16(n)), ""
}

// resource checks one resource, brings its URI and methods to normal form,
// and reports whether its URI is valid.
func (v *validator) resource(r *Resource, path string, l *Limits, ok map[string]bool) (uriOK bool) {
	written := r.URI
	r.URI = strings.TrimPrefix(r.URI, "/")
	switch msg := checkURI(r.URI, l.MaxURILength, ok["max_uri_length"]); {
	case written != "" && r.URI == "":
		v.fail(path+".uri", false, "%q names no resource (give a path such as sensors/temp)", written)
	case msg != "":
		v.fail(path+".uri", false, "%s", msg)
	default:
		uriOK = true
	}

	if ok["max_value_size"] && len(r.Value) > l.MaxValueSize {
		v.fail(path+".value", false, "%d bytes, more than limits.max_value_size (%d)", len(r.Value), l.MaxValueSize)
	}

	first := map[string]int{}
	for i, m := range r.Methods {
		p := fmt.Sprintf("%s.methods[%d]", path, i)
		up := strings.ToUpper(m)
		switch up {
		case "GET", "PUT", "POST", "DELETE":
		default:
			v.fail(p, false, "%q is not a method (GET, PUT, POST or DELETE)", m)
			continue
		}
		if j, dup := first[up]; dup {
			v.fail(p, false, "%q is listed twice (first as methods[%d])", m, j)
			continue
		}
		first[up] = i
		r.Methods[i] = up
	}

	for _, a := range r.Attributes {
		p := childPath(path+".attributes", a.Name)
		if msg := checkAttributeName(a.Name); msg != "" {
			v.fail(p, true, "%s", msg)
		}
		if strings.ContainsAny(a.Value, "\"\r\n") {
			v.fail(p, false, "%q: an attribute value may not contain a double quote or a line break", a.Value)
		}
	}
	return uriOK
}

// checkURI says what is wrong with a resource URI with the leading "/"
// removed, or returns "".
func checkURI(uri string, maxLen int, checkLen bool) string {
	switch {
	case uri == "":
		return `missing (give the path the resource is served at, such as sensors/temp)`
	case strings.ContainsAny(uri, "?#"):
		return fmt.Sprintf(`%q contains "?" or "#" (a uri here is a path: no query, no fragment)`, uri)
	case strings.ContainsFunc(uri, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Sprintf("%q contains a control character", uri)
	case checkLen && len(uri) > maxLen:
		return fmt.Sprintf("%d bytes long, more than limits.max_uri_length (%d)", len(uri), maxLen)
	}
	segs := strings.Split(uri, "/")
	if segs[0] == ".well-known" {
		return fmt.Sprintf("%q is under .well-known/, which is reserved", uri)
	}
	for i, s := range segs {
		switch {
		case s == "":
			return fmt.Sprintf(`%q has an empty segment (no "//", no "/" at the end)`, uri)
		case s == "." || s == "..":
			return fmt.Sprintf(`%q has a %q segment (not allowed)`, uri, s)
		case len(s) > maxURISegment:
			return fmt.Sprintf("%q: segment %d is %d bytes long, more than a CoAP Uri-Path option holds (%d)", uri, i+1, len(s), maxURISegment)
		}
	}
	return ""
}

// checkAttributeName says what is wrong with a link attribute name, or
// returns "".
func checkAttributeName(name string) string {
	if name == "" {
		return "an attribute name may not be empty"
	}
	if strings.EqualFold(name, "href") {
		return fmt.Sprintf("%q is not allowed as an attribute name (the link's target is the uri)", name)
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Sprintf("attribute name %q may only hold letters, digits, '-', '_' and '.'", name)
		}
	}
	return ""
}

// Rules for DTLS keys, for the server and for sessions.
const (
	maxKeyLen      = 64  // bytes in a pre-shared key
	maxIdentityLen = 128 // bytes in a PSK identity
	maxHintLen     = 128 // bytes in a PSK identity hint
)

// dtls checks the DTLS endpoint. also says what else is wrong with a valid
// listen address at path, or returns "".
func (v *validator) dtls(c *DTLS, path string, also func(ap netip.AddrPort, path string) string) {
	v.listen(c.Listen, path+".listen", "0.0.0.0:5684", func(ap netip.AddrPort, p string) string {
		if ap.Port() == coapPort {
			return "port 5683 is plain CoAP; DTLS uses 5684 (coaps)"
		}
		return also(ap, p)
	})

	keysFailed := v.failed(path + ".keys")
	if c.PSK == nil && len(c.Keys) == 0 && !keysFailed && !v.failed(path+".psk") {
		v.fail(path, false, "no key to let clients in with (give psk, keys or both)")
	}
	if c.PSK != nil {
		v.secret(c.PSK, path+".psk")
	}
	if n := len(c.Hint); n > maxHintLen {
		v.fail(path+".hint", false, "%d bytes long, more than %d", n, maxHintLen)
	}

	keys := map[string]bool{}
	for _, k := range c.Keys {
		p := childPath(path+".keys", k.Identity)
		if msg := checkIdentity(k.Identity); msg != "" {
			v.fail(p, true, "identity %s", msg)
		} else if keys[k.Identity] {
			v.fail(p, true, "identity %q is given twice", k.Identity)
		}
		keys[k.Identity] = true
		if k.Key == nil {
			v.fail(p, true, "no key for identity %q (a key is 1..%d bytes)", k.Identity, maxKeyLen)
			continue
		}
		v.secret(k.Key, p)
	}

	first := map[string]int{}
	for i, a := range c.Admins {
		p := fmt.Sprintf("%s.admins[%d]", path, i)
		if !keysFailed && (!keys[a] || checkIdentity(a) != "") {
			v.fail(p, false, "%q is not an identity in %s.keys (an admin needs a key of its own)", a, path)
			continue
		}
		if j, dup := first[a]; dup {
			v.fail(p, false, "%q is listed twice (first as admins[%d])", a, j)
			continue
		}
		first[a] = i
	}
}

// secret checks the length of a pre-shared key, without showing it.
func (v *validator) secret(s Secret, path string) {
	switch n := len(s); {
	case n == 0:
		v.fail(path, false, "empty (a key is 1..%d bytes)", maxKeyLen)
	case n > maxKeyLen:
		v.fail(path, false, "%d bytes long, more than %d (a key is 1..%d bytes)", n, maxKeyLen, maxKeyLen)
	}
}

// checkIdentity says what is wrong with a PSK identity, or returns "".
func checkIdentity(id string) string {
	switch n := len(id); {
	case n == 0:
		return fmt.Sprintf("is empty (an identity is 1..%d bytes)", maxIdentityLen)
	case n > maxIdentityLen:
		return fmt.Sprintf("of %d bytes, more than %d", n, maxIdentityLen)
	}
	return ""
}
