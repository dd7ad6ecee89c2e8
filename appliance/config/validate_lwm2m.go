package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// endpointRule is the rule of an endpoint name, as errors give it.
const endpointRule = "an endpoint name is 1..63 of A-Z, a-z, 0-9, '.', '_', ':' and '-'"

// lwm2m checks the lwm2m section and fills in its defaults, but for endpoint, whose default
// is system.hostname (LwM2M.EndpointName).
func (v *validator) lwm2m(l *LwM2M, path string) {
	v.registration(l.Server, l.Identity, l.PSK, l.Endpoint, path)
	v.seconds(&l.Lifetime, path+".lifetime", defaultLwM2MLifetime, minLwM2MLifetime, maxLifetime)

	switch {
	case l.Binding == "":
		l.Binding = LwM2MBindingUDP
	case strings.EqualFold(l.Binding, LwM2MBindingUDP):
		l.Binding = LwM2MBindingUDP
	default:
		v.fail(path+".binding", false, "%q is not a binding pigw has (only U, UDP, in any case)", l.Binding)
	}

	if l.Objects == nil {
		l.Objects = lwm2mObjects()
	} else {
		v.objects(l.Objects, path+".objects")
	}

	switch n := l.ShortServerID; {
	case n == 0: // left out of a Config built in Go, or written 0
		l.ShortServerID = defaultShortServerID
	case n < minShortServerID || n > maxShortServerID:
		v.fail(path+".short_server_id", false, "%d is out of range (%d..%d, or 0 for the default, %d)",
			n, minShortServerID, maxShortServerID, defaultShortServerID)
	}
}

// rd checks the rd section and fills in its defaults, but for endpoint, whose default is
// system.hostname (RD.EndpointName).
func (v *validator) rd(r *RD, path string) {
	v.registration(r.Server, r.Identity, r.PSK, r.Endpoint, path)
	v.seconds(&r.Lifetime, path+".lifetime", defaultRDLifetime, minRDLifetime, maxLifetime)
}

// registration checks the keys the lwm2m and rd sections share: the server, with its
// identity and psk as a session's peer has them, and the endpoint name. An empty server
// turns the section off; identity and psk may stay then.
func (v *validator) registration(server, identity string, psk Secret, endpoint, path string) {
	if server == "" {
		v.keys(identity, psk, path)
	} else {
		v.server(server, identity, psk, path, "server")
	}
	if endpoint != "" {
		if msg := checkEndpoint(endpoint); msg != "" {
			v.fail(path+".endpoint", false, "%s", msg)
		}
	}
}

// objects checks the lwm2m objects written in the file and stores them in lower case.
func (v *validator) objects(objs []string, path string) {
	first := map[string]int{}
	allValid := true
	for i, o := range objs {
		p := fmt.Sprintf("%s[%d]", path, i)
		lo := v.oneOf(p, o, "one of pigw's objects", lwm2mObjects()...)
		if !slices.Contains(lwm2mObjects(), lo) || v.failed(p) {
			allValid = false
			continue
		}
		objs[i] = lo
		if j, dup := first[lo]; dup {
			v.fail(p, false, "%q is listed twice (first as objects[%d])", o, j)
			continue
		}
		first[lo] = i
	}
	// LwM2M asks objects 0 Security, 1 Server and 3 Device of every client. pigw offers no
	// 0 (its keys are in this file), but a server reads 1 and 3.
	var missing []string
	for _, o := range []string{LwM2MObjectDevice, LwM2MObjectServer} {
		if _, ok := first[o]; !ok {
			missing = append(missing, o)
		}
	}
	if len(missing) > 0 && allValid {
		v.fail(path, false, "no %s (LwM2M asks objects 3 Device and 1 Server of every client: list both, such as [device, server, sensors])",
			strings.Join(missing, " and no "))
	}
}

// checkEndpoint says what is wrong with an endpoint name that is not empty, or returns "".
func checkEndpoint(e string) string {
	if i := strings.IndexFunc(e, func(r rune) bool {
		return !(isAlnum(r) || r == '.' || r == '_' || r == ':' || r == '-')
	}); i >= 0 {
		return fmt.Sprintf("%q holds %q (%s)", e, []rune(e[i:])[0], endpointRule)
	}
	if len(e) > maxEndpoint {
		return fmt.Sprintf("%q is %d bytes long (%s)", e, len(e), endpointRule)
	}
	return ""
}

// seconds fills in def for a duration of 0, or else checks that it is whole seconds and
// min..max, as a registration's lt= is sent. Its errors give durations in seconds, as lt=
// has them.
func (v *validator) seconds(d *Duration, path string, def, min, max time.Duration) {
	switch x := time.Duration(*d); {
	case x == 0: // left out of a Config built in Go, or written 0
		*d = Duration(def)
	case x%time.Second != 0:
		v.fail(path, false, "%s: must be whole seconds (it is sent in seconds)", shortDuration(x))
	case x < min || x > max:
		v.fail(path, false, "%ds: must be %ds..%ds", x/time.Second, min/time.Second, max/time.Second)
	}
}
