package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

// wifiText shows a wifi section for a test failure, the keys in the clear.
func wifiText(w Wifi) string {
	var b strings.Builder
	fmt.Fprintf(&b, "interface %q country %q backend %q networks (nil %t):\n", w.Interface, w.Country, w.Backend, w.Networks == nil)
	for _, n := range w.Networks {
		fmt.Fprintf(&b, "  ssid %q psk %q (nil %t) security %q hidden %t priority %d\n",
			n.SSID, string(n.PSK), n.PSK == nil, n.Security, n.Hidden, n.Priority)
	}
	return b.String()
}

// interfacesText shows interfaces for a test failure, the pointers followed.
func interfacesText(is []Interface) string {
	var b strings.Builder
	for _, i := range is {
		fmt.Fprintf(&b, "  %+v up=%v dhcp=%v\n", i, deref(i.Up), deref(i.DHCP))
	}
	return b.String()
}

func TestParseWifi(t *testing.T) {
	with := func(f func(c *Config)) *Config {
		c := defaults()
		f(c)
		return c
	}
	const rawKey = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"
	for _, tt := range []struct {
		name string
		in   string
		want *Config
	}{
		{"absent", "coap: {}\n", defaults()},
		{"without value", "wifi:\n", defaults()},
		{"keys without values", "wifi:\n  interface:\n  country:\n  backend:\n  networks:\n", defaults()},
		{"empty values", "wifi: {interface: \"\", country: \"\", backend: \"\"}\n", defaults()},
		{
			"no networks",
			"wifi:\n  networks: []\n",
			with(func(c *Config) { c.Wifi.Networks = []WifiNetwork{} }),
		},
		{
			"home WPA2 network",
			`wifi:
  country: DE
  networks:
    - ssid: home
      psk: correct horse battery staple
`,
			with(func(c *Config) {
				c.Wifi.Country = "DE"
				c.Wifi.Networks = []WifiNetwork{{SSID: "home", PSK: Secret("correct horse battery staple"), Security: "wpa2"}}
			}),
		},
		{
			"two networks with priorities",
			`wifi:
  interface: wlp2s0
  country: gb
  networks:
    - {ssid: "Home 5G", psk: "0x12345678", priority: 10}
    - ssid: 1234
      psk: ` + rawKey + `
      security: WPA2
      priority: -1000
    - {ssid: attic, psk: 12345678, priority: 1000}
`,
			with(func(c *Config) {
				c.Wifi.Interface = "wlp2s0"
				c.Wifi.Country = "GB"
				c.Wifi.Networks = []WifiNetwork{
					{SSID: "Home 5G", PSK: Secret("0x12345678"), Security: "wpa2", Priority: 10},
					{SSID: "1234", PSK: Secret(rawKey), Security: "wpa2", Priority: -1000},
					{SSID: "attic", PSK: Secret("12345678"), Security: "wpa2", Priority: 1000},
				}
			}),
		},
		{
			"open network",
			"wifi:\n  networks:\n    - {ssid: cafe}\n    - {ssid: library, security: open, hidden: false}\n",
			with(func(c *Config) {
				c.Wifi.Networks = []WifiNetwork{{SSID: "cafe", Security: "open"}, {SSID: "library", Security: "open"}}
			}),
		},
		{
			"hidden WPA3 network with backend wpa_supplicant",
			`wifi:
  backend: wpa_supplicant
  networks:
    - ssid: workshop
      psk: "p@ss word with ~ and \"quotes\""
      security: wpa3
      hidden: true
    - {ssid: both, psk: passphrase, security: WPA2/WPA3}
`,
			with(func(c *Config) {
				c.Wifi.Backend = "wpa_supplicant"
				c.Wifi.Networks = []WifiNetwork{
					{SSID: "workshop", PSK: Secret(`p@ss word with ~ and "quotes"`), Security: "wpa3", Hidden: true},
					{SSID: "both", PSK: Secret("passphrase"), Security: "wpa2/wpa3"},
				}
			}),
		},
		{
			"backend nl80211 with WPA2 and open networks",
			"wifi:\n  backend: NL80211\n  country: \"00\"\n  networks:\n    - {ssid: a, psk: " + rawKey + "}\n    - {ssid: b}\n    - {ssid: c, psk: 12345678, security: wpa2}\n",
			with(func(c *Config) {
				c.Wifi.Backend = "nl80211"
				c.Wifi.Networks = []WifiNetwork{
					{SSID: "a", PSK: Secret(rawKey), Security: "wpa2"},
					{SSID: "b", Security: "open"},
					{SSID: "c", PSK: Secret("12345678"), Security: "wpa2"},
				}
			}),
		},
		{
			"longest SSID and passphrase",
			"wifi:\n  networks:\n    - {ssid: " + strings.Repeat("s", 32) + ", psk: \"" + strings.Repeat("~", 63) + "\"}\n",
			with(func(c *Config) {
				c.Wifi.Networks = []WifiNetwork{{SSID: strings.Repeat("s", 32), PSK: Secret(strings.Repeat("~", 63)), Security: "wpa2"}}
			}),
		},
		{
			"wired DHCP",
			"network:\n  interfaces:\n    - {name: eth0, dhcp: true}\n",
			with(func(c *Config) {
				c.Network.Interfaces = []Interface{{Name: "eth0", Up: ptr(true), DHCP: ptr(true)}}
			}),
		},
		{
			"DHCP with static IPv6 and a gateway6",
			`network:
  interfaces:
    - name: eth0
      dhcp: true
      addresses: [fd00::10/64]
      gateway6: fd00::1
      routes: [{to: 10.8.0.0/16, via: 10.0.0.254}]
`,
			with(func(c *Config) {
				c.Network.Interfaces = []Interface{{
					Name: "eth0", Up: ptr(true), DHCP: ptr(true),
					Addresses: []string{"fd00::10/64"}, Gateway6: "fd00::1",
					Routes: []Route{{To: "10.8.0.0/16", Via: "10.0.0.254"}},
				}}
			}),
		},
		{
			"static",
			"network:\n  interfaces:\n    - {name: eth0, addresses: [192.168.1.10/24], gateway: 192.168.1.1, dhcp: false}\n    - {name: eth1, addresses: [10.0.0.2/8]}\n",
			with(func(c *Config) {
				c.Network.Interfaces = []Interface{
					{Name: "eth0", Up: ptr(true), DHCP: ptr(false), Addresses: []string{"192.168.1.10/24"}, Gateway: "192.168.1.1"},
					{Name: "eth1", Up: ptr(true), DHCP: ptr(false), Addresses: []string{"10.0.0.2/8"}},
				}
			}),
		},
		{
			// The WiFi interface listed in network.interfaces for its
			// addresses; wired and WiFi DHCP default routes have metrics 100
			// and 600.
			"WiFi and wired by DHCP",
			`network:
  interfaces:
    - {name: eth0, dhcp: true}
    - {name: wlan0, dhcp: true, up: true}
wifi:
  networks:
    - {ssid: home, psk: "correct horse"}
`,
			with(func(c *Config) {
				c.Network.Interfaces = []Interface{
					{Name: "eth0", Up: ptr(true), DHCP: ptr(true)},
					{Name: "wlan0", Up: ptr(true), DHCP: ptr(true)},
				}
				c.Wifi.Networks = []WifiNetwork{{SSID: "home", PSK: Secret("correct horse"), Security: "wpa2"}}
			}),
		},
		{
			// Two DHCP interfaces need default routes of their own metrics.
			"two DHCP interfaces",
			"network:\n  interfaces:\n    - {name: eth0, dhcp: true}\n    - {name: eth1, dhcp: true, metric: 101}\n    - {name: eth2, dhcp: true, up: true, metric: 102}\n",
			with(func(c *Config) {
				c.Network.Interfaces = []Interface{
					{Name: "eth0", Up: ptr(true), DHCP: ptr(true)},
					{Name: "eth1", Up: ptr(true), DHCP: ptr(true), Metric: 101},
					{Name: "eth2", Up: ptr(true), DHCP: ptr(true), Metric: 102},
				}
			}),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("pigw.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%s%s\nwant\n%s%s", wifiText(got.Wifi), interfacesText(got.Network.Interfaces),
					wifiText(tt.want.Wifi), interfacesText(tt.want.Network.Interfaces))
			}
		})
	}
}

// TestParseErrorsWifi has a case for every rule of the wifi section and of
// the interfaces' dhcp, each checking the whole message with its position.
func TestParseErrorsWifi(t *testing.T) {
	// nets is the start of a file whose first network is at line 3.
	const nets = "wifi:\n  networks:\n"
	for _, tt := range []struct {
		name string
		in   string
		want string
	}{
		// Fields and types.
		{
			"wifi not a mapping",
			"wifi: home\n",
			`pigw.yaml:1:7: wifi: expected a mapping, found "home"`,
		},
		{
			"wifi unknown field",
			"wifi:\n  ssid: home\n",
			`pigw.yaml:2:3: wifi.ssid: unknown field (known: interface, country, backend, networks)`,
		},
		{
			"networks not a list",
			"wifi:\n  networks: {ssid: home}\n",
			`pigw.yaml:2:13: wifi.networks: expected a list, found a mapping`,
		},
		{
			"network empty",
			nets + "    -\n",
			`pigw.yaml:3:7: wifi.networks[0]: expected a mapping with at least ssid:, found nothing`,
		},
		{
			"network not a mapping",
			"wifi:\n  networks: [home]\n",
			`pigw.yaml:2:14: wifi.networks[0]: expected a mapping, found "home"`,
		},
		{
			"network unknown field",
			nets + "    - {ssid: home, password: x}\n",
			`pigw.yaml:3:20: wifi.networks[0].password: unknown field (known: ssid, psk, security, hidden, priority)`,
		},
		{
			"ssid not a string",
			nets + "    - ssid: [home]\n",
			`pigw.yaml:3:13: wifi.networks[0].ssid: expected a string, found a list`,
		},
		{
			"hidden not a boolean",
			nets + "    - {ssid: home, hidden: yes}\n",
			`pigw.yaml:3:28: wifi.networks[0].hidden: "yes" is not a boolean (use true or false)`,
		},
		{
			"priority not an integer",
			nets + "    - {ssid: home, priority: high}\n",
			`pigw.yaml:3:30: wifi.networks[0].priority: "high" is not an integer`,
		},
		{
			"psk not text",
			nets + "    - ssid: home\n      psk: [correct, horse]\n",
			`pigw.yaml:4:12: wifi.networks[0].psk: expected a passphrase or 64 hex digits, found a list`,
		},
		{
			"dhcp not a boolean",
			"network:\n  interfaces:\n    - {name: eth0, dhcp: yes}\n",
			`pigw.yaml:3:26: network.interfaces[0].dhcp: "yes" is not a boolean (use true or false)`,
		},

		// interface, country and backend.
		{
			"interface name",
			"wifi:\n  interface: wlan/0\n",
			`pigw.yaml:2:14: wifi.interface: "wlan/0" may not hold '/', ':' or whitespace`,
		},
		{
			"interface name too long",
			"wifi:\n  interface: wlan0123456789abc\n",
			`pigw.yaml:2:14: wifi.interface: "wlan0123456789abc" is 17 bytes long, more than 15 (the kernel's limit)`,
		},
		{
			"country",
			"wifi:\n  country: DEU\n",
			`pigw.yaml:2:12: wifi.country: "DEU" is not a country code (two letters of ISO 3166-1 alpha-2, such as DE or US; or 00 for the world)`,
		},
		{
			"country not letters",
			"wifi:\n  country: \"01\"\n",
			`pigw.yaml:2:12: wifi.country: "01" is not a country code (two letters of ISO 3166-1 alpha-2, such as DE or US; or 00 for the world)`,
		},
		{
			"backend",
			"wifi:\n  backend: iwd\n",
			`pigw.yaml:2:12: wifi.backend: "iwd" is not a backend (auto, wpa_supplicant or nl80211)`,
		},

		// ssid.
		{
			"ssid missing",
			nets + "    - psk: correct horse\n",
			`pigw.yaml:3:7: wifi.networks[0].ssid: missing (give the network's name, 1..32 bytes)`,
		},
		{
			"ssid empty",
			nets + "    - {ssid: \"\"}\n",
			`pigw.yaml:3:14: wifi.networks[0].ssid: missing (give the network's name, 1..32 bytes)`,
		},
		{
			"ssid too long",
			nets + "    - {ssid: " + strings.Repeat("s", 33) + "}\n",
			`pigw.yaml:3:14: wifi.networks[0].ssid: "` + strings.Repeat("s", 33) + `" is 33 bytes long, more than 32`,
		},
		{
			"ssid twice",
			nets + "    - {ssid: home, psk: correct horse}\n    - {ssid: Home}\n    - ssid: home\n",
			`pigw.yaml:5:13: wifi.networks[2].ssid: "home" is already used by wifi.networks[0] (line 3)`,
		},

		// security and psk.
		{
			"security",
			nets + "    - {ssid: home, psk: correct horse, security: wep}\n",
			`pigw.yaml:3:50: wifi.networks[0].security: "wep" is not a security (wpa2, wpa3, wpa2/wpa3 or open)`,
		},
		{
			"psk too short",
			nets + "    - {ssid: home, psk: 1234567}\n",
			`pigw.yaml:3:25: wifi.networks[0].psk: is 7 characters; a passphrase is 8..63 printable ASCII characters, or 64 hex digits`,
		},
		{
			"psk too long",
			nets + "    - {ssid: home, psk: " + strings.Repeat("k", 65) + "}\n",
			`pigw.yaml:3:25: wifi.networks[0].psk: is 65 characters; a passphrase is 8..63 printable ASCII characters, or 64 hex digits`,
		},
		{
			"psk of 64 characters not hex",
			nets + "    - {ssid: home, psk: " + strings.Repeat("k", 64) + "}\n",
			`pigw.yaml:3:25: wifi.networks[0].psk: is 64 characters, not all hex digits; a passphrase is 8..63 printable ASCII characters, or 64 hex digits`,
		},
		{
			"psk empty",
			nets + "    - {ssid: home, psk: \"\"}\n",
			`pigw.yaml:3:25: wifi.networks[0].psk: empty; a passphrase is 8..63 printable ASCII characters, or 64 hex digits`,
		},
		{
			"psk not printable ASCII",
			nets + "    - {ssid: home, psk: \"gr\u00fc\u00dfe aus k\u00f6ln\"}\n    - {ssid: work, psk: \"tab\\there\"}\n",
			`pigw.yaml:3:25: wifi.networks[0].psk: is 17 bytes, not all printable ASCII; a passphrase is 8..63 printable ASCII characters, or 64 hex digits
pigw.yaml:4:25: wifi.networks[1].psk: is 8 bytes, not all printable ASCII; a passphrase is 8..63 printable ASCII characters, or 64 hex digits`,
		},
		{
			"psk missing",
			nets + "    - {ssid: home, security: wpa2}\n    - ssid: work\n      security: wpa3\n",
			`pigw.yaml:3:7: wifi.networks[0].psk: missing (security wpa2 needs a psk: a passphrase is 8..63 printable ASCII characters, or 64 hex digits)
pigw.yaml:4:7: wifi.networks[1].psk: missing (security wpa3 needs a psk: a passphrase is 8..63 printable ASCII characters, or 64 hex digits)`,
		},
		{
			"psk with an open network",
			nets + "    - {ssid: cafe, security: open, psk: correct horse}\n",
			`pigw.yaml:3:41: wifi.networks[0].psk: not allowed with security open (remove psk, or give security wpa2, wpa3 or wpa2/wpa3)`,
		},
		{
			"raw key with WPA3",
			nets + "    - {ssid: home, security: wpa3, psk: " + strings.Repeat("0a", 32) + "}\n    - {ssid: work, security: wpa2/wpa3, psk: " + strings.Repeat("0B", 32) + "}\n",
			`pigw.yaml:3:41: wifi.networks[0].psk: is 64 hex digits, a raw key, which only WPA2 can use; security wpa3 needs the passphrase
pigw.yaml:4:46: wifi.networks[1].psk: is 64 hex digits, a raw key, which only WPA2 can use; security wpa2/wpa3 needs the passphrase`,
		},
		{
			"WPA3 with backend nl80211",
			"wifi:\n  backend: nl80211\n  networks:\n    - {ssid: home, psk: correct horse, security: wpa3}\n    - {ssid: work, psk: correct horse, security: WPA2/WPA3}\n",
			`pigw.yaml:4:50: wifi.networks[0].security: "wpa3": WPA3 needs the wpa_supplicant backend, but backend is nl80211 (line 2)
pigw.yaml:5:50: wifi.networks[1].security: "wpa2/wpa3": WPA3 needs the wpa_supplicant backend, but backend is nl80211 (line 2)`,
		},

		// priority.
		{
			"priority out of range",
			nets + "    - {ssid: a, priority: 1001}\n    - {ssid: b, priority: -1001}\n",
			`pigw.yaml:3:27: wifi.networks[0].priority: 1001 is out of range (-1000..1000)
pigw.yaml:4:27: wifi.networks[1].priority: -1001 is out of range (-1000..1000)`,
		},

		// The WiFi interface in network.interfaces.
		{
			"WiFi interface down",
			"network:\n  interfaces:\n    - {name: wlan1, up: false}\nwifi:\n  interface: wlan1\n  networks:\n    - {ssid: home}\n",
			`pigw.yaml:3:25: network.interfaces[0].up: false, but wlan1 joins the networks of wifi.networks (line 7) and needs to be up; remove up: false or the networks`,
		},

		// dhcp.
		{
			"dhcp with gateway",
			"network:\n  interfaces:\n    - name: eth0\n      dhcp: true\n      addresses: [192.168.1.10/24]\n      gateway: 192.168.1.1\n",
			`pigw.yaml:6:16: network.interfaces[0].gateway: "192.168.1.1": a DHCP interface gets its gateway from the server; remove gateway or dhcp`,
		},
		{
			"dhcp with up false",
			"network:\n  interfaces:\n    - {name: eth0, up: false, dhcp: true}\n",
			`pigw.yaml:3:37: network.interfaces[0].dhcp: true, but the interface is down (up: false); DHCP needs it up: remove dhcp or up`,
		},
		{
			"dhcp default route with the metric of a gateway",
			"network:\n  interfaces:\n    - {name: eth0, addresses: [192.168.1.10/24], gateway: 192.168.1.1}\n    - {name: eth1, dhcp: true}\n    - {name: eth2, dhcp: true, metric: 101}\n    - {name: eth3, addresses: [10.0.0.2/8], gateway: 10.0.0.1, metric: 101}\n",
			`pigw.yaml:4:26: network.interfaces[1].dhcp: a default route from DHCP with metric 100 is already given by network.interfaces[0].gateway (line 3); give one of them another metric
pigw.yaml:6:54: network.interfaces[3].gateway: "10.0.0.1": a default route with metric 101 is already given by network.interfaces[2].dhcp (line 5); give one of them another metric`,
		},
		{
			"dhcp default route and a route to 0.0.0.0/0",
			"network:\n  interfaces:\n    - name: wlan0\n      dhcp: true\n      routes: [{to: 0.0.0.0/0, via: 10.0.0.1}]\n",
			`pigw.yaml:5:21: network.interfaces[0].routes[0].to: "0.0.0.0/0" with metric 600 is already given by network.interfaces[0].dhcp (line 4); give one of them another metric`,
		},

		// Several at once: all reported, in the order of the file.
		{
			"several",
			`network:
  interfaces:
    - {name: wlan0, dhcp: true, gateway: 192.168.1.1}
wifi:
  country: Germany
  backend: nl80211
  networks:
    - ssid: home
      psk: short
    - ssid: home
      security: wpa3
      psk: correct horse
    - {ssid: cafe, psk: correct horse, security: open, priority: 2000}
  hidden: true
`,
			`pigw.yaml:3:42: network.interfaces[0].gateway: "192.168.1.1": a DHCP interface gets its gateway from the server; remove gateway or dhcp
pigw.yaml:5:12: wifi.country: "Germany" is not a country code (two letters of ISO 3166-1 alpha-2, such as DE or US; or 00 for the world)
pigw.yaml:9:12: wifi.networks[0].psk: is 5 characters; a passphrase is 8..63 printable ASCII characters, or 64 hex digits
pigw.yaml:10:13: wifi.networks[1].ssid: "home" is already used by wifi.networks[0] (line 8)
pigw.yaml:11:17: wifi.networks[1].security: "wpa3": WPA3 needs the wpa_supplicant backend, but backend is nl80211 (line 6)
pigw.yaml:13:25: wifi.networks[2].psk: not allowed with security open (remove psk, or give security wpa2, wpa3 or wpa2/wpa3)
pigw.yaml:13:66: wifi.networks[2].priority: 2000 is out of range (-1000..1000)
pigw.yaml:14:3: wifi.hidden: unknown field (known: interface, country, backend, networks)`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) { checkParseError(t, tt.in, tt.want) })
	}
}

func TestValidateWifi(t *testing.T) {
	c := tutorialConfig()
	c.Network = Network{Interfaces: []Interface{{Name: "wlan0", Addresses: []string{"fd00::10/64"}, DHCP: ptr(true)}, {Name: "eth0"}}}
	c.Wifi = Wifi{Networks: []WifiNetwork{
		{SSID: "home", PSK: Secret("correct horse"), Priority: 5},
		{SSID: "cafe"},
		{SSID: "work", PSK: Secret("correct horse"), Security: "WPA2/wpa3"},
	}}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	want := Wifi{Interface: "wlan0", Country: "00", Backend: "auto", Networks: []WifiNetwork{
		{SSID: "home", PSK: Secret("correct horse"), Security: "wpa2", Priority: 5},
		{SSID: "cafe", Security: "open"},
		{SSID: "work", PSK: Secret("correct horse"), Security: "wpa2/wpa3"},
	}}
	if !reflect.DeepEqual(c.Wifi, want) {
		t.Errorf("Validate left\n%s\nwant\n%s", wifiText(c.Wifi), wifiText(want))
	}
	wantIfs := []Interface{
		{Name: "wlan0", Up: ptr(true), DHCP: ptr(true), Addresses: []string{"fd00::10/64"}},
		{Name: "eth0", Up: ptr(true), DHCP: ptr(false)},
	}
	if !reflect.DeepEqual(c.Network.Interfaces, wantIfs) {
		t.Errorf("Validate left interfaces\n%s\nwant\n%s", interfacesText(c.Network.Interfaces), interfacesText(wantIfs))
	}

	c.Wifi = Wifi{Interface: "wlan0", Country: "de", Backend: "nl80211", Networks: []WifiNetwork{
		{SSID: "home", PSK: Secret("short")},
		{SSID: "home", Security: "wpa3", PSK: Secret("correct horse")},
		{SSID: "cafe", PSK: Secret{}, Security: "open"},
	}}
	c.Network.Interfaces[0].Gateway = "192.168.1.1"
	c.Network.Interfaces[0].Up = ptr(false)
	err := c.Validate()
	wantErr := `network.interfaces[0].dhcp: true, but the interface is down (up: false); DHCP needs it up: remove dhcp or up
network.interfaces[0].gateway: "192.168.1.1": a DHCP interface gets its gateway from the server; remove gateway or dhcp
wifi.networks[0].psk: is 5 characters; a passphrase is 8..63 printable ASCII characters, or 64 hex digits
wifi.networks[1].security: "wpa3": WPA3 needs the wpa_supplicant backend, but backend is nl80211
wifi.networks[1].ssid: "home" is already used by wifi.networks[0]
wifi.networks[2].psk: not allowed with security open (remove psk, or give security wpa2, wpa3 or wpa2/wpa3)
network.interfaces[0].up: false, but wlan0 joins the networks of wifi.networks and needs to be up; remove up: false or the networks`
	if err == nil || err.Error() != wantErr {
		t.Errorf("Validate() = %v\nwant %s", err, wantErr)
	}
	if c.Wifi.Country != "DE" {
		t.Errorf("Validate left country %q, want DE", c.Wifi.Country)
	}
}

func TestWifiHelpers(t *testing.T) {
	if (Wifi{}).Enabled() || (Wifi{Networks: []WifiNetwork{}}).Enabled() || Default().Wifi.Enabled() {
		t.Error("Enabled() of no networks is true")
	}
	if !(Wifi{Networks: []WifiNetwork{{SSID: "cafe"}}}).Enabled() {
		t.Error("Enabled() of a network is false")
	}
	for _, tt := range []struct {
		psk  string
		want bool
	}{
		{strings.Repeat("0123456789abcdeF", 4), true},
		{strings.Repeat("0123456789abcdeF", 4)[1:], false},
		{strings.Repeat("0123456789abcdeg", 4), false},
		{"0x" + strings.Repeat("ab", 32), false},
		{"correct horse", false},
		{"", false},
	} {
		if got := (WifiNetwork{PSK: Secret(tt.psk)}).RawKey(); got != tt.want {
			t.Errorf("RawKey() of %q = %t, want %t", tt.psk, got, tt.want)
		}
	}
	for _, tt := range []struct {
		dhcp *bool
		want bool
	}{{nil, false}, {ptr(false), false}, {ptr(true), true}} {
		if got := (Interface{Name: "eth0", DHCP: tt.dhcp}).UsesDHCP(); got != tt.want {
			t.Errorf("UsesDHCP() with dhcp %v = %t, want %t", deref(tt.dhcp), got, tt.want)
		}
	}
}

// TestWifiPSKNeverShown checks that WiFi keys show as *** in every format,
// in JSON, in logs, in Redacted and in errors.
func TestWifiPSKNeverShown(t *testing.T) {
	const (
		pass = "s3cr3t-wifi-pass"
		raw  = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7"
	)
	c, err := Parse("pigw.yaml", []byte(`wifi:
  networks:
    - {ssid: home, psk: `+pass+`}
    - {ssid: work, psk: `+raw+`}
`))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Wifi.Networks[0].PSK) != pass || string(c.Wifi.Networks[1].PSK) != raw {
		t.Fatalf("Parse gave the wrong keys:\n%s", wifiText(c.Wifi))
	}

	js, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	red, err := c.Redacted()
	if err != nil {
		t.Fatalf("Redacted: %v", err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("wifi", "wifi", c.Wifi, "network", c.Wifi.Networks[0])
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("wifi", "wifi", c.Wifi, "network", c.Wifi.Networks[0])
	n := c.Wifi.Networks[0]
	shown := []string{
		string(js),
		string(red),
		logged.String(),
		fmt.Sprint(c.Wifi, c.Wifi.Networks, n),
		fmt.Sprintf("%v %+v %#v", c.Wifi, c.Wifi, c.Wifi),
		fmt.Sprintf("%v %+v %#v", *c, *c, *c),
		fmt.Sprintf("%v %+v %#v", n, n, n),
		fmt.Sprintf("%v %s %q %x %X %d %#v", n.PSK, n.PSK, n.PSK, n.PSK, n.PSK, n.PSK, n.PSK),
	}
	for _, out := range shown {
		for _, leak := range []string{pass, "s3cr3t", fmt.Sprintf("%x", pass), "5ec7e7", "5EC7E7"} {
			if strings.Contains(out, leak) {
				t.Errorf("the key shows as %q in\n%s", leak, out)
			}
		}
		if !strings.Contains(out, "***") {
			t.Errorf("no *** in\n%s", out)
		}
	}
	if n := strings.Count(string(red), `psk: "***"`); n != 2 {
		t.Errorf("Redacted shows %d WiFi keys as \"***\", want 2:\n%s", n, red)
	}

	// Redacted reads back as the same configuration once keys are given
	// for the ***, which is no valid WiFi key.
	back, err := Parse("redacted.yaml", bytes.ReplaceAll(red, []byte(`"***"`), []byte(pass)))
	if err != nil {
		t.Fatalf("Parse of Redacted with the keys put back:\n%s\nfails: %v", red, err)
	}
	want := *c
	want.Wifi.Networks = []WifiNetwork{c.Wifi.Networks[0], c.Wifi.Networks[1]}
	want.Wifi.Networks[1].PSK = Secret(pass)
	if !reflect.DeepEqual(back, &want) {
		t.Errorf("Parse of Redacted =\n%s\nwant\n%s", wifiText(back.Wifi), wifiText(want.Wifi))
	}

	// Nor do errors show keys, whatever is wrong with them.
	_, err = Parse("pigw.yaml", []byte(`wifi:
  backend: nl80211
  networks:
    - {ssid: a, psk: s3cr3t}
    - {ssid: b, psk: s3cr3t`+strings.Repeat("x", 60)+`}
    - {ssid: c, psk: s3cr3t`+strings.Repeat("x", 58)+`}
    - {ssid: d, psk: "s3cr3t\ts3cr3t"}
    - {ssid: e, psk: s3cr3t-s3cr3t, security: open}
    - {ssid: f, psk: `+raw+`, security: wpa3}
    - {ssid: g, psk: {s3cr3t: s3cr3t}}
    - {ssid: h, psk: [s3cr3t]}
    - {ssid: i, psk: s3cr3t-s3cr3t, security: s3cr3t}
    - {ssid: j, psk: "s3cr3t-\u00fc"}
`))
	if err == nil {
		t.Fatal("Parse succeeded, want errors")
	}
	msg := strings.ReplaceAll(err.Error(), `"s3cr3t" is not a security`, "") // a security, not a key
	if strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "5ec7e7") || strings.Count(err.Error(), "\n") != 10 {
		t.Errorf("errors show a key or are not 11:\n%v", err)
	}
}
