package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Rules for sessions.
const (
	maxNameLen     = 32  // bytes in a session or request name
	maxTokenLen    = 8   // bytes in a CoAP token (RFC 7252 section 3)
	maxURIOption   = 255 // bytes in a Uri-Path or Uri-Query option
	minEvery       = 100 * time.Millisecond
	maxEvery       = 24 * time.Hour
	minTimeout     = 100 * time.Millisecond
	maxTimeout     = 10 * time.Minute
	maxDNSName     = 253 // bytes in a DNS name, without the final dot
	maxDNSLabel    = 63  // bytes in a label of a DNS name
	defaultRequest = "r" // default request names are this and the index
)

// requestMethods are the methods a session request may have, as stored.
var requestMethods = []string{"GET", "PUT", "POST", "DELETE", "FETCH", "PATCH", "iPATCH"}

func (v *validator) sessions(ss []Session, path string) {
	first := map[string]int{} // session index by name
	for i := range ss {
		s := &ss[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		if !v.session(s, p) {
			continue
		}
		if j, dup := first[s.Name]; dup {
			prev := fmt.Sprintf("%s[%d]", path, j)
			v.fail(p+".name", false, "%q is already used by %s%s", s.Name, prev, v.where(prev+".name", p+".name"))
			continue
		}
		first[s.Name] = i
	}
}

// session checks one session, fills in the defaults of its requests and
// reports whether its name is valid.
func (v *validator) session(s *Session, path string) (nameOK bool) {
	if s.Name == "" {
		v.fail(path+".name", false, "missing (give a name such as server1; the session is served as /sys/sessions/<name>)")
	} else if msg := checkName(s.Name); msg != "" {
		v.fail(path+".name", false, "%s", msg)
	} else {
		nameOK = true
	}

	if s.Peer == "" {
		v.fail(path+".peer", false, "missing (give a URI such as coap://192.168.0.101 or coaps://[2001:db8::1]:5684)")
	} else {
		v.server(s.Peer, s.Identity, s.PSK, path, "peer")
	}

	if len(s.Requests) == 0 {
		v.fail(path+".requests", false, "no requests (give at least one, such as {path: .well-known/core})")
	}
	type named struct {
		index    int
		defaults bool // the name is the default one
	}
	first := map[string]named{}
	for i := range s.Requests {
		r := &s.Requests[i]
		p := fmt.Sprintf("%s.requests[%d]", path, i)
		given := r.Name != ""
		if !v.request(r, p, i) {
			continue
		}
		prev, dup := first[r.Name]
		if !dup {
			first[r.Name] = named{i, !given}
			continue
		}
		pp := fmt.Sprintf("%s.requests[%d]", path, prev.index)
		switch {
		case !given:
			v.fail(p+".name", false, "the default name %q is already used by %s%s; give this request a name", r.Name, pp, v.where(pp+".name", p+".name"))
		case prev.defaults:
			v.fail(p+".name", false, "%q is already the default name of %s%s", r.Name, pp, v.where(pp, p+".name"))
		default:
			v.fail(p+".name", false, "%q is already used by %s%s", r.Name, pp, v.where(pp+".name", p+".name"))
		}
	}
	return nameOK
}

// request checks the request at index i of its session, fills in its
// defaults and reports whether its name is valid.
func (v *validator) request(r *SessionRequest, path string, i int) (nameOK bool) {
	if r.Name == "" {
		r.Name = defaultRequest + strconv.Itoa(i)
	}
	if msg := checkName(r.Name); msg != "" {
		v.fail(path+".name", false, "%s", msg)
	} else {
		nameOK = true
	}

	if r.Method == "" {
		r.Method = "GET"
	}
	if m := methodName(r.Method); m != "" {
		r.Method = m
	} else {
		v.fail(path+".method", false, "%q is not a method (GET, PUT, POST, DELETE, FETCH, PATCH or iPATCH)", r.Method)
	}

	if msg := checkRequestPath(r.Path); msg != "" {
		v.fail(path+".path", false, "%s", msg)
	}

	if r.Token != "" {
		b, msg := decodeHexOrText(r.Token)
		switch {
		case msg != "":
			v.fail(path+".token", false, "%q: %s", r.Token, msg)
		case len(b) == 0:
			v.fail(path+".token", false, "%q: no hex digits after 0x (leave token out for a random one)", r.Token)
		case len(b) > maxTokenLen:
			v.fail(path+".token", false, "%q: %d bytes, CoAP allows at most %d", r.Token, len(b), maxTokenLen)
		}
	}

	if r.Sensors != nil {
		v.snapshot(r, path)
	}

	if r.IncludeOptions == nil {
		r.IncludeOptions = ptrTo(true)
	}
	if r.Confirmable == nil {
		r.Confirmable = ptrTo(true)
	}

	if d := time.Duration(r.Every); d != 0 && (d < minEvery || d > maxEvery) {
		v.fail(path+".every", false, "%v is out of range (0s to send once, or %v..%v)", d, minEvery, maxEvery)
	}
	if d := time.Duration(r.Timeout); d != 0 && (d < minTimeout || d > maxTimeout) {
		v.fail(path+".timeout", false, "%v is out of range (0s for the protocol's own, or %v..%v)", d, minTimeout, maxTimeout)
	}
	return nameOK
}

func ptrTo[T any](v T) *T { return &v }

// methodName returns the stored spelling of the request method m, written in
// any case, or "" if m is not one.
func methodName(m string) string {
	for _, name := range requestMethods {
		if strings.EqualFold(m, name) {
			return name
		}
	}
	return ""
}

// checkName says what is wrong with a session or request name, or returns
// "".
func checkName(name string) string {
	if strings.ContainsFunc(name, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == '-')
	}) {
		return fmt.Sprintf("%q may only hold a-z, 0-9, '_' and '-'", name)
	}
	if len(name) > maxNameLen {
		return fmt.Sprintf("%q is %d bytes long, more than %d", name, len(name), maxNameLen)
	}
	return ""
}

// checkRequestPath says what is wrong with the path and query of a session
// request, or returns "".
func checkRequestPath(p string) string {
	switch {
	case strings.Contains(p, "#"):
		return fmt.Sprintf(`%q contains "#" (a request path has no fragment)`, p)
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Sprintf("%q contains a control character", p)
	}
	path, query, _ := strings.Cut(p, "?")
	for i, s := range strings.Split(path, "/") {
		if len(s) > maxURIOption {
			return fmt.Sprintf("%q: segment %d is %d bytes long, more than a CoAP Uri-Path option holds (%d)", p, i+1, len(s), maxURIOption)
		}
	}
	for i, q := range strings.Split(query, "&") {
		if len(q) > maxURIOption {
			return fmt.Sprintf("%q: query part %d is %d bytes long, more than a CoAP Uri-Query option holds (%d)", p, i+1, len(q), maxURIOption)
		}
	}
	return ""
}

// server checks uri, the URI of a server at path+"."+key (a session's peer, the lwm2m or rd
// server), which is not empty, and the identity and psk beside it: required with coaps://,
// not allowed with coap://. Its messages call the URI what key names.
func (v *validator) server(uri, identity string, psk Secret, path, key string) {
	p, msg := parsePeer(uri, key)
	switch {
	case msg != "":
		v.fail(path+"."+key, false, "%q: %s", uri, msg)
	case p.scheme == "coap":
		if identity != "" {
			v.fail(path+".identity", false, "%q: only for a coaps:// %s (this one is coap://)", identity, key)
		}
		if psk != nil {
			v.fail(path+".psk", false, "only for a coaps:// %s (this one is coap://)", key)
		}
	case p.scheme == "coaps":
		need := fmt.Sprintf("missing (a coaps:// %s needs an identity and a psk)", key)
		if identity == "" {
			v.fail(path+".identity", false, "%s", need)
		}
		if psk == nil {
			v.fail(path+".psk", false, "%s", need)
		}
		v.keys(identity, psk, path)
	}
}

// keys checks the lengths of an identity and a psk that are given, without showing the psk.
func (v *validator) keys(identity string, psk Secret, path string) {
	if n := len(identity); n > maxIdentityLen {
		v.fail(path+".identity", false, "%d bytes long, more than %d", n, maxIdentityLen)
	}
	if psk != nil {
		v.secret(psk, path+".psk")
	}
}

// peer is a parsed Session.Peer, or the server of the lwm2m or rd section.
type peer struct {
	scheme string // "coap" or "coaps"
	host   string // without brackets
	port   uint16
}

// parsePeer parses coap://host[:port] or coaps://host[:port], or says what
// is wrong with it; what names it in the message ("peer", "server").
func parsePeer(s, what string) (peer, string) {
	const form = "write coap://host[:port] or coaps://host[:port]"
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return peer{}, "not a URI (" + form + ")"
	}
	var p peer
	switch strings.ToLower(scheme) {
	case "coap":
		p = peer{scheme: "coap", port: coapPort}
	case "coaps":
		p = peer{scheme: "coaps", port: coapsPort}
	default:
		return peer{}, fmt.Sprintf("scheme %q is not coap or coaps", scheme)
	}
	if strings.ContainsAny(rest, "/?#") {
		return peer{}, "a " + what + " has no path, query or fragment (" + form + ")"
	}
	if strings.Contains(rest, "@") {
		return peer{}, `user info (before "@") is not allowed`
	}

	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return peer{}, `"[" without "]" (write IPv6 addresses as [2001:db8::1])`
		}
		host, port = rest[1:end], rest[end+1:]
		if port != "" {
			var ok bool
			if port, ok = strings.CutPrefix(port, ":"); !ok {
				return peer{}, fmt.Sprintf(`%q after "]" is not a :port`, port)
			}
			if port == "" {
				return peer{}, "port must be 1..65535"
			}
		}
		addr, err := netip.ParseAddr(host)
		switch {
		case err != nil:
			return peer{}, fmt.Sprintf("host %q is not an IPv6 address", host)
		case addr.Is4():
			return peer{}, "IPv4 address in brackets (brackets are for IPv6 only)"
		}
	} else {
		switch strings.Count(rest, ":") {
		case 0:
		case 1:
			host, port, _ = strings.Cut(rest, ":")
			if port == "" {
				return peer{}, "port must be 1..65535"
			}
		default:
			return peer{}, "IPv6 address without brackets (write coap://[2001:db8::1] or coap://[2001:db8::1]:5683)"
		}
		if host == "" {
			return peer{}, "no host (" + form + ")"
		}
		if addr, err := netip.ParseAddr(host); (err != nil || !addr.Is4()) && !isDNSName(host) {
			return peer{}, fmt.Sprintf("host %q is not an IPv4 address or a DNS name", host)
		}
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return peer{}, "port must be 1..65535"
		}
		p.port = uint16(n)
	}
	p.host = host
	return p, ""
}

// isDNSName reports whether s is a host name: dot-separated labels of
// letters, digits and '-', not starting or ending with '-', the last not all
// digits; a final dot is allowed.
func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > maxDNSName {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > maxDNSLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.ContainsFunc(last, func(r rune) bool { return r < '0' || r > '9' })
}
