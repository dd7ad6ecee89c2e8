package coap

import (
	"reflect"
	"strings"
	"testing"
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
