package network

import (
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	names := []string{"eth0", "usb*", "eth*", "en[a-z]*", "*", "eth1"}
	for _, tt := range []struct {
		link string
		want int
	}{
		{"eth0", 0}, // its own entry
		{"eth1", 5}, // its own entry, although eth* comes first
		{"eth2", 2}, // the first pattern that matches
		{"usb0", 1},
		{"usb", 1}, // * matches nothing too
		{"enp1s0", 3},
		{"en0", 4},    // en[a-z]* needs a letter after en
		{"wlan0", 4},  // only * matches
		{"lo", 4},     // a pattern matches lo by name; lookup refuses it as not Ethernet
		{"Eth2", 4},   // case matters
		{"eth0.5", 2}, // a VLAN of eth0 is a link of its own
		{"xeth0", 4},
		{"eth*", 2}, // a link may be named so: the pattern matches it
		{"", 4},
	} {
		if got := Choose(names, tt.link); got != tt.want {
			t.Errorf("Choose(%q, %q) = %d, want %d", names, tt.link, got, tt.want)
		}
	}
	if got := Choose([]string{"eth0", "wlan0"}, "usb0"); got != -1 {
		t.Errorf("Choose without patterns = %d, want -1", got)
	}
	if got := Choose([]string{"eth[", "usb?"}, "usb0"); got != 1 {
		t.Errorf("Choose with a bad pattern first = %d, want 1 (a bad pattern matches nothing)", got)
	}
	if got := Choose(nil, "eth0"); got != -1 {
		t.Errorf("Choose(nil) = %d, want -1", got)
	}
}

func TestIsPatternDefaultMetric(t *testing.T) {
	for name, want := range map[string]bool{"eth0": false, "eth*": true, "usb?": true, "en[ox]*": true, "a]b": false, `a\b`: false, "": false} {
		if got := IsPattern(name); got != want {
			t.Errorf("IsPattern(%q) = %t, want %t", name, got, want)
		}
	}
	for name, want := range map[string]int{"eth0": 100, "usb0": 100, "enp1s0": 100, "wlan0": 600, "wlx00c0ca": 600, "": 100} {
		if got := DefaultMetric(name); got != want {
			t.Errorf("DefaultMetric(%q) = %d, want %d", name, got, want)
		}
	}
}

// TestPlan: which configuration each link gets, one link after the other, and the metric of
// each link a pattern gives DHCP: the lowest from its base that no IPv4 default route has.
func TestPlan(t *testing.T) {
	gw := netip.MustParseAddr("192.168.1.1")
	dflt := netip.MustParsePrefix("0.0.0.0/0")
	type step struct {
		link     string
		ethernet bool
		want     string // "" for none; else name/metric/dhcp, or "error: ..."
		skipped  string // the metrics skipped, on a first match
	}
	for _, tt := range []struct {
		name  string
		ifcs  []Interface
		steps []step
	}{
		{
			"the image's", // eth*, en*, usb* by DHCP, wlan0 by DHCP
			[]Interface{{Name: "eth*", Up: true, DHCP: true}, {Name: "en*", Up: true, DHCP: true}, {Name: "usb*", Up: true, DHCP: true},
				{Name: "wlan0", Up: true, DHCP: true, Metric: 600}},
			[]step{
				{"lo", false, "", ""},
				{"usb0", true, "usb0/100/dhcp", ""},
				{"eth0", true, "eth0/101/dhcp", "100 (usb0)"},
				{"wlan0", true, "wlan0/600/dhcp", ""},
				{"enx0", true, "enx0/102/dhcp", "100 (usb0) 101 (eth0)"},
				{"usb0", true, "usb0/100/dhcp", ""}, // again (replugged): the same metric
				{"eth9", false, "", ""},             // a tunnel named like a wired link
				{"wlan1", true, "", ""},             // no pattern for it
				{"sit0", false, "", ""},
				{"usb1", true, "usb1/103/dhcp", "100 (usb0) 101 (eth0) 102 (enx0)"},
			},
		},
		{
			"exact entries reserve their metrics", // and win over patterns
			[]Interface{
				{Name: "eth0", Up: true, DHCP: true, Metric: 100},
				{Name: "eth1", Up: true, Addresses: []netip.Prefix{netip.MustParsePrefix("192.168.1.2/24")}, Gateway: gw, Metric: 101},
				{Name: "eth2", Up: true, Routes: []Route{{To: dflt, Via: gw}}, Metric: 102},
				{Name: "eth3", Up: true, Routes: []Route{{To: dflt, Via: gw, Metric: 103}, {To: netip.MustParsePrefix("::/0")}}, Metric: 900},
				{Name: "eth4", Up: true, Gateway6: netip.MustParseAddr("fe80::1"), Metric: 104}, // IPv6 only: 104 stays free
				{Name: "eth5", Up: false, Metric: 105},                                          // no default route
				{Name: "e*", Up: true, DHCP: true},
			},
			[]step{
				{"eth0", true, "eth0/100/dhcp", ""},
				{"eth6", true, "eth6/104/dhcp", "100 (eth0) 101 (eth1) 102 (eth2) 103 (eth3)"},
				{"eth7", true, "eth7/105/dhcp", "100 (eth0) 101 (eth1) 102 (eth2) 103 (eth3) 104 (eth6)"},
				{"eth5", true, "eth5/105/static", ""}, // its own entry, down, not DHCP
				{"eth9", false, "", ""},
			},
		},
		{
			"metrics of patterns", // WiFi's base is 600; an explicit metric is the base; no DHCP takes none
			[]Interface{{Name: "wl*", Up: true, DHCP: true}, {Name: "usb*", Up: true, DHCP: true, Metric: 50},
				{Name: "en*", Up: true, MTU: 1400}, {Name: "*", Up: true, DHCP: true}},
			[]step{
				{"wlan0", true, "wlan0/600/dhcp", ""},
				{"wlx1", true, "wlx1/601/dhcp", "600 (wlan0)"},
				{"usb0", true, "usb0/50/dhcp", ""},
				{"usb1", true, "usb1/51/dhcp", "50 (usb0)"},
				{"enp1s0", true, "enp1s0/100/static", ""},
				{"enp2s0", true, "enp2s0/100/static", ""}, // no default route, no metric of its own
				{"eth0", true, "eth0/100/dhcp", ""},
				{"lo", false, "", ""},
				{"wwan0", true, "wwan0/101/dhcp", "100 (eth0)"},
				{"wg0", false, "", ""},
			},
		},
		{
			"no metric free",
			[]Interface{{Name: "eth0", Up: true, DHCP: true, Metric: 65535}, {Name: "usb*", Up: true, DHCP: true, Metric: 65534}},
			[]step{
				{"usb0", true, "usb0/65534/dhcp", ""},
				{"usb1", true, "error: usb1 matches \"usb*\", but every metric from 65534 to 65535 has an IPv4 default route already", ""},
				{"eth0", true, "eth0/65535/dhcp", ""},
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlan(tt.ifcs)
			for _, st := range tt.steps {
				ifc, m, ok, err := p.lookup(st.link, st.ethernet)
				var got, skipped string
				switch {
				case err != nil:
					got = "error: " + err.Error()
				case ok:
					how := "static"
					if ifc.DHCP {
						how = "dhcp"
					}
					got = ifc.Name + "/" + strconv.Itoa(ifc.Metric) + "/" + how
				}
				if m != nil {
					skipped = strings.Join(m.skipped, " ")
				}
				if got != st.want || skipped != st.skipped {
					t.Errorf("lookup(%q, ethernet %t) = %q, skipped %q; want %q, skipped %q", st.link, st.ethernet, got, skipped, st.want, st.skipped)
				}
				if ok && m == nil && !reflect.DeepEqual(ifc, tt.ifcs[Choose(p.names, st.link)]) {
					t.Errorf("lookup(%q) = %+v, want its own entry as it is", st.link, ifc)
				}
				if ok && m != nil && (ifc.Up != tt.ifcs[Choose(p.names, st.link)].Up || ifc.MTU != tt.ifcs[Choose(p.names, st.link)].MTU) {
					t.Errorf("lookup(%q) = %+v: not the pattern's up and mtu", st.link, ifc)
				}
			}
		})
	}
}
