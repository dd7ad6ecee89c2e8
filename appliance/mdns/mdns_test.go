package mdns

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func TestNew(t *testing.T) {
	ok := Config{Hostname: "pigw-kitchen", Services: []Service{{"_coap._udp", 5683}, {"_http._tcp", 80}}, TXT: []string{"version=1", "board=Pi 4"}}
	for _, tt := range []struct {
		name string
		edit func(*Config)
		err  string // "" for none
	}{
		{"good", func(*Config) {}, ""},
		{"no services", func(c *Config) { c.Services = nil }, ""},
		{"instance with port", func(c *Config) { c.Instance = "pigw-kitchen (port 5685)" }, ""},
		{"empty host name", func(c *Config) { c.Hostname = "" }, `host name ""`},
		{"host name with dot", func(c *Config) { c.Hostname = "pigw.lan" }, `host name "pigw.lan"`},
		{"host name dash", func(c *Config) { c.Hostname = "pigw-" }, `host name "pigw-"`},
		{"host name 64", func(c *Config) { c.Hostname = strings.Repeat("a", 64) }, "host name"},
		{"instance with dot", func(c *Config) { c.Instance = "a.b" }, `instance name "a.b"`},
		{"instance 64", func(c *Config) { c.Instance = strings.Repeat("a", 64) }, "instance name"},
		{"instance control", func(c *Config) { c.Instance = "a\nb" }, "instance name"},
		{"service no proto", func(c *Config) { c.Services = []Service{{"_coap", 5683}} }, `service type "_coap"`},
		{"service sctp", func(c *Config) { c.Services = []Service{{"_coap._sctp", 5683}} }, "service type"},
		{"service name 16", func(c *Config) { c.Services = []Service{{"_" + strings.Repeat("a", 16) + "._udp", 1}} }, "service type"},
		{"port 0", func(c *Config) { c.Services = []Service{{"_coap._udp", 0}} }, "port 0 is not 1..65535"},
		{"port 65536", func(c *Config) { c.Services = []Service{{"_coap._udp", 65536}} }, "port 65536"},
		{"TXT no key", func(c *Config) { c.TXT = []string{"=1"} }, `TXT entry "=1"`},
		{"TXT long", func(c *Config) { c.TXT = []string{"k=" + strings.Repeat("v", 254)} }, "TXT entry"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			_, err := New(c)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("New: %v, want an error with %q", err, tt.err)
			}
		})
	}
}

func TestInstanceName(t *testing.T) {
	for _, tt := range []struct {
		host string
		port int
		want string
	}{
		{"pigw", 5683, "pigw"},
		{"pigw", 0, "pigw"},
		{"pigw-kitchen", 5685, "pigw-kitchen (port 5685)"},
	} {
		if got := InstanceName(tt.host, tt.port); got != tt.want {
			t.Errorf("InstanceName(%q, %d) = %q, want %q", tt.host, tt.port, got, tt.want)
		}
	}
}

func TestAnnouncement(t *testing.T) {
	cfg := Config{Hostname: "pigw-kitchen", Instance: "pigw-kitchen (port 5685)",
		Services: []Service{{"_coap._udp", 5685}, {"_http._tcp", 80}}, TXT: []string{"version=1.2", "board=Pi 4"}}
	addrs := []netip.Addr{netip.MustParseAddr("192.168.1.10"), netip.MustParseAddr("fe80::1")}
	want := func(ttl, browse int) []string {
		h, b := strconv.Itoa(ttl), strconv.Itoa(browse)
		return []string{
			"pigw-kitchen.local. A " + h + " flush 192.168.1.10",
			"pigw-kitchen.local. AAAA " + h + " flush fe80::1",
			"_services._dns-sd._udp.local. PTR " + b + " _coap._udp.local.",
			"_coap._udp.local. PTR " + b + " pigw-kitchen (port 5685)._coap._udp.local.",
			"pigw-kitchen (port 5685)._coap._udp.local. SRV " + h + " flush pigw-kitchen.local.:5685",
			"pigw-kitchen (port 5685)._coap._udp.local. TXT " + h + " flush version=1.2,board=Pi 4",
			"_services._dns-sd._udp.local. PTR " + b + " _http._tcp.local.",
			"_http._tcp.local. PTR " + b + " pigw-kitchen (port 5685)._http._tcp.local.",
			"pigw-kitchen (port 5685)._http._tcp.local. SRV " + h + " flush pigw-kitchen.local.:80",
			"pigw-kitchen (port 5685)._http._tcp.local. TXT " + h + " flush version=1.2,board=Pi 4",
		}
	}
	for _, tt := range []struct {
		name string
		bye  bool
		want []string
	}{
		{"announce", false, want(120, 4500)},
		{"goodbye", true, want(0, 0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pkt, err := announcement(cfg, addrs, tt.bye)
			if err != nil {
				t.Fatal(err)
			}
			var m dnsmessage.Message
			if err := m.Unpack(pkt); err != nil {
				t.Fatal(err)
			}
			if !m.Response || !m.Authoritative || m.ID != 0 || len(m.Questions) != 0 || len(m.Additionals) != 0 {
				t.Errorf("header %+v, %d questions, %d additionals: want an authoritative response, ID 0, answers only",
					m.Header, len(m.Questions), len(m.Additionals))
			}
			var got []string
			for _, r := range m.Answers {
				got = append(got, describe(r))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("answers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// describe is a record in words: "name type ttl [flush] data".
func describe(r dnsmessage.Resource) string {
	var data string
	switch b := r.Body.(type) {
	case *dnsmessage.AResource:
		data = netip.AddrFrom4(b.A).String()
	case *dnsmessage.AAAAResource:
		data = netip.AddrFrom16(b.AAAA).String()
	case *dnsmessage.PTRResource:
		data = b.PTR.String()
	case *dnsmessage.SRVResource:
		data = b.Target.String() + ":" + strconv.Itoa(int(b.Port))
	case *dnsmessage.TXTResource:
		data = strings.Join(b.TXT, ",")
	}
	flush := ""
	if r.Header.Class&cacheFlush != 0 {
		flush = " flush"
	}
	return fmt.Sprintf("%s %s %d%s %s", r.Header.Name, strings.TrimPrefix(r.Header.Type.String(), "Type"), r.Header.TTL, flush, data)
}
