package main

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestAddAnnounced(t *testing.T) {
	ap := netip.MustParseAddrPort
	coapAt := func(s ...string) map[netip.AddrPort]*found {
		m := map[netip.AddrPort]*found{}
		for _, a := range s {
			m[ap(a)] = &found{Host: ap(a).Addr().String(), Port: ap(a).Port(), Via: []string{viaCoAP}}
		}
		return m
	}
	kitchen := announcedServer{ap("10.0.0.1:5683"), "pigw-kitchen", "_coap._udp"}
	kitchenS := announcedServer{ap("10.0.0.1:5684"), "pigw-kitchen", "_coaps._udp"}
	hall := announcedServer{ap("[fe80::2%eth0]:5683"), "pigw-hall", "_coap._udp"}
	for _, tt := range []struct {
		name      string
		servers   map[netip.AddrPort]*found
		announced []announcedServer
		filtered  bool
		want      []string // "host port via name service", sorted
	}{
		{"CoAP only", coapAt("10.0.0.1:5683"), nil, false, []string{"10.0.0.1 5683 coap - -"}},
		{"both", coapAt("10.0.0.1:5683"), []announcedServer{kitchen}, false,
			[]string{"10.0.0.1 5683 coap,mdns pigw-kitchen _coap._udp"}},
		{"mDNS only, coaps beside", coapAt("10.0.0.1:5683"), []announcedServer{kitchen, kitchenS, hall}, false, []string{
			"10.0.0.1 5683 coap,mdns pigw-kitchen _coap._udp",
			"10.0.0.1 5684 mdns pigw-kitchen _coaps._udp",
			"fe80::2%eth0 5683 mdns pigw-hall _coap._udp",
		}},
		{"query: only those that answered", coapAt("10.0.0.1:5683"), []announcedServer{kitchen, kitchenS, hall}, true,
			[]string{"10.0.0.1 5683 coap,mdns pigw-kitchen _coap._udp"}},
		{"announced twice", coapAt(), []announcedServer{kitchen, {kitchen.at, "other", "_coap._udp"}}, false,
			[]string{"10.0.0.1 5683 mdns pigw-kitchen _coap._udp"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addAnnounced(tt.servers, tt.announced, tt.filtered)
			var got []string
			for _, f := range tt.servers {
				name, svc := f.Name, f.Service
				if name == "" {
					name, svc = "-", "-"
				}
				got = append(got, fmt.Sprintf("%s %d %s %s %s", f.Host, f.Port, strings.Join(f.Via, ","), name, svc))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
