package appliance

import (
	"reflect"
	"testing"

	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/network"
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

// TestNetworkConfigPatterns: what the network subsystem gets from a section with patterns. A
// pattern's metric stays 0 unless given (each link's then goes by its own name), and the WiFi
// link gets DHCP of its own only when no entry names or matches it.
func TestNetworkConfigPatterns(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     []network.Interface
	}{
		{"the image's", imageNetwork + "wifi: {interface: wlan0}\n", []network.Interface{
			{Name: "eth*", Up: true, DHCP: true}, {Name: "en*", Up: true, DHCP: true}, {Name: "usb*", Up: true, DHCP: true},
			{Name: "wlan0", Up: true, DHCP: true, Metric: 600}}},
		{"the image's without wlan0, with WiFi",
			"network:\n  interfaces: [{name: \"eth*\", dhcp: true}, {name: \"usb*\", dhcp: true, metric: 200, mtu: 1400}]\nwifi: {networks: [{ssid: x}]}\n",
			[]network.Interface{{Name: "eth*", Up: true, DHCP: true}, {Name: "usb*", Up: true, DHCP: true, Metric: 200, MTU: 1400},
				{Name: "wlan0", Up: true, DHCP: true, Metric: 600}}},
		{"WiFi matched by a pattern",
			"network:\n  interfaces: [{name: \"*\", dhcp: true}]\nwifi: {networks: [{ssid: x}]}\n",
			[]network.Interface{{Name: "*", Up: true, DHCP: true}}},
		{"WiFi matched by a pattern without DHCP",
			"network:\n  interfaces: [{name: \"wlan?\", mtu: 1400}, {name: \"*\", dhcp: true}]\nwifi: {networks: [{ssid: x}]}\n",
			[]network.Interface{{Name: "wlan?", Up: true, MTU: 1400}, {Name: "*", Up: true, DHCP: true}}},
		{"WiFi listed",
			"network:\n  interfaces: [{name: wlan0, metric: 7, dhcp: true}, {name: \"wl*\", dhcp: true}]\nwifi: {networks: [{ssid: x}]}\n",
			[]network.Interface{{Name: "wlan0", Up: true, DHCP: true, Metric: 7}, {Name: "wl*", Up: true, DHCP: true}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse("pigw.yaml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := networkConfig(c, "").Interfaces; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("networkConfig interfaces\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}
