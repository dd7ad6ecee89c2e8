package image

import (
	"reflect"
	"testing"

	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/network"
)

// TestEtcConfigNetwork: the image's /etc/pigw.yaml gives DHCP to any wired link, whatever the
// kernel names it (usb0 is the Ethernet of an emulated Pi 3 B and of USB adapters), and to
// the WiFi; other links are left alone.
func TestEtcConfigNetwork(t *testing.T) {
	c, err := config.Parse("/etc/pigw.yaml", []byte(etcConfig([]string{"brcmfmac"})))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range c.Network.Interfaces {
		if !it.UsesDHCP() || it.Up == nil || !*it.Up {
			t.Errorf("%s: up %v, dhcp %v; want both true", it.Name, it.Up, it.DHCP)
		}
		names = append(names, it.Name)
	}
	for link, want := range map[string]string{
		"eth0": "eth*", "eth1": "eth*", "usb0": "usb*", "enx00e04c680001": "en*", "end0": "en*", "enp1s0u1": "en*",
		"wlan0": "wlan0", "wlan1": "", "lo": "", "wwan0": "", "sit0": "",
	} {
		got := ""
		if i := network.Choose(names, link); i >= 0 {
			got = names[i]
		}
		if got != want {
			t.Errorf("link %s is configured by %q, want %q (interfaces %q)", link, got, want, names)
		}
	}
}

// TestBootConfigFile: a user's pigw.yaml goes on the boot partition after the YAML language
// server's modeline, unless it has one of its own, and reads as it did.
func TestBootConfigFile(t *testing.T) {
	user := []byte("wifi:\n  networks: [{ssid: home, psk: \"correct horse\"}]\n")
	got := bootConfigFile(user)
	if want := "# yaml-language-server: $schema=pigw.schema.json\n" + string(user); string(got) != want {
		t.Errorf("boot pigw.yaml\n%s\nwant\n%s", got, want)
	}
	a, errA := config.Parse("user.yaml", user)
	b, errB := config.Parse("boot.yaml", got)
	if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
		t.Errorf("the file with the modeline reads otherwise: %v, %v", errA, errB)
	}
	own := []byte("# yaml-language-server: $schema=https://example.org/pigw.schema.json\ncoap: {}\n")
	if got := bootConfigFile(own); string(got) != string(own) {
		t.Errorf("a file with its own modeline got another:\n%s", got)
	}
}
