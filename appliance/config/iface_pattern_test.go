package config

import (
	"reflect"
	"strings"
	"testing"
)

// imageNetwork is the network section of the image's /etc/pigw.yaml (image.etcConfig, which
// image's tests check against this package's rules).
const imageNetwork = `network:
  interfaces:
    - {name: "eth*", dhcp: true}
    - {name: "en*", dhcp: true}
    - {name: "usb*", dhcp: true}
    - {name: wlan0, dhcp: true}
`

// TestParseInterfacePatterns: configurations with patterns that are valid, as Parse returns
// them. Links matched by patterns get their metrics as they appear, so patterns may share a
// base metric with each other and with an exact entry.
func TestParseInterfacePatterns(t *testing.T) {
	on, off := ptr(true), ptr(false)
	for _, tt := range []struct {
		name string
		in   string
		want []Interface
	}{
		{"the image's", imageNetwork, []Interface{
			{Name: "eth*", Up: on, DHCP: on}, {Name: "en*", Up: on, DHCP: on}, {Name: "usb*", Up: on, DHCP: on}, {Name: "wlan0", Up: on, DHCP: on}}},
		{
			"an exact entry beside patterns with its metric",
			"network:\n  interfaces:\n    - {name: eth0, addresses: [192.168.1.10/24], gateway: 192.168.1.1}\n    - {name: \"eth*\", dhcp: true}\n    - {name: \"*\", dhcp: true, metric: 100}\n",
			[]Interface{{Name: "eth0", Up: on, DHCP: off, Addresses: []string{"192.168.1.10/24"}, Gateway: "192.168.1.1"},
				{Name: "eth*", Up: on, DHCP: on}, {Name: "*", Up: on, DHCP: on, Metric: 100}},
		},
		{
			"every field a pattern may have",
			"network:\n  interfaces:\n    - {name: \"enx[0-9a-f]*\", up: true, dhcp: true, mtu: 1400, metric: 50}\n    - {name: \"usb?\", up: false}\n    - {name: 'eth[^0]', mtu: 9000}\n    - {name: \"lan\\\\*\", addresses: []}\n    - {name: \"" + strings.Repeat("?", 64) + "\"}\n",
			[]Interface{{Name: "enx[0-9a-f]*", Up: on, DHCP: on, MTU: 1400, Metric: 50}, {Name: "usb?", Up: off, DHCP: off},
				{Name: "eth[^0]", Up: on, DHCP: off, MTU: 9000}, {Name: `lan\*`, Up: on, DHCP: off, Addresses: []string{}},
				{Name: strings.Repeat("?", 64), Up: on, DHCP: off}},
		},
		{
			// wifi.interface is matched by a pattern: that pattern sets it up.
			"WiFi link matched by a pattern",
			"network:\n  interfaces:\n    - {name: \"wl*\", dhcp: true, mtu: 1400}\nwifi:\n  networks: [{ssid: home, psk: \"correct horse\"}]\n",
			[]Interface{{Name: "wl*", Up: on, DHCP: on, MTU: 1400}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("pigw.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(c.Network.Interfaces, tt.want) {
				t.Errorf("interfaces\n%+v\nwant\n%+v", c.Network.Interfaces, tt.want)
			}
		})
	}
}

// TestParseErrorsInterfacePatterns has a case for every rule of patterns, each checking the
// whole message with its position.
func TestParseErrorsInterfacePatterns(t *testing.T) {
	const pat = "network:\n  interfaces:\n    - name: \"usb*\"\n"
	const notAllowed = `not allowed with the pattern "usb*", which may match several links: an address, gateway or route belongs to one link (give that link an entry with its own name)`
	for _, tt := range []struct {
		name, in, want string
	}{
		{"addresses", pat + "      dhcp: true\n      addresses: [\"fd00::10/64\"]\n",
			`pigw.yaml:5:18: network.interfaces[0].addresses: ` + notAllowed},
		{"gateway", pat + "      gateway: 192.168.1.1\n",
			`pigw.yaml:4:16: network.interfaces[0].gateway: ` + notAllowed},
		{"gateway6", pat + "      gateway6: fe80::1\n",
			`pigw.yaml:4:17: network.interfaces[0].gateway6: ` + notAllowed},
		{"routes", pat + "      routes: [{to: 10.0.0.0/8}]\n",
			`pigw.yaml:4:15: network.interfaces[0].routes: ` + notAllowed},
		{
			// Only the rule of patterns, not what else is wrong with the fields.
			"all four",
			pat + "      addresses: [bad]\n      gateway: 10.0.0.1\n      gateway6: 10.0.0.1\n      routes: [{to: x}]\n",
			`pigw.yaml:4:18: network.interfaces[0].addresses: ` + notAllowed + `
pigw.yaml:5:16: network.interfaces[0].gateway: ` + notAllowed + `
pigw.yaml:6:17: network.interfaces[0].gateway6: ` + notAllowed + `
pigw.yaml:7:15: network.interfaces[0].routes: ` + notAllowed,
		},
		{"syntax", "network:\n  interfaces:\n    - {name: \"eth[0-\", dhcp: true}\n    - {name: \"usb*\\\\\"}\n    - {name: \"[]*\"}\n",
			`pigw.yaml:3:14: network.interfaces[0].name: "eth[0-" is not a valid pattern (* any text, ? one character, [0-9] one of a class, [^0-9] one not in it, \ escapes the next character)
pigw.yaml:4:14: network.interfaces[1].name: "usb*\\" is not a valid pattern (* any text, ? one character, [0-9] one of a class, [^0-9] one not in it, \ escapes the next character)
pigw.yaml:5:14: network.interfaces[2].name: "[]*" is not a valid pattern (* any text, ? one character, [0-9] one of a class, [^0-9] one not in it, \ escapes the next character)`},
		{"shell negation", "network:\n  interfaces:\n    - {name: \"eth[!0]\"}\n",
			`pigw.yaml:3:14: network.interfaces[0].name: "eth[!0]": write [^...] for the characters not in a class ([!...] would be a class that holds '!')`},
		{"characters", "network:\n  interfaces:\n    - {name: \"usb */\"}\n    - {name: \"e:*\"}\n",
			`pigw.yaml:3:14: network.interfaces[0].name: "usb */" may not hold '/', ':' or whitespace
pigw.yaml:4:14: network.interfaces[1].name: "e:*" may not hold '/', ':' or whitespace`},
		{"too long", "network:\n  interfaces:\n    - name: \"" + strings.Repeat("?", 65) + "\"\n",
			`pigw.yaml:3:13: network.interfaces[0].name: "` + strings.Repeat("?", 65) + `" is 65 bytes long, more than 64 (a pattern's limit)`},
		{"twice", "network:\n  interfaces:\n    - {name: \"usb*\", dhcp: true}\n    - {name: eth0}\n    - {name: \"usb*\", mtu: 1400}\n",
			`pigw.yaml:5:14: network.interfaces[2].name: "usb*" is already used by network.interfaces[0] (line 3)`},
		{"mtu and metric", pat + "      mtu: 40\n      metric: 70000\n",
			`pigw.yaml:4:12: network.interfaces[0].mtu: 40 is out of range (0 to leave it as it is, or 68..65535)
pigw.yaml:5:15: network.interfaces[0].metric: 70000 is out of range (0 for the default, or 1..65535)`},
		{"dhcp down", pat + "      dhcp: true\n      up: false\n",
			`pigw.yaml:4:13: network.interfaces[0].dhcp: true, but the interface is down (up: false); DHCP needs it up: remove dhcp or up`},
		{
			// The pattern that configures the WiFi link may not take it down; a
			// later one that also matches does not configure it.
			"WiFi link down by a pattern",
			"network:\n  interfaces:\n    - {name: \"w*\", up: false}\n    - {name: \"wl*\", up: false}\nwifi:\n  networks: [{ssid: home}]\n",
			`pigw.yaml:3:24: network.interfaces[0].up: false, but wlan0 joins the networks of wifi.networks (line 6) and needs to be up; remove up: false or the networks`,
		},
		{"WiFi interface a pattern", "wifi:\n  interface: \"wl*\"\n",
			`pigw.yaml:2:14: wifi.interface: "wl*" is a pattern; give the WiFi link's own name, such as wlan0`},
	} {
		t.Run(tt.name, func(t *testing.T) { checkParseError(t, tt.in, tt.want) })
	}
}
