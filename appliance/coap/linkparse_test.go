package coap

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/udp/coder"

	"github.com/pigw/pigw/internal/fuzzcheck"
)

func TestParseLinkFormat(t *testing.T) {
	tests := []struct {
		in   string
		want []Link
		err  string
	}{
		{"", nil, ""},
		{`</resource1>;title="resource1";ct=0;obs,</resource2>;ct=41;obs`, []Link{
			{Href: "/resource1", Attrs: []Attribute{{"title", "resource1"}, {"ct", "0"}, {"obs", ""}}},
			{Href: "/resource2", Attrs: []Attribute{{"ct", "41"}, {"obs", ""}}},
		}, ""},
		{`</a>;title="x, y; \"z\"", </b>`, []Link{
			{Href: "/a", Attrs: []Attribute{{"title", `x, y; "z"`}}},
			{Href: "/b"},
		}, ""},
		{`</time>;rt="ticks";if="clock";obs,</async>;ct=0`, []Link{
			{Href: "/time", Attrs: []Attribute{{"rt", "ticks"}, {"if", "clock"}, {"obs", ""}}},
			{Href: "/async", Attrs: []Attribute{{"ct", "0"}}},
		}, ""},
		{`/a>`, nil, "'<'"},
		{`</a`, nil, "'>'"},
		{`</a>;t="x`, nil, `'"'`},
		{`</a> </b>`, nil, "','"},
		{`</a>;=x`, nil, "attribute name"},
	}
	for _, tt := range tests {
		got, err := ParseLinkFormat(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v %v\nwant %+v", tt.in, got, err, tt.want)
		}
	}
	// What the server writes, the parser reads back.
	s, _ := NewServer(Config{Listen: []string{"127.0.0.1:0"}})
	_, _ = s.AddResource("x/y", WithAttribute("title", "a, b"), WithAttribute("rt", "t1 t2"), WithMethods(GET), WithMediaType(AppJSON))
	links, err := ParseLinkFormat(s.LinkFormat())
	if err != nil || len(links) != 1 || links[0].Href != "/x/y" {
		t.Fatalf("%+v %v", links, err)
	}
	if v, _ := links[0].Attr("title"); v != "a, b" {
		t.Errorf("title %q", v)
	}
	if v, _ := links[0].Attr("ct"); v != "50" {
		t.Errorf("ct %q", v)
	}
}

// libcoapResponses reads the datagrams captured from libcoap's server
// (testdata/libcoap-4.3.1-responses.txt), by name.
func libcoapResponses(tb testing.TB) map[string][][]byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/libcoap-4.3.1-responses.txt")
	if err != nil {
		tb.Fatal(err)
	}
	m := map[string][][]byte{}
	for _, line := range strings.Split(string(b), "\n") {
		name, hx, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		d, err := hex.DecodeString(hx)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		m[name] = append(m[name], d)
	}
	return m
}

// formatLinks writes links in link format with every value quoted.
func formatLinks(links []Link) string {
	var b strings.Builder
	for i, l := range links {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("<" + l.Href + ">")
		for _, a := range l.Attrs {
			b.WriteString(";" + a.Name)
			if a.Value != "" {
				b.WriteString(`="` + quotedEscaper.Replace(a.Value) + `"`)
			}
		}
	}
	return b.String()
}

// FuzzParseLinkFormat reads /.well-known/core documents as discover gets them from any server
// on the LAN. An error says at which byte, within the document, what was wanted; links read
// are written out again and read back the same.
func FuzzParseLinkFormat(f *testing.F) {
	for _, d := range libcoapResponses(f)["wkc"] {
		m := message.Message{Options: make(message.Options, 0, 16)}
		if _, err := coder.DefaultCoder.Decode(d, &m); err != nil {
			f.Fatal(err)
		}
		f.Add(string(m.Payload))
	}
	s, _ := NewServer(Config{Listen: []string{"127.0.0.1:0"}})
	_, _ = s.AddResource("x/y", WithAttribute("title", `a, b; c\d`), WithAttribute("rt", "t1 t2"), WithMethods(GET), WithMediaType(AppJSON))
	_, _ = s.AddResource("a>b c", WithAttribute("sz", "12"))
	f.Add(s.LinkFormat())
	for _, d := range []string{
		`</resource1>;title="resource1";ct=0;obs,</resource2>;ct=41;obs`, `</a>;title="x, y; \"z\"", </b>`,
		`/a>`, `</a`, `</a>;t="x`, `</a> </b>`, `</a>;=x`, ``, `<>`, `</a>;t=" x ";u= y ,</b>;v`,
	} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var links []Link
		var err error
		fuzzcheck.Bounded(t, len(doc), 64, func() { links, err = ParseLinkFormat(doc) })
		if err != nil {
			var at int
			var want string
			if n, _ := fmt.Sscanf(err.Error(), "link format: at byte %d: want %s", &at, &want); n != 2 || at < 0 || at > len(doc) {
				t.Fatalf("error %q does not say at which byte of %d, and what was wanted", err, len(doc))
			}
			return
		}
		again, err := ParseLinkFormat(formatLinks(links))
		if err != nil || !reflect.DeepEqual(again, links) {
			t.Fatalf("%q reads as %+v, written as %q, which reads as %+v, %v", doc, links, formatLinks(links), again, err)
		}
	})
}

// FuzzWellKnownCore has the server list resources with any URI and attribute it accepts, and
// a client read the list: each resource comes back with its URI (percent-decoded, as clients
// make Uri-Path options of it) and its attribute.
func FuzzWellKnownCore(f *testing.F) {
	f.Add("sensors/room/temperature", "a/b", "title", "Room temperature")
	f.Add("a>b c", `x,y;z"`, "title", `C:\temp`)
	f.Add("caf\xc3\xa9/%41", "<", "rt", "12")
	f.Fuzz(func(t *testing.T, uri1, uri2, name, value string) {
		// The smallest answer cache: the default one's 16384 entries made an execution cost 2.5 ms.
		s, err := NewServer(Config{Listen: []string{"127.0.0.1:0"}, Limits: Limits{DedupEntries: 64}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, uri := range []string{uri1, uri2} {
			if r, err := s.AddResource(uri, WithAttribute(name, value)); err == nil {
				want["/"+r.URI()] = true
			}
		}
		doc := s.LinkFormat()
		links, err := ParseLinkFormat(doc)
		if err != nil || len(links) != len(want) {
			t.Fatalf("the server lists %d resources as %q, which reads as %+v, %v", len(want), doc, links, err)
		}
		for _, l := range links {
			href, err := url.PathUnescape(l.Href)
			if err != nil || !want[href] {
				t.Fatalf("%q: link %q is none of %v (%v)", doc, l.Href, want, err)
			}
			if v, ok := l.Attr(name); !ok || v != value {
				t.Fatalf("%q: %s=%q, want %q", doc, name, v, value)
			}
		}
	})
}

// Found by FuzzWellKnownCore: a URI with '>' or a space (which a client's PUT can create)
// ended its link early and made the whole list unreadable, and a backslash in a value
// escaped the character after it.
func TestLinkFormatEscapes(t *testing.T) {
	s, _ := NewServer(Config{Listen: []string{"127.0.0.1:0"}})
	if _, err := s.AddResource("a>b c/d", WithAttribute("title", `C:\temp`), WithMethods(PUT)); err != nil {
		t.Fatal(err)
	}
	const want = `</a%3Eb%20c/d>;title="C:\\temp"`
	if got := s.LinkFormat(); got != want {
		t.Errorf("LinkFormat = %s, want %s", got, want)
	}
	links, err := ParseLinkFormat(want)
	if err != nil || len(links) != 1 || links[0].Attrs[0].Value != `C:\temp` {
		t.Errorf("%s reads as %+v, %v", want, links, err)
	}
}
