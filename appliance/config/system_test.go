package config

import (
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestParseSystemNetwork(t *testing.T) {
	with := func(f func(c *Config)) *Config {
		c := defaults()
		f(c)
		return c
	}
	for _, tt := range []struct {
		name string
		in   string
		want *Config
	}{
		{"absent", "coap: {}\n", defaults()},
		{"without values", "system:\nnetwork:\n", defaults()},
		{"empty mappings", "system: {}\nnetwork: {}\n", defaults()},
		{"keys without values", "system:\n  hostname:\n  modules:\n  watchdog:\n  mdns:\nnetwork:\n  interfaces:\n  dns:\n", defaults()},
		{"empty hostname", "system: {hostname: \"\"}\n", defaults()},
		{
			"empty lists",
			"system: {modules: []}\nnetwork: {interfaces: [], dns: []}\n",
			with(func(c *Config) {
				c.System.Modules = []string{}
				c.Network = Network{Interfaces: []Interface{}, DNS: []string{}}
			}),
		},
		{
			"everything set",
			`system:
  hostname: Gw-1
  modules: [brcmfmac, 8021q, i2c_dev, i2c-bcm2835, 123, "i2c-stub chip_addr=0x76,0x48 functionality=0x1"]
  watchdog: false
  mdns: true
network:
  interfaces:
    - name: eth0
      up: false
      addresses:
        - 192.168.1.10/24
        - fd00::10/64
        - fe80::10/64
        - 10.0.0.0/31
        - 10.0.1.0/32
      gateway: 192.168.1.1
      gateway6: fe80::1
      routes:
        - {to: 10.8.0.0/16, via: 192.168.1.254, metric: 50}
        - to: fd00:1::/64
          via: fd00::1
        - {to: 172.16.0.0/12}
        - {to: 0.0.0.0/0, via: 10.0.0.1, metric: 101}
      mtu: 1500
      metric: 10
    - {name: wlan0, addresses: [192.168.1.11/24], gateway: 192.168.1.1, mtu: 68}
    - {name: "` + strings.Repeat("x", 15) + `", up: true, metric: 65535}
  dns:
    - 192.168.1.1
    - fd00::1
    - fe80::1%eth0
`,
			with(func(c *Config) {
				c.System = System{
					Hostname: "Gw-1",
					Modules:  []string{"brcmfmac", "8021q", "i2c_dev", "i2c-bcm2835", "123", "i2c-stub chip_addr=0x76,0x48 functionality=0x1"},
					Watchdog: ptr(false),
					MDNS:     ptr(true),
				}
				c.Network = Network{
					Interfaces: []Interface{
						{
							Name:      "eth0",
							Up:        ptr(false),
							DHCP:      ptr(false),
							Addresses: []string{"192.168.1.10/24", "fd00::10/64", "fe80::10/64", "10.0.0.0/31", "10.0.1.0/32"},
							Gateway:   "192.168.1.1",
							Gateway6:  "fe80::1",
							Routes: []Route{
								{To: "10.8.0.0/16", Via: "192.168.1.254", Metric: 50},
								{To: "fd00:1::/64", Via: "fd00::1"},
								{To: "172.16.0.0/12"},
								{To: "0.0.0.0/0", Via: "10.0.0.1", Metric: 101},
							},
							MTU:    1500,
							Metric: 10,
						},
						{Name: "wlan0", Up: ptr(true), DHCP: ptr(false), Addresses: []string{"192.168.1.11/24"}, Gateway: "192.168.1.1", MTU: 68},
						{Name: strings.Repeat("x", 15), Up: ptr(true), DHCP: ptr(false), Metric: 65535},
					},
					DNS: []string{"192.168.1.1", "fd00::1", "fe80::1%eth0"},
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
				t.Errorf("Parse =\n%s\nwant\n%s", redactedText(t, got), redactedText(t, tt.want))
			}
		})
	}
}

// redactedText shows a config for a test failure.
func redactedText(t *testing.T, c *Config) string {
	t.Helper()
	b, err := c.Redacted()
	if err != nil {
		t.Fatalf("Redacted: %v", err)
	}
	return string(b)
}

// TestParseErrorsSystemNetwork has a case for every rule of the system and
// network sections, each checking the whole message with its position.
func TestParseErrorsSystemNetwork(t *testing.T) {
	// iface is the start of a file with one interface, eth0, at line 3.
	const iface = "network:\n  interfaces:\n    - name: eth0\n"
	for _, tt := range []struct {
		name string
		in   string
		want string
	}{
		// Fields and types.
		{
			"system not a mapping",
			"system: pigw\n",
			`pigw.yaml:1:9: system: expected a mapping, found "pigw"`,
		},
		{
			"system unknown field",
			"system:\n  host: pigw\n",
			`pigw.yaml:2:3: system.host: unknown field (known: hostname, modules, watchdog, mdns)`,
		},
		{
			"network not a mapping",
			"network: [eth0]\n",
			`pigw.yaml:1:10: network: expected a mapping, found a list`,
		},
		{
			"network unknown field",
			"network:\n  resolvers: [1.1.1.1]\n",
			`pigw.yaml:2:3: network.resolvers: unknown field (known: interfaces, dns)`,
		},
		{
			"interfaces not a list",
			"network:\n  interfaces: {name: eth0}\n",
			`pigw.yaml:2:15: network.interfaces: expected a list, found a mapping`,
		},
		{
			"interface empty",
			"network:\n  interfaces:\n    -\n",
			`pigw.yaml:3:7: network.interfaces[0]: expected a mapping with at least name:, found nothing`,
		},
		{
			"interface not a mapping",
			"network:\n  interfaces: [eth0]\n",
			`pigw.yaml:2:16: network.interfaces[0]: expected a mapping, found "eth0"`,
		},
		{
			"interface unknown field",
			iface + "      address: 192.168.1.10/24\n",
			`pigw.yaml:4:7: network.interfaces[0].address: unknown field (known: name, up, addresses, dhcp, gateway, gateway6, routes, mtu, metric)`,
		},
		{
			"routes not a list",
			iface + "      routes: {to: 10.0.0.0/8}\n",
			`pigw.yaml:4:15: network.interfaces[0].routes: expected a list, found a mapping`,
		},
		{
			"route empty",
			iface + "      routes:\n        -\n",
			`pigw.yaml:5:11: network.interfaces[0].routes[0]: expected a mapping with at least to:, found nothing`,
		},
		{
			"route unknown field",
			iface + "      routes:\n        - {to: 10.0.0.0/8, gw: 10.0.0.1}\n",
			`pigw.yaml:5:28: network.interfaces[0].routes[0].gw: unknown field (known: to, via, metric)`,
		},
		{
			"hostname not a string",
			"system:\n  hostname: [a]\n",
			`pigw.yaml:2:13: system.hostname: expected a string, found a list`,
		},
		{
			"watchdog not a boolean",
			"system:\n  watchdog: yes\n",
			`pigw.yaml:2:13: system.watchdog: "yes" is not a boolean (use true or false)`,
		},
		{
			"mdns not a boolean",
			"system:\n  mdns: on\n",
			`pigw.yaml:2:9: system.mdns: "on" is not a boolean (use true or false)`,
		},
		{
			"modules not a list",
			"system:\n  modules: brcmfmac\n",
			`pigw.yaml:2:12: system.modules: expected a list, found "brcmfmac"`,
		},
		{
			"up not a boolean",
			iface + "      up: 1\n",
			`pigw.yaml:4:11: network.interfaces[0].up: 1 is not a boolean (use true or false)`,
		},
		{
			"mtu not an integer",
			iface + "      mtu: 1.5k\n",
			`pigw.yaml:4:12: network.interfaces[0].mtu: "1.5k" is not an integer`,
		},
		{
			"dns not a list",
			"network:\n  dns: 1.1.1.1\n",
			`pigw.yaml:2:8: network.dns: expected a list, found "1.1.1.1"`,
		},
		{
			"address not a string",
			iface + "      addresses: [{a: 1}]\n",
			`pigw.yaml:4:19: network.interfaces[0].addresses[0]: expected a string, found a mapping`,
		},

		// hostname.
		{
			"hostname too long",
			"system:\n  hostname: " + strings.Repeat("h", 64) + "\n",
			`pigw.yaml:2:13: system.hostname: "` + strings.Repeat("h", 64) + `" is 64 bytes long, more than 63`,
		},
		{
			"hostname characters",
			"system:\n  hostname: pi_gw\n",
			`pigw.yaml:2:13: system.hostname: "pi_gw" may only hold letters, digits and '-'`,
		},
		{
			"hostname with a dot",
			"system:\n  hostname: pigw.local\n",
			`pigw.yaml:2:13: system.hostname: "pigw.local" may only hold letters, digits and '-'`,
		},
		{
			"hostname starting with -",
			"system:\n  hostname: -pigw\n",
			`pigw.yaml:2:13: system.hostname: "-pigw" may not start or end with '-'`,
		},
		{
			"hostname ending with -",
			"system: {hostname: pigw-}\n",
			`pigw.yaml:1:20: system.hostname: "pigw-" may not start or end with '-'`,
		},

		// modules.
		{
			"module empty",
			"system:\n  modules: [brcmfmac, \"\"]\n",
			`pigw.yaml:2:23: system.modules[1]: empty (give a kernel module's name, such as brcmfmac)`,
		},
		{
			"module characters",
			"system:\n  modules: [brcm/fmac, brcmfmac.ko]\n",
			`pigw.yaml:2:13: system.modules[0]: "brcm/fmac" may only hold letters, digits, '_' and '-'
pigw.yaml:2:24: system.modules[1]: "brcmfmac.ko" may only hold letters, digits, '_' and '-'`,
		},
		{
			"module parameters",
			"system:\n  modules:\n    - brcm fmac\n    - i2c-stub chip_addr=\n    - a b=1  c=2\n    - a-b x=\"1\"\n    - w1 k=1 k=2\n    - x y.z=1\n    - \"y \" \n",
			`pigw.yaml:3:7: system.modules[0]: module brcm: parameter "fmac": want name=value, such as fmac=1
pigw.yaml:4:7: system.modules[1]: module i2c-stub: parameter "chip_addr=": want name=value, such as chip_addr=1
pigw.yaml:5:7: system.modules[2]: module a: parameters "b=1  c=2": separate them with one space
pigw.yaml:6:7: system.modules[3]: module a-b: parameter "x=\"1\"": the value may only hold printable ASCII without spaces, quotes or backslashes
pigw.yaml:7:7: system.modules[4]: module w1: parameter k is given twice
pigw.yaml:8:7: system.modules[5]: module x: parameter "y.z=1": want name=value, the name of letters, digits and '_'
pigw.yaml:9:7: system.modules[6]: module y: parameters "": separate them with one space`,
		},
		{
			"module parameters too long",
			"system:\n  modules:\n    - \"m p=" + strings.Repeat("1", 1023) + "\"\n",
			`pigw.yaml:3:7: system.modules[0]: module m: parameters are 1025 bytes long, more than 1024`,
		},
		{
			"module too long",
			"system:\n  modules:\n    - " + strings.Repeat("m", 57) + "\n",
			`pigw.yaml:3:7: system.modules[0]: "` + strings.Repeat("m", 57) + `" is 57 bytes long, more than 56`,
		},
		{
			"module twice",
			"system:\n  modules:\n    - brcmfmac\n    - i2c-dev\n    - brcmfmac\n",
			`pigw.yaml:5:7: system.modules[2]: "brcmfmac" is listed twice (first as modules[0])`,
		},
		{
			"module twice, - and _",
			"system:\n  modules: [brcm_fmac, i2c-dev, brcm-fmac, i2c_dev]\n",
			`pigw.yaml:2:33: system.modules[2]: "brcm-fmac" is listed twice (first as modules[0], "brcm_fmac": '-' and '_' are the same in a module's name)
pigw.yaml:2:44: system.modules[3]: "i2c_dev" is listed twice (first as modules[1], "i2c-dev": '-' and '_' are the same in a module's name)`,
		},

		// Interface names.
		{
			"name missing",
			"network:\n  interfaces:\n    - up: true\n",
			`pigw.yaml:3:7: network.interfaces[0].name: missing (give the interface's name, such as eth0 or wlan0)`,
		},
		{
			"name empty",
			"network:\n  interfaces:\n    - name: \"\"\n",
			`pigw.yaml:3:13: network.interfaces[0].name: missing (give the interface's name, such as eth0 or wlan0)`,
		},
		{
			"name too long",
			"network:\n  interfaces:\n    - name: " + strings.Repeat("e", 16) + "\n",
			`pigw.yaml:3:13: network.interfaces[0].name: "` + strings.Repeat("e", 16) + `" is 16 bytes long, more than 15 (the kernel's limit)`,
		},
		{
			"name with /",
			"network:\n  interfaces:\n    - name: eth/0\n",
			`pigw.yaml:3:13: network.interfaces[0].name: "eth/0" may not hold '/', ':' or whitespace`,
		},
		{
			"name with :",
			"network:\n  interfaces:\n    - name: \"eth0:1\"\n",
			`pigw.yaml:3:13: network.interfaces[0].name: "eth0:1" may not hold '/', ':' or whitespace`,
		},
		{
			"name with space",
			"network:\n  interfaces:\n    - name: eth 0\n",
			`pigw.yaml:3:13: network.interfaces[0].name: "eth 0" may not hold '/', ':' or whitespace`,
		},
		{
			"name with tab",
			"network:\n  interfaces:\n    - name: \"eth\\t0\"\n",
			`pigw.yaml:3:13: network.interfaces[0].name: "eth\t0" may not hold '/', ':' or whitespace`,
		},
		{
			"name dot dot",
			"network:\n  interfaces:\n    - name: ..\n",
			`pigw.yaml:3:13: network.interfaces[0].name: ".." is not allowed as an interface name`,
		},
		{
			"name twice",
			"network:\n  interfaces:\n    - name: eth0\n    - name: wlan0\n    - name: eth0\n",
			`pigw.yaml:5:13: network.interfaces[2].name: "eth0" is already used by network.interfaces[0] (line 3)`,
		},

		// addresses.
		{
			// The example of the design.
			"network address",
			`# pigw.yaml
coap:
  listen: ["0.0.0.0:5683"]
system:
  hostname: kitchen
network:
  dns: ["192.168.1.1"]
  interfaces:
    - name: eth0
      addresses:
        - fd00::10/64
        - 192.168.1.0/24
`,
			`pigw.yaml:12:11: network.interfaces[0].addresses[1]: "192.168.1.0/24" is the network address of its prefix; give the host's address, such as 192.168.1.10/24`,
		},
		{
			"network address of a small prefix",
			iface + "      addresses: [10.0.0.4/30, 10.0.0.0/8, 0.0.0.0/0]\n",
			`pigw.yaml:4:19: network.interfaces[0].addresses[0]: "10.0.0.4/30" is the network address of its prefix; give the host's address, such as 10.0.0.5/30
pigw.yaml:4:32: network.interfaces[0].addresses[1]: "10.0.0.0/8" is the network address of its prefix; give the host's address, such as 10.0.0.10/8
pigw.yaml:4:44: network.interfaces[0].addresses[2]: "0.0.0.0/0" is the unspecified address; give the host's address, such as 192.168.1.10/24`,
		},
		{
			"broadcast address",
			iface + "      addresses: [192.168.1.255/24, 10.0.0.7/29]\n",
			`pigw.yaml:4:19: network.interfaces[0].addresses[0]: "192.168.1.255/24" is the broadcast address of its prefix; give the host's address, such as 192.168.1.10/24
pigw.yaml:4:37: network.interfaces[0].addresses[1]: "10.0.0.7/29" is the broadcast address of its prefix; give the host's address, such as 10.0.0.1/29`,
		},
		{
			"unspecified and multicast addresses",
			iface + "      addresses:\n        - ::/64\n        - 224.0.0.1/24\n        - ff02::1/64\n",
			`pigw.yaml:5:11: network.interfaces[0].addresses[0]: "::/64" is the unspecified address; give the host's address, such as fd00::10/64
pigw.yaml:6:11: network.interfaces[0].addresses[1]: "224.0.0.1/24" is a multicast address; give the host's address, such as 192.168.1.10/24
pigw.yaml:7:11: network.interfaces[0].addresses[2]: "ff02::1/64" is a multicast address; give the host's address, such as fd00::10/64`,
		},
		{
			"address without prefix length",
			iface + "      addresses:\n        - 192.168.1.10\n        - fd00::10\n",
			`pigw.yaml:5:11: network.interfaces[0].addresses[0]: "192.168.1.10" has no prefix length (write it as 192.168.1.10/24, say)
pigw.yaml:6:11: network.interfaces[0].addresses[1]: "fd00::10" has no prefix length (write it as fd00::10/64, say)`,
		},
		{
			"address not CIDR",
			iface + "      addresses: [192.168.1.10/33, 192.168.1/24, dhcp, \"\"]\n",
			`pigw.yaml:4:19: network.interfaces[0].addresses[0]: "192.168.1.10/33" is not an address with a prefix length (write CIDR, such as 192.168.1.10/24 or fd00::10/64)
pigw.yaml:4:36: network.interfaces[0].addresses[1]: "192.168.1/24" is not an address with a prefix length (write CIDR, such as 192.168.1.10/24 or fd00::10/64)
pigw.yaml:4:50: network.interfaces[0].addresses[2]: "dhcp" is not an address with a prefix length (write CIDR, such as 192.168.1.10/24 or fd00::10/64)
pigw.yaml:4:56: network.interfaces[0].addresses[3]: "" is not an address with a prefix length (write CIDR, such as 192.168.1.10/24 or fd00::10/64)`,
		},
		{
			"address with zone",
			iface + "      addresses: [\"fe80::10%eth0/64\"]\n",
			`pigw.yaml:4:19: network.interfaces[0].addresses[0]: "fe80::10%eth0/64": leave out the zone "eth0" (the address is on this interface)`,
		},
		{
			"address twice",
			iface + "      addresses:\n        - 192.168.1.10/24\n        - fd00::10/64\n        - 192.168.1.10/24\n        - fd00:0::10/48\n",
			`pigw.yaml:7:11: network.interfaces[0].addresses[2]: "192.168.1.10/24" is listed twice (first as addresses[0])
pigw.yaml:8:11: network.interfaces[0].addresses[3]: "fd00:0::10/48": fd00::10 is already given as addresses[1] ("fd00::10/64")`,
		},

		// gateway.
		{
			"gateway not an address",
			iface + "      addresses: [192.168.1.10/24]\n      gateway: router\n",
			`pigw.yaml:5:16: network.interfaces[0].gateway: "router" is not an IPv4 address`,
		},
		{
			"gateway IPv6",
			iface + "      addresses: [fd00::10/64]\n      gateway: fd00::1\n",
			`pigw.yaml:5:16: network.interfaces[0].gateway: "fd00::1" is an IPv6 address (give it as gateway6)`,
		},
		{
			"gateway without IPv4 addresses",
			iface + "      addresses: [fd00::10/64]\n      gateway: 192.168.1.1\n",
			`pigw.yaml:5:16: network.interfaces[0].gateway: "192.168.1.1": the interface has no IPv4 address to reach it through (give one in addresses, such as 192.168.1.10/24)`,
		},
		{
			"gateway off the link",
			iface + "      addresses: [192.168.1.10/24, 10.1.2.3/16, fd00::10/64]\n      gateway: 10.2.0.1\n",
			`pigw.yaml:5:16: network.interfaces[0].gateway: "10.2.0.1" is not inside any IPv4 prefix of the interface (192.168.1.0/24, 10.1.0.0/16); the gateway must be on the link`,
		},
		{
			"gateway own address",
			iface + "      addresses: [192.168.1.10/24]\n      gateway: 192.168.1.10\n",
			`pigw.yaml:5:16: network.interfaces[0].gateway: "192.168.1.10" is the interface's own address (addresses[0]); give the router's`,
		},
		{
			// The gateway is not blamed for a mistake in the addresses.
			"gateway with a bad address",
			iface + "      addresses: [192.168.1.0/24]\n      gateway: 192.168.1.1\n",
			`pigw.yaml:4:19: network.interfaces[0].addresses[0]: "192.168.1.0/24" is the network address of its prefix; give the host's address, such as 192.168.1.10/24`,
		},
		{
			"gateway with addresses not a list",
			iface + "      addresses: 192.168.1.10/24\n      gateway: 192.168.1.1\n",
			`pigw.yaml:4:18: network.interfaces[0].addresses: expected a list, found "192.168.1.10/24"`,
		},
		{
			"gateway6 not an address",
			iface + "      gateway6: fe80:::1\n",
			`pigw.yaml:4:17: network.interfaces[0].gateway6: "fe80:::1" is not an IPv6 address`,
		},
		{
			"gateway6 IPv4",
			iface + "      gateway6: 192.168.1.1\n",
			`pigw.yaml:4:17: network.interfaces[0].gateway6: "192.168.1.1" is an IPv4 address (give it as gateway)`,
		},
		{
			"gateway6 with zone",
			iface + "      gateway6: fe80::1%eth0\n",
			`pigw.yaml:4:17: network.interfaces[0].gateway6: "fe80::1%eth0": leave out the zone "eth0" (the route is on this interface)`,
		},
		{
			"gateway6 multicast",
			iface + "      gateway6: ff02::2\n",
			`pigw.yaml:4:17: network.interfaces[0].gateway6: "ff02::2" is a multicast address, not a router's`,
		},
		{
			"gateway6 unspecified",
			iface + "      gateway6: \"::\"\n",
			`pigw.yaml:4:17: network.interfaces[0].gateway6: "::" is the unspecified address, not a router's`,
		},
		{
			"gateway6 own address",
			iface + "      addresses: [fd00::10/64]\n      gateway6: fd00::10\n",
			`pigw.yaml:5:17: network.interfaces[0].gateway6: "fd00::10" is the interface's own address (addresses[0]); give the router's`,
		},

		// mtu and metric.
		{
			"mtu too small",
			iface + "      mtu: 67\n",
			`pigw.yaml:4:12: network.interfaces[0].mtu: 67 is out of range (0 to leave it as it is, or 68..65535)`,
		},
		{
			"mtu too large",
			iface + "      mtu: 65536\n",
			`pigw.yaml:4:12: network.interfaces[0].mtu: 65536 is out of range (0 to leave it as it is, or 68..65535)`,
		},
		{
			"mtu negative",
			iface + "      mtu: -1\n",
			`pigw.yaml:4:12: network.interfaces[0].mtu: -1 is out of range (0 to leave it as it is, or 68..65535)`,
		},
		{
			"mtu too small for IPv6",
			iface + "      addresses: [192.168.1.10/24, fd00::10/64]\n      mtu: 1279\n",
			`pigw.yaml:5:12: network.interfaces[0].mtu: 1279 is too small for the interface's IPv6 addresses (IPv6 needs 1280 at least)`,
		},
		{
			"metric negative",
			iface + "      metric: -1\n",
			`pigw.yaml:4:15: network.interfaces[0].metric: -1 is out of range (0 for the default, or 1..65535)`,
		},
		{
			"metric too large",
			iface + "      metric: 65536\n",
			`pigw.yaml:4:15: network.interfaces[0].metric: 65536 is out of range (0 for the default, or 1..65535)`,
		},

		// routes.
		{
			"route to missing",
			iface + "      routes:\n        - via: 192.168.1.1\n",
			`pigw.yaml:5:11: network.interfaces[0].routes[0].to: missing (give the destination prefix, such as 10.0.0.0/8)`,
		},
		{
			"route to not a prefix",
			iface + "      routes:\n        - to: default\n        - to: 10.0.0.0/40\n",
			`pigw.yaml:5:15: network.interfaces[0].routes[0].to: "default" is not a prefix (write CIDR, such as 10.0.0.0/8 or fd00:1::/64)
pigw.yaml:6:15: network.interfaces[0].routes[1].to: "10.0.0.0/40" is not a prefix (write CIDR, such as 10.0.0.0/8 or fd00:1::/64)`,
		},
		{
			"route to without prefix length",
			iface + "      routes:\n        - to: 10.1.2.3\n        - to: fd00:1::1\n",
			`pigw.yaml:5:15: network.interfaces[0].routes[0].to: "10.1.2.3" has no prefix length (write 10.1.2.3/32 for this one address)
pigw.yaml:6:15: network.interfaces[0].routes[1].to: "fd00:1::1" has no prefix length (write fd00:1::1/128 for this one address)`,
		},
		{
			"route to with host bits",
			iface + "      routes:\n        - to: 10.1.2.3/8\n        - to: fd00:1::1/64\n",
			`pigw.yaml:5:15: network.interfaces[0].routes[0].to: "10.1.2.3/8" has bits set after the prefix length (write 10.0.0.0/8)
pigw.yaml:6:15: network.interfaces[0].routes[1].to: "fd00:1::1/64" has bits set after the prefix length (write fd00:1::/64)`,
		},
		{
			"route via not an address",
			iface + "      routes:\n        - {to: 10.0.0.0/8, via: router}\n",
			`pigw.yaml:5:33: network.interfaces[0].routes[0].via: "router" is not an IPv4 or IPv6 address`,
		},
		{
			"route via of the other family",
			iface + "      routes:\n        - {to: 10.0.0.0/8, via: \"fd00::1\"}\n        - {to: \"fd00:1::/64\", via: 192.168.1.1}\n",
			`pigw.yaml:5:33: network.interfaces[0].routes[0].via: "fd00::1" is an IPv6 address, but to (10.0.0.0/8) is IPv4
pigw.yaml:6:36: network.interfaces[0].routes[1].via: "192.168.1.1" is an IPv4 address, but to (fd00:1::/64) is IPv6`,
		},
		{
			"route via with zone",
			iface + "      routes:\n        - {to: \"fd00:1::/64\", via: \"fe80::1%eth0\"}\n",
			`pigw.yaml:5:36: network.interfaces[0].routes[0].via: "fe80::1%eth0": leave out the zone "eth0" (the route is on this interface)`,
		},
		{
			"route via unspecified",
			iface + "      routes:\n        - {to: 10.0.0.0/8, via: 0.0.0.0}\n",
			`pigw.yaml:5:33: network.interfaces[0].routes[0].via: "0.0.0.0" is the unspecified address, not a router's`,
		},
		{
			"route metric",
			iface + "      routes:\n        - {to: 10.0.0.0/8, metric: 65536}\n        - {to: 10.0.0.0/9, metric: -1}\n",
			`pigw.yaml:5:36: network.interfaces[0].routes[0].metric: 65536 is out of range (0 for the interface's, or 1..65535)
pigw.yaml:6:36: network.interfaces[0].routes[1].metric: -1 is out of range (0 for the interface's, or 1..65535)`,
		},
		{
			"route twice",
			iface + "      routes:\n        - {to: 10.0.0.0/8, via: 192.168.1.1}\n        - {to: 10.0.0.0/8, via: 192.168.1.2, metric: 100}\n        - {to: 10.0.0.0/8, via: 192.168.1.3, metric: 101}\n",
			`pigw.yaml:6:16: network.interfaces[0].routes[1].to: "10.0.0.0/8" with metric 100 is already given by network.interfaces[0].routes[0] (line 5); give one of them another metric`,
		},
		{
			"route twice on two interfaces",
			"network:\n  interfaces:\n    - name: wlan0\n      metric: 100\n      routes: [{to: \"fd00:1::/64\"}]\n    - name: eth0\n      routes: [{to: \"fd00:1::/64\"}]\n",
			`pigw.yaml:7:21: network.interfaces[1].routes[0].to: "fd00:1::/64" with metric 100 is already given by network.interfaces[0].routes[0] (line 5); give one of them another metric`,
		},
		{
			"route is the default route of the gateway",
			iface + "      addresses: [192.168.1.10/24]\n      gateway: 192.168.1.1\n      routes:\n        - {to: 0.0.0.0/0, via: 192.168.1.2}\n",
			`pigw.yaml:7:16: network.interfaces[0].routes[0].to: "0.0.0.0/0" with metric 100 is already given by network.interfaces[0].gateway (line 5); give one of them another metric`,
		},
		{
			"two default routes with one metric",
			"network:\n  interfaces:\n    - {name: eth0, addresses: [192.168.1.10/24], gateway: 192.168.1.1}\n    - {name: eth1, addresses: [\"fd00::10/64\", 10.0.0.2/8], gateway: 10.0.0.1, gateway6: \"fd00::1\"}\n    - {name: usb0, gateway6: \"fe80::1\", metric: 100}\n",
			`pigw.yaml:4:69: network.interfaces[1].gateway: "10.0.0.1": a default route with metric 100 is already given by network.interfaces[0].gateway (line 3); give one of them another metric
pigw.yaml:5:30: network.interfaces[2].gateway6: "fe80::1": a default route with metric 100 is already given by network.interfaces[1].gateway6 (line 4); give one of them another metric`,
		},

		// dns.
		{
			"dns not an address",
			"network:\n  dns: [dns.google, 8.8.8.8:53]\n",
			`pigw.yaml:2:9: network.dns[0]: "dns.google" is not an IPv4 or IPv6 address (names are not looked up)
pigw.yaml:2:21: network.dns[1]: "8.8.8.8:53" is not an IPv4 or IPv6 address (names are not looked up)`,
		},
		{
			"dns unspecified",
			"network:\n  dns:\n    - 0.0.0.0\n    - ff02::fb\n",
			`pigw.yaml:3:7: network.dns[0]: "0.0.0.0" is the unspecified address, not a resolver's
pigw.yaml:4:7: network.dns[1]: "ff02::fb" is a multicast address, not a resolver's`,
		},
		{
			"dns twice",
			"network:\n  dns:\n    - 2001:4860:4860::8888\n    - 1.1.1.1\n    - 2001:4860:4860:0::8888\n",
			`pigw.yaml:5:7: network.dns[2]: "2001:4860:4860:0::8888" is listed twice (first as dns[0])`,
		},
		{
			"dns too many",
			"network:\n  dns: [1.1.1.1, 8.8.8.8, 9.9.9.9, 1.0.0.1]\n",
			`pigw.yaml:2:8: network.dns: 4 addresses, more than 3 (the resolver reads only the first 3)`,
		},

		// Several at once: all reported, in the order of the file.
		{
			"several",
			`system:
  hostname: my_gateway
  modules: [brcmfmac, brcmfmac]
network:
  interfaces:
    - name: eth0
      addresses: [192.168.1.0/24]
      gateway: 192.168.1.1
      mtu: 9
    - name: eth0
      gateway: 10.0.0.1
      routes:
        - {to: 10.0.0.1/8, via: "fd00::1"}
  dns: [1.1.1.1, 1.1.1.1]
  speed: 1000
`,
			`pigw.yaml:2:13: system.hostname: "my_gateway" may only hold letters, digits and '-'
pigw.yaml:3:23: system.modules[1]: "brcmfmac" is listed twice (first as modules[0])
pigw.yaml:7:19: network.interfaces[0].addresses[0]: "192.168.1.0/24" is the network address of its prefix; give the host's address, such as 192.168.1.10/24
pigw.yaml:9:12: network.interfaces[0].mtu: 9 is out of range (0 to leave it as it is, or 68..65535)
pigw.yaml:10:13: network.interfaces[1].name: "eth0" is already used by network.interfaces[0] (line 6)
pigw.yaml:11:16: network.interfaces[1].gateway: "10.0.0.1": the interface has no IPv4 address to reach it through (give one in addresses, such as 192.168.1.10/24)
pigw.yaml:13:16: network.interfaces[1].routes[0].to: "10.0.0.1/8" has bits set after the prefix length (write 10.0.0.0/8)
pigw.yaml:14:18: network.dns[1]: "1.1.1.1" is listed twice (first as dns[0])
pigw.yaml:15:3: network.speed: unknown field (known: interfaces, dns)`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) { checkParseError(t, tt.in, tt.want) })
	}
}

func TestValidateSystemNetwork(t *testing.T) {
	c := tutorialConfig()
	c.System = System{}
	c.Network = Network{Interfaces: []Interface{{Name: "eth0", Addresses: []string{"192.168.1.10/24"}}}}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if want := defaultSystem(); !reflect.DeepEqual(c.System, want) {
		t.Errorf("Validate left system %+v, want the defaults %+v", c.System, want)
	}
	if up := c.Network.Interfaces[0].Up; up == nil || !*up {
		t.Errorf("Validate left up %v, want true", up)
	}

	c.System.Hostname = "-"
	c.Network.Interfaces = append(c.Network.Interfaces, Interface{Name: "eth0", Gateway: "10.0.0.1"})
	c.Network.DNS = []string{"1.1.1.1", "dns"}
	err := c.Validate()
	want := `system.hostname: "-" may not start or end with '-'
network.interfaces[1].gateway: "10.0.0.1": the interface has no IPv4 address to reach it through (give one in addresses, such as 192.168.1.10/24)
network.interfaces[1].name: "eth0" is already used by network.interfaces[0]
network.dns[1]: "dns" is not an IPv4 or IPv6 address (names are not looked up)`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

func TestInterfaceHelpers(t *testing.T) {
	it := Interface{Name: "eth0", Addresses: []string{"192.168.1.10/24", "bad", "fd00::10/64", "10.0.0.1"}}
	want := []netip.Prefix{netip.MustParsePrefix("192.168.1.10/24"), netip.MustParsePrefix("fd00::10/64")}
	if got := it.Prefixes(); !reflect.DeepEqual(got, want) {
		t.Errorf("Prefixes() = %v, want %v", got, want)
	}
	if got := (Interface{}).Prefixes(); got != nil {
		t.Errorf("Prefixes() of no addresses = %v, want nil", got)
	}

	for _, tt := range []struct {
		name   string
		metric int
		want   int
	}{
		{"eth0", 0, 100},
		{"enp1s0", 0, 100},
		{"enx00e04c680001", 0, 100},
		{"wlan0", 0, 600},
		{"wlp2s0", 0, 600},
		{"usb0", 0, 100},
		{"", 0, 100},
		{"wlan0", 50, 50},
		{"eth0", 700, 700},
	} {
		if got := (Interface{Name: tt.name, Metric: tt.metric}).EffectiveMetric(); got != tt.want {
			t.Errorf("Interface{Name: %q, Metric: %d}.EffectiveMetric() = %d, want %d", tt.name, tt.metric, got, tt.want)
		}
	}

	n := Network{DNS: []string{"192.168.1.1", "dns.google", "2001:4860:4860::8888", "fe80::1%eth0"}}
	wantDNS := []netip.Addr{netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("2001:4860:4860::8888"), netip.MustParseAddr("fe80::1%eth0")}
	if got := n.Resolvers(); !reflect.DeepEqual(got, wantDNS) {
		t.Errorf("Resolvers() = %v, want %v", got, wantDNS)
	}
	if got := (Network{}).Resolvers(); got != nil {
		t.Errorf("Resolvers() of no dns = %v, want nil", got)
	}
}

// TestDefaultYAMLExample checks that the commented-out example at the end of
// default.yaml is valid once its comment marks are taken away.
func TestDefaultYAMLExample(t *testing.T) {
	i := strings.Index(defaultYAML, "\n# system:")
	if i < 0 {
		t.Fatal("no commented-out system: example in default.yaml")
	}
	example := regexp.MustCompile(`(?m)^# ?`).ReplaceAllString(defaultYAML[i+1:], "")
	c, err := Parse("default.yaml example", []byte(example))
	if err != nil {
		t.Fatalf("the example at the end of default.yaml:\n%s\ndoes not parse: %v", example, err)
	}
	if len(c.System.Modules) == 0 || len(c.Network.Interfaces) == 0 || len(c.Network.DNS) == 0 || !c.Wifi.Enabled() {
		t.Errorf("the example at the end of default.yaml sets too little:\n%s", example)
	}
}

func TestMDNSOn(t *testing.T) {
	for _, tt := range []struct {
		mdns         *bool
		asInit, want bool
	}{
		{nil, true, true},
		{nil, false, false},
		{ptr(true), false, true},
		{ptr(false), true, false},
	} {
		if got := (System{MDNS: tt.mdns}).MDNSOn(tt.asInit); got != tt.want {
			t.Errorf("MDNS %v, as init %v: MDNSOn = %v, want %v", tt.mdns, tt.asInit, got, tt.want)
		}
	}
}
