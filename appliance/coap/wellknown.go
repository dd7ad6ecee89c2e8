package coap

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// wellKnown answers GET /.well-known/core in CoRE link format (RFC 6690), filtered by the
// request's queries.
func (s *Server) wellKnown(rq *request, rep *reply) {
	br, err := block2Of(rq.msg)
	if err != nil {
		rep.fail(codes.BadOption, err.Error())
		return
	}
	if accept, ok := acceptOf(rq.msg); ok && accept != AppLinkFormat {
		rep.fail(codes.NotAcceptable, fmt.Sprintf("/.well-known/core is %s; Accept asked for %s", AppLinkFormat, accept))
		return
	}
	links := s.LinkFormat(queries(rq.msg)...)
	if rq.multicast && len(links) == 0 {
		rep.fail(codes.NotFound, "") // no answer to a multicast query that matches nothing
		return
	}
	representation{value: []byte(links), mediaType: AppLinkFormat, maxAge: NoMaxAge}.fill(rep, br)
}

// LinkFormat lists the resources in CoRE link format, keeping only those that match every
// filter ("rt=temperature", "href=/sensors*", "obs"; a trailing '*' matches any suffix).
// Hidden resources are listed only for an href or rt filter that matches them.
func (s *Server) LinkFormat(filters ...string) string {
	var b strings.Builder
	for _, r := range s.Resources() {
		attrs := r.linkAttributes()
		if (r.hidden && !targetsHidden(filters)) || !matchAll(r.uri, attrs, filters) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('<')
		b.WriteString(linkTarget(r.uri))
		b.WriteByte('>')
		for _, a := range attrs {
			b.WriteByte(';')
			b.WriteString(a.Name)
			switch {
			case a.Value == "":
			case isNumber(a.Value):
				b.WriteString("=" + a.Value)
			default:
				b.WriteString(`="` + quotedEscaper.Replace(a.Value) + `"`)
			}
		}
	}
	return b.String()
}

// linkTarget writes a resource's URI as a link target: each segment percent-encoded where it
// holds what a URI path may not (RFC 3986 §3.3), such as a space or '>', which would end the
// link early. Clients decode the segments back into Uri-Path options (RFC 7252 §6.4).
func linkTarget(uri string) string {
	segs := strings.Split(uri, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/" + strings.Join(segs, "/")
}

// quotedEscaper escapes a quoted attribute value (RFC 6690's quoted-string: a backslash
// escapes the next character).
var quotedEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// linkAttributes are the attributes given by hand, then ct from the media type and obs for a
// resource that can be observed, unless given by hand.
func (r *Resource) linkAttributes() []Attribute {
	r.mu.RLock()
	defer r.mu.RUnlock()
	attrs := append([]Attribute(nil), r.attrs...)
	switch {
	case hasAttr(attrs, "ct"):
	case len(r.alts) > 0: // every format it can be asked for: ct="0 50 112"
		cts := make([]string, len(r.alts))
		for i, a := range r.alts {
			cts[i] = strconv.Itoa(int(a.MediaType))
		}
		attrs = append(attrs, Attribute{Name: "ct", Value: strings.Join(cts, " ")})
	case r.mediaType != NoMediaType:
		attrs = append(attrs, Attribute{Name: "ct", Value: strconv.Itoa(int(r.mediaType))})
	}
	if r.methods&GET != 0 && !hasAttr(attrs, "obs") {
		attrs = append(attrs, Attribute{Name: "obs"})
	}
	return attrs
}

// targetsHidden reports a query that asks for resources by path or type, the ways to find the
// appliance's own resources.
func targetsHidden(filters []string) bool {
	for _, f := range filters {
		if strings.HasPrefix(f, "href=") || strings.HasPrefix(f, "rt=") {
			return true
		}
	}
	return false
}

func hasAttr(attrs []Attribute, name string) bool {
	for _, a := range attrs {
		if a.Name == name {
			return true
		}
	}
	return false
}

func isNumber(v string) bool {
	_, err := strconv.ParseUint(v, 10, 32)
	return err == nil
}

func matchAll(uri string, attrs []Attribute, filters []string) bool {
	for _, f := range filters {
		if !match(uri, attrs, f) {
			return false
		}
	}
	return true
}

// match applies one filter: name=value, name=prefix*, or a bare name for presence. Values of
// rt, if and other space-separated attributes match word by word.
func match(uri string, attrs []Attribute, filter string) bool {
	name, want, hasValue := strings.Cut(filter, "=")
	if name == "href" {
		return hasValue && matchValue("/"+uri, want)
	}
	for _, a := range attrs {
		if a.Name != name {
			continue
		}
		if !hasValue {
			return true
		}
		for _, word := range strings.Fields(a.Value) {
			if matchValue(word, want) {
				return true
			}
		}
		if a.Value == "" && want == "" {
			return true
		}
	}
	return false
}

func matchValue(have, want string) bool {
	if p, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(have, p)
	}
	return have == want
}
