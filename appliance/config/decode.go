package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// decoder fills a Config from the YAML syntax tree, collecting every problem
// rather than stopping at the first.
//
// goccy/go-yaml's own decoder is not used: it stops at the first error, picks
// one at random of several unknown fields, and lets a float such as 1.5 into
// an int field go by without a word.
type decoder struct {
	loc  func(ast.Node) pos // where a node is
	errs []*Error
	bad  []string // paths that failed to decode
}

// field is a key of a YAML mapping and what to do with its value.
type field struct {
	key string
	set func(n ast.Node, path string)
}

func (d *decoder) fail(n ast.Node, path, msg string) {
	p := d.loc(n)
	d.errs = append(d.errs, &Error{File: p.file, Line: p.line, Column: p.col, Field: path, Msg: msg})
	d.bad = append(d.bad, path)
}

// report records err, as returned by unmarshalling the node at path.
func (d *decoder) report(n ast.Node, path string, err error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, err := range j.Unwrap() {
			d.report(n, path, err)
		}
		return
	}
	var ne *nodeError
	if errors.As(err, &ne) {
		d.fail(ne.node, path+ne.sub, ne.msg)
		return
	}
	d.fail(n, path, err.Error())
}

// failed reports whether the field at path, or one holding it, failed to
// decode, so that the rules need not complain about it too.
func (d *decoder) failed(path string) bool {
	for _, b := range d.bad {
		if path == b || b == "" || strings.HasPrefix(path, b) && strings.ContainsRune(".[", rune(path[len(b)])) {
			return true
		}
	}
	return false
}

// mapping decodes the mapping n by fields. A key written with no value counts
// as left out.
func (d *decoder) mapping(n ast.Node, path string, fields ...field) {
	n, err := unwrap(n)
	if err != nil {
		d.report(n, path, err)
		return
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		if !isNull(n) {
			d.fail(n, path, "expected a mapping, found "+describe(n))
		}
		return
	}
	for _, mv := range m.Values {
		key, err := keyText(mv.Key)
		if err != nil {
			d.report(mv.Key, path, err)
			continue
		}
		p := childPath(path, key)
		i := slices.IndexFunc(fields, func(f field) bool { return f.key == key })
		if i < 0 {
			known := make([]string, len(fields))
			for i, f := range fields {
				known[i] = f.key
			}
			d.fail(mv.Key, p, "unknown field (known: "+strings.Join(known, ", ")+")")
			continue
		}
		v, err := unwrap(mv.Value)
		if err != nil {
			d.report(mv.Value, p, err)
			continue
		}
		if !isNull(v) {
			fields[i].set(v, p)
		}
	}
}

// sequence calls each for every element of the sequence n.
func (d *decoder) sequence(n ast.Node, path string, each func(n ast.Node, path string)) {
	s, ok := n.(*ast.SequenceNode)
	if !ok {
		d.fail(n, path, "expected a list, found "+describe(n))
		return
	}
	for i, v := range s.Values {
		p := fmt.Sprintf("%s[%d]", path, i)
		v, err := unwrap(v)
		if err != nil {
			d.report(v, p, err)
			continue
		}
		each(v, p)
	}
}

func (d *decoder) coap(n ast.Node, path string, c *CoAP) {
	d.mapping(n, path,
		field{"listen", d.list(&c.Listen)},
		field{"dtls", func(n ast.Node, path string) {
			c.DTLS = defaultDTLS()
			dt := c.DTLS
			d.mapping(n, path,
				field{"listen", d.list(&dt.Listen)},
				field{"psk", d.secret(&dt.PSK)},
				field{"hint", d.str(&dt.Hint)},
				field{"keys", d.identityKeys(&dt.Keys)},
				field{"admins", d.list(&dt.Admins)},
			)
		}},
		field{"service_discovery", d.boolean(&c.ServiceDiscovery)},
		field{"discovery_leisure", d.unmarshal(&c.DiscoveryLeisure)},
		field{"dynamic_resources", d.boolean(&c.DynamicResources)},
		field{"new_resource_details", func(n ast.Node, path string) {
			c.NewResourceDetails = &Details{}
			dt := c.NewResourceDetails
			d.mapping(n, path,
				field{"media_type", d.mediaType(&dt.MediaType)},
				field{"max_age", d.maxAge(&dt.MaxAge)},
				field{"etag", d.boolean(&dt.ETag)},
			)
		}},
		field{"observe", func(n ast.Node, path string) {
			d.mapping(n, path,
				field{"min_interval", d.unmarshal(&c.Observe.MinInterval)},
				field{"con_every", d.integer(&c.Observe.ConEvery)},
			)
		}},
		field{"limits", func(n ast.Node, path string) {
			l := &c.Limits
			d.mapping(n, path,
				field{"max_resources", d.integer(&l.MaxResources)},
				field{"max_uri_length", d.integer(&l.MaxURILength)},
				field{"max_value_size", d.integer(&l.MaxValueSize)},
				field{"max_observers", d.integer(&l.MaxObservers)},
				field{"dedup_entries", d.integer(&l.DedupEntries)},
				field{"block_transfers", d.integer(&l.BlockTransfers)},
			)
		}},
		field{"resources", sequenceOf(d, &c.Resources, d.resource)},
	)
}

func (d *decoder) resource(n ast.Node, path string, r *Resource) {
	if isNull(n) {
		d.fail(n, path, "expected a mapping with at least uri:, found nothing")
		return
	}
	d.mapping(n, path,
		field{"uri", d.str(&r.URI)},
		field{"media_type", d.mediaType(&r.MediaType)},
		field{"max_age", d.maxAge(&r.MaxAge)},
		field{"value", d.str(&r.Value)},
		field{"etag", d.boolean(&r.ETag)},
		field{"attributes", d.unmarshal(&r.Attributes)},
		field{"methods", d.list(&r.Methods)},
	)
}

// identityKeys decodes a mapping of DTLS identities to keys, keeping their
// order.
func (d *decoder) identityKeys(dst *[]IdentityKey) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		m, ok := n.(*ast.MappingNode)
		if !ok {
			what := describe(n)
			if _, scalar := scalarText(n); scalar {
				what = "a single value" // which may be a key: not shown
			}
			d.fail(n, path, `expected a mapping of identities to keys, such as {alice: alicekey, bob: "0x0102ab"}, found `+what)
			return
		}
		*dst = []IdentityKey{}
		for _, mv := range m.Values {
			id, err := keyText(mv.Key)
			if err != nil {
				d.report(mv.Key, path, err)
				continue
			}
			p := childPath(path, id)
			k := IdentityKey{Identity: id}
			if v, err := unwrap(mv.Value); err != nil {
				k.Key = Secret{} // present, though bad: no rule calls it missing
				d.report(mv.Value, p, err)
			} else if !isNull(v) {
				d.secret(&k.Key)(v, p)
			}
			*dst = append(*dst, k)
		}
	}
}

func (d *decoder) sessions(dst *[]Session) func(ast.Node, string) {
	return sequenceOf(d, dst, d.session)
}

func (d *decoder) session(n ast.Node, path string, s *Session) {
	if isNull(n) {
		d.fail(n, path, "expected a mapping with at least name:, peer: and requests:, found nothing")
		return
	}
	d.mapping(n, path,
		field{"name", d.str(&s.Name)},
		field{"peer", d.str(&s.Peer)},
		field{"identity", d.str(&s.Identity)},
		field{"psk", d.secret(&s.PSK)},
		field{"requests", sequenceOf(d, &s.Requests, d.request)},
	)
}

func (d *decoder) request(n ast.Node, path string, r *SessionRequest) {
	if isNull(n) {
		d.fail(n, path, "expected a mapping such as {path: .well-known/core}, found nothing")
		return
	}
	d.mapping(n, path,
		field{"name", d.str(&r.Name)},
		field{"method", d.str(&r.Method)},
		field{"path", d.str(&r.Path)},
		field{"content_format", d.mediaType(&r.ContentFormat)},
		field{"accept", d.mediaType(&r.Accept)},
		field{"payload", d.str(&r.Payload)},
		field{"sensors", d.list(&r.Sensors)},
		field{"token", d.str(&r.Token)},
		field{"include_options", d.optBoolean(&r.IncludeOptions)},
		field{"confirmable", d.optBoolean(&r.Confirmable)},
		field{"every", d.unmarshal(&r.Every)},
		field{"timeout", d.unmarshal(&r.Timeout)},
	)
}

func (d *decoder) system(n ast.Node, path string, s *System) {
	d.mapping(n, path,
		field{"hostname", d.str(&s.Hostname)},
		field{"modules", d.list(&s.Modules)},
		field{"watchdog", d.optBoolean(&s.Watchdog)},
		field{"mdns", d.optBoolean(&s.MDNS)},
	)
}

func (d *decoder) network(n ast.Node, path string, nw *Network) {
	d.mapping(n, path,
		field{"interfaces", sequenceOf(d, &nw.Interfaces, d.iface)},
		field{"dns", d.list(&nw.DNS)},
	)
}

func (d *decoder) iface(n ast.Node, path string, i *Interface) {
	if isNull(n) {
		d.fail(n, path, "expected a mapping with at least name:, found nothing")
		return
	}
	d.mapping(n, path,
		field{"name", d.str(&i.Name)},
		field{"up", d.optBoolean(&i.Up)},
		field{"addresses", d.list(&i.Addresses)},
		field{"dhcp", d.optBoolean(&i.DHCP)},
		field{"gateway", d.str(&i.Gateway)},
		field{"gateway6", d.str(&i.Gateway6)},
		field{"routes", sequenceOf(d, &i.Routes, d.route)},
		field{"mtu", d.integer(&i.MTU)},
		field{"metric", d.integer(&i.Metric)},
	)
}

func (d *decoder) wifi(n ast.Node, path string, w *Wifi) {
	d.mapping(n, path,
		field{"interface", d.str(&w.Interface)},
		field{"country", d.str(&w.Country)},
		field{"backend", d.str(&w.Backend)},
		field{"networks", sequenceOf(d, &w.Networks, d.wifiNetwork)},
	)
}

func (d *decoder) wifiNetwork(n ast.Node, path string, w *WifiNetwork) {
	if isNull(n) {
		d.fail(n, path, "expected a mapping with at least ssid:, found nothing")
		return
	}
	d.mapping(n, path,
		field{"ssid", d.str(&w.SSID)},
		field{"psk", d.passphrase(&w.PSK)},
		field{"security", d.str(&w.Security)},
		field{"hidden", d.boolean(&w.Hidden)},
		field{"priority", d.integer(&w.Priority)},
	)
}

func (d *decoder) route(n ast.Node, path string, r *Route) {
	if isNull(n) {
		d.fail(n, path, "expected a mapping with at least to:, found nothing")
		return
	}
	d.mapping(n, path,
		field{"to", d.str(&r.To)},
		field{"via", d.str(&r.Via)},
		field{"metric", d.integer(&r.Metric)},
	)
}

func (d *decoder) sensor(n ast.Node, path string, s *Sensor) {
	if isNull(n) {
		d.fail(n, path, "expected a mapping with at least name: and kind:, found nothing")
		return
	}
	d.mapping(n, path,
		field{"name", d.str(&s.Name)},
		field{"kind", d.str(&s.Kind)},
		field{"bus", d.optInteger(&s.Bus)},
		field{"address", d.i2cAddress(&s.Address)},
		field{"path", d.str(&s.Path)},
		field{"id", d.str(&s.ID)},
		field{"interval", d.unmarshal(&s.Interval)},
		field{"threshold", d.number(&s.Threshold)},
		field{"options", d.options(&s.Options)},
	)
}

func (d *decoder) gpio(n ast.Node, path string, g *GPIO) {
	if isNull(n) {
		d.fail(n, path, "expected a mapping with at least name:, pin: and direction:, found nothing")
		return
	}
	d.mapping(n, path,
		field{"name", d.str(&g.Name)},
		field{"pin", d.str(&g.Pin)},
		field{"direction", d.str(&g.Direction)},
		field{"pull", d.str(&g.Pull)},
		field{"edge", d.str(&g.Edge)},
		field{"debounce", d.unmarshal(&g.Debounce)},
		field{"initial", d.optInteger(&g.Initial)},
		field{"restart", d.str(&g.Restart)},
		field{"invert", d.boolean(&g.Invert)},
	)
}

func (d *decoder) update(n ast.Node, path string, u *Update) {
	d.mapping(n, path,
		field{"confirm", d.str(&u.Confirm)},
		field{"trial", d.str(&u.Trial)},
		field{"trial_deadline", d.unmarshal(&u.TrialDeadline)},
		field{"healthy_after", d.unmarshal(&u.HealthyAfter)},
	)
}

func (d *decoder) web(n ast.Node, path string, w *Web) {
	d.mapping(n, path, field{"listen", d.list(&w.Listen)})
}

func (d *decoder) lwm2m(n ast.Node, path string, l *LwM2M) {
	d.mapping(n, path,
		field{"server", d.str(&l.Server)},
		field{"identity", d.str(&l.Identity)},
		field{"psk", d.secret(&l.PSK)},
		field{"endpoint", d.str(&l.Endpoint)},
		field{"lifetime", d.unmarshal(&l.Lifetime)},
		field{"binding", d.str(&l.Binding)},
		field{"objects", d.list(&l.Objects)},
		field{"short_server_id", d.integer(&l.ShortServerID)},
	)
}

func (d *decoder) rd(n ast.Node, path string, r *RD) {
	d.mapping(n, path,
		field{"server", d.str(&r.Server)},
		field{"identity", d.str(&r.Identity)},
		field{"psk", d.secret(&r.PSK)},
		field{"endpoint", d.str(&r.Endpoint)},
		field{"lifetime", d.unmarshal(&r.Lifetime)},
	)
}

func (d *decoder) boolean(dst *bool) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.fail(n, path, mismatch(n, "a boolean (use true or false)"))
			return
		}
		*dst = b.Value
	}
}

func (d *decoder) optBoolean(dst **bool) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.fail(n, path, mismatch(n, "a boolean (use true or false)"))
			return
		}
		v := b.Value
		*dst = &v
	}
}

func (d *decoder) integer(dst *int) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		i, err := integer(n, math.MinInt, math.MaxInt)
		if err != nil {
			d.report(n, path, err)
			return
		}
		*dst = int(i)
	}
}

func (d *decoder) optInteger(dst **int) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		i, err := integer(n, math.MinInt, math.MaxInt)
		if err != nil {
			d.report(n, path, err)
			return
		}
		v := int(i)
		*dst = &v
	}
}

// i2cAddress decodes an I2C address: an integer, in hex (0x76) or decimal,
// or a string of the same ("0x76"). Its range is a rule of Validate.
func (d *decoder) i2cAddress(dst **int) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		var a int64
		switch v := n.(type) {
		case *ast.IntegerNode:
			i, err := integer(v, math.MinInt, math.MaxInt)
			if err != nil {
				d.report(n, path, err)
				return
			}
			a = i
		case *ast.StringNode:
			s, base := v.Value, 10
			if digits, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
				s, base = digits, 16
			}
			i, err := strconv.ParseInt(s, base, 32)
			if err != nil || !isDigits(s, base) {
				d.fail(n, path, fmt.Sprintf("%q is not an I2C address (write it in hex, such as 0x76, or in decimal)", v.Value))
				return
			}
			a = i
		default:
			d.fail(n, path, mismatch(n, "an I2C address (write it in hex, such as 0x76, or in decimal)"))
			return
		}
		v := int(a)
		*dst = &v
	}
}

// isDigits reports whether s is all digits of base 10 or 16, with no sign.
func isDigits(s string, base int) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !('0' <= r && r <= '9' || base == 16 && ('a' <= r && r <= 'f' || 'A' <= r && r <= 'F'))
	})
}

// number decodes a number, integer or not. A plain (unquoted) scalar that
// YAML takes for a string but Go for a number, such as 1e-3, is a number
// too. That it is finite is a rule of Validate.
func (d *decoder) number(dst **float64) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		var f float64
		switch v := n.(type) {
		case *ast.IntegerNode:
			switch x := v.Value.(type) {
			case int64:
				f = float64(x)
			case uint64:
				f = float64(x)
			}
		case *ast.FloatNode:
			f = v.Value
		case *ast.InfinityNode:
			f = v.Value
		case *ast.NanNode:
			f = math.NaN()
		case *ast.StringNode:
			x, err := strconv.ParseFloat(v.Value, 64)
			if err != nil || v.GetToken().Type != token.StringType {
				d.fail(n, path, mismatch(n, "a number"))
				return
			}
			f = x
		default:
			d.fail(n, path, mismatch(n, "a number"))
			return
		}
		*dst = &f
	}
}

// options decodes a mapping of names to scalar values, each taken as its
// text.
func (d *decoder) options(dst *map[string]string) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		m, ok := n.(*ast.MappingNode)
		if !ok {
			d.fail(n, path, "expected a mapping of names to values, such as {resolution: 11}, found "+describe(n))
			return
		}
		*dst = map[string]string{}
		for _, mv := range m.Values {
			name, err := keyText(mv.Key)
			if err != nil {
				d.report(mv.Key, path, err)
				continue
			}
			p := childPath(path, name)
			v, err := unwrap(mv.Value)
			if err != nil {
				d.report(mv.Value, p, err)
				continue
			}
			text, ok := scalarText(v)
			if !ok {
				d.fail(v, p, mismatch(v, "a text, number or boolean"))
				continue
			}
			(*dst)[name] = text
		}
	}
}

func (d *decoder) maxAge(dst **uint32) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		i, err := integer(n, 0, math.MaxUint32)
		if err != nil {
			d.report(n, path, err)
			return
		}
		v := uint32(i)
		*dst = &v
	}
}

func (d *decoder) str(dst *string) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		s, ok := scalarText(n)
		if !ok {
			d.fail(n, path, mismatch(n, "a string"))
			return
		}
		*dst = s
	}
}

func (d *decoder) list(dst *[]string) func(ast.Node, string) {
	return sequenceOf(d, dst, func(n ast.Node, path string, s *string) { d.str(s)(n, path) })
}

// sequenceOf decodes a YAML list into *dst, each element by each (an empty list is not nil,
// so "given but empty" stays apart from "left out").
func sequenceOf[T any](d *decoder, dst *[]T, each func(n ast.Node, path string, v *T)) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		*dst = []T{}
		d.sequence(n, path, func(n ast.Node, path string) {
			*dst = append(*dst, *new(T))
			each(n, path, &(*dst)[len(*dst)-1])
		})
	}
}

func (d *decoder) mediaType(dst **MediaType) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		var m MediaType
		if err := m.UnmarshalYAML(n); err != nil {
			d.report(n, path, err)
			return
		}
		*dst = &m
	}
}

// secret decodes a Secret. One that fails to decode is left present but
// empty, so that no rule calls it missing.
func (d *decoder) secret(dst *Secret) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		if err := dst.UnmarshalYAML(n); err != nil {
			*dst = Secret{}
			d.report(n, path, err)
		}
	}
}

// passphrase decodes a WiFi psk: its text as written, byte for byte, with
// no "0x" form (a raw key is 64 hex digits). One that fails to decode is
// left present but empty, so that no rule calls it missing. Errors do not
// show it.
func (d *decoder) passphrase(dst *Secret) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		s, ok := scalarText(n)
		if !ok {
			*dst = Secret{}
			// n is not a scalar, so describe does not show its text.
			d.fail(n, path, "expected a passphrase or 64 hex digits, found "+describe(n))
			return
		}
		*dst = Secret(s)
	}
}

// unmarshal decodes with the UnmarshalYAML method of dst.
func (d *decoder) unmarshal(dst interface{ UnmarshalYAML(ast.Node) error }) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		if err := dst.UnmarshalYAML(n); err != nil {
			d.report(n, path, err)
		}
	}
}
