package config_test

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/pigw/pigw/appliance/config"
)

func ExampleParse() {
	c, err := config.Parse("pigw.yaml", []byte(`coap:
  listen: ["[::1]:5683"]
  resources:
    - uri: /sensors/temp
      media_type: application/senml+json
      attributes: {rt: temperature-c, ct: 110}
      methods: [get]
`))
	if err != nil {
		log.Fatal(err)
	}
	r := c.CoAP.Resources[0]
	fmt.Println(c.CoAP.Listen, c.CoAP.DiscoveryLeisure, c.CoAP.Limits.MaxResources)
	fmt.Println(r.URI, r.MediaType, r.Attributes, r.Methods)

	_, err = config.Parse("pigw.yaml", []byte(`coap:
  resources:
    - uri: sensors/temp
      methods: [GET, PATCH]
    - uri: sensors/temp?unit=C
`))
	fmt.Println(err)
	// Output:
	// [[::1]:5683] 5s 512
	// sensors/temp application/senml+json [{rt temperature-c} {ct 110}] [GET]
	// pigw.yaml:4:22: coap.resources[0].methods[1]: "PATCH" is not a method (GET, PUT, POST or DELETE)
	// pigw.yaml:5:12: coap.resources[1].uri: "sensors/temp?unit=C" contains "?" or "#" (a uri here is a path: no query, no fragment)
}

func ExampleDefault() {
	for _, r := range config.Default().CoAP.Resources {
		fmt.Println(r.URI, r.MediaType, r.Methods)
	}
	// Output:
	// resource1 text/plain [GET POST PUT]
	// resource2 application/xml [GET POST PUT DELETE]
}

// The client sessions of the Pycom CoAP tutorial.
func ExampleParse_sessions() {
	c, err := config.Parse("pigw.yaml", []byte(`sessions:
  - name: server1
    peer: coap://192.168.0.101
    requests:
      - {name: core, path: .well-known/core, token: session1}
      - {name: time, path: time, token: session1, every: 30s}
  - name: server2
    peer: coap://192.168.0.102:5683
    requests:
      - {path: .well-known/core}
      - {path: resource1}
      - {method: POST, path: resource1, payload: new_value}
`))
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range c.Sessions {
		scheme, host, port := s.Parsed()
		fmt.Println(s.Name, scheme, host, port)
		for _, r := range s.Requests {
			fmt.Printf("  %s: %s %q payload %q token %q every %v, CON %t\n",
				r.Name, r.Method, r.Path, r.Payload, r.TokenBytes(), r.Every, *r.Confirmable)
		}
	}

	_, err = config.Parse("pigw.yaml", []byte(`sessions:
  - name: server3
    peer: coaps://gw.example
    identity: pigw
    requests:
      - {method: ipatch, token: "123456789"}
`))
	fmt.Println(err)
	// Output:
	// server1 coap 192.168.0.101 5683
	//   core: GET ".well-known/core" payload "" token "session1" every 0s, CON true
	//   time: GET "time" payload "" token "session1" every 30s, CON true
	// server2 coap 192.168.0.102 5683
	//   r0: GET ".well-known/core" payload "" token "" every 0s, CON true
	//   r1: GET "resource1" payload "" token "" every 0s, CON true
	//   r2: POST "resource1" payload "new_value" token "" every 0s, CON true
	// pigw.yaml:2:5: sessions[0].psk: missing (a coaps:// peer needs an identity and a psk)
	// pigw.yaml:6:33: sessions[0].requests[0].token: "123456789": 9 bytes, CoAP allows at most 8
}

// A DTLS endpoint. Keys are never shown, not even by %x or JSON.
func ExampleSecret() {
	c, err := config.Parse("pigw.yaml", []byte(`coap:
  dtls:
    psk: "0x0102ab"
    keys: {alice: alicekey, bob: bobkey}
    admins: [alice]
`))
	if err != nil {
		log.Fatal(err)
	}
	d := c.CoAP.DTLS
	fmt.Println(d.Listen, d.Hint, d.Admins)
	fmt.Println(d.Keys, len(d.PSK))
	fmt.Printf("%x %q %#v\n", d.PSK, d.PSK, d.PSK)
	j, _ := json.Marshal(d.Keys[0])
	fmt.Println(string(j), []byte(d.Keys[0].Key)[0] == 'a')
	// Output:
	// [0.0.0.0:5684 [::]:5684] pigw [alice]
	// [{alice ***} {bob ***}] 3
	// *** *** ***
	// {"Identity":"alice","Key":"***"} true
}

// A Pi on WiFi: two networks, the WiFi link's address by DHCP. Keys are never
// shown, not even in errors.
func ExampleParse_wifi() {
	c, err := config.Parse("pigw.yaml", []byte(`network:
  interfaces:
    - {name: wlan0, dhcp: true}
wifi:
  country: de
  networks:
    - ssid: home
      psk: correct horse battery staple
      priority: 10
    - {ssid: workshop, psk: "shop passphrase", security: wpa3, hidden: true}
    - {ssid: cafe}
`))
	if err != nil {
		log.Fatal(err)
	}
	w := c.Wifi
	fmt.Println(w.Interface, w.Country, w.Backend, w.Enabled())
	for _, n := range w.Networks {
		fmt.Printf("  %q %s hidden %t priority %d, psk %v (%d bytes)\n", n.SSID, n.Security, n.Hidden, n.Priority, n.PSK, len(n.PSK))
	}
	i := c.Network.Interfaces[0]
	fmt.Println(i.Name, i.UsesDHCP(), i.EffectiveMetric())

	_, err = config.Parse("pigw.yaml", []byte(`wifi:
  backend: nl80211
  networks:
    - {ssid: home, psk: hunter2}
    - {ssid: workshop, psk: "shop passphrase", security: wpa3}
    - {ssid: home}
`))
	fmt.Println(err)
	// Output:
	// wlan0 DE auto true
	//   "home" wpa2 hidden false priority 10, psk *** (28 bytes)
	//   "workshop" wpa3 hidden true priority 0, psk *** (15 bytes)
	//   "cafe" open hidden false priority 0, psk *** (0 bytes)
	// wlan0 true 600
	// pigw.yaml:4:25: wifi.networks[0].psk: is 7 characters; a passphrase is 8..63 printable ASCII characters, or 64 hex digits
	// pigw.yaml:5:58: wifi.networks[1].security: "wpa3": WPA3 needs the wpa_supplicant backend, but backend is nl80211 (line 2)
	// pigw.yaml:6:14: wifi.networks[2].ssid: "home" is already used by wifi.networks[0] (line 4)
}

// Sensors and GPIO pins: a BME280 on I2C, a DS18B20 on 1-Wire, a push
// button and an LED, served as /sensors/<name> and /gpio/<name>.
func ExampleParse_sensors() {
	c, err := config.Parse("pigw.yaml", []byte(`sensors:
  - {name: room, kind: bme280}
  - {name: outside, kind: ds18b20, id: 28-0316a2794dff, interval: 1m, threshold: 0.5}
gpio:
  - {name: button, pin: BCM17, direction: in, pull: up, invert: true}
  - {name: led, pin: GPIO27, direction: out, restart: last}
`))
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range c.Sensors {
		fmt.Printf("/sensors/%s: %s", s.Name, s.Kind)
		if s.Bus != nil {
			fmt.Printf(" on /dev/i2c-%d at %#x", *s.Bus, *s.Address)
		}
		if s.ID != "" {
			fmt.Printf(" %s", s.ID)
		}
		fmt.Printf(", every %v, threshold %v\n", s.Interval, *s.Threshold)
	}
	for _, g := range c.GPIO {
		fmt.Printf("/gpio/%s: %s (%d) %s", g.Name, g.Pin, g.Number(), g.Direction)
		if g.Input() {
			fmt.Printf(", pull %s, edge %s, invert %t\n", g.Pull, g.Edge, g.Invert)
		} else {
			fmt.Printf(", initial %d, restart %s\n", *g.Initial, g.Restart)
		}
	}

	_, err = config.Parse("pigw.yaml", []byte(`sensors:
  - {name: room, kind: bme280}
  - {name: hall, kind: bmp280}
  - {name: outside, kind: ds18b20, address: 0x28}
  - {name: box, kind: bme680}
gpio:
  - {name: button, pin: GPIO17, direction: in}
  - {name: led, pin: BCM17, direction: out, pull: up}
`))
	fmt.Println(err)
	// Output:
	// /sensors/room: bme280 on /dev/i2c-1 at 0x76, every 10s, threshold 0
	// /sensors/outside: ds18b20 28-0316a2794dff, every 1m0s, threshold 0.5
	// /gpio/button: GPIO17 (17) in, pull up, edge both, invert true
	// /gpio/led: GPIO27 (27) out, initial 0, restart last
	// pigw.yaml:3:5: sensors[1].address: bus 1, address 0x76 (bmp280's default) is already used by sensors[0] (line 2)
	// pigw.yaml:4:5: sensors[2].id: missing (ds18b20 is on 1-wire: give the device's id, such as 28-0316a2794dff, or its path)
	// pigw.yaml:4:45: sensors[2].address: ds18b20 is on 1-wire: address does not apply (it takes path or id)
	// pigw.yaml:5:23: sensors[3].kind: "bme680" is not a known kind (known: bh1750, bme280, bmp280, ds18b20, lm75, sht3x, sht4x, simulated, soc, tmp102)
	// pigw.yaml:8:22: gpio[1].pin: "BCM17" (GPIO17) is already used by gpio[0] (line 7)
	// pigw.yaml:8:51: gpio[1].pull: direction is out: pull does not apply (it is for inputs)
}

// The layers of the appliance's configuration: the built-in default, a file
// baked into the image and one on the boot partition, which wins.
func ExampleLoadLayers() {
	dir, err := os.MkdirTemp("", "pigw")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	etc := filepath.Join(dir, "etc-pigw.yaml")
	boot := filepath.Join(dir, "boot-pigw.yaml")
	write := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	show := func(c *config.Config, layers []config.Layer) {
		for _, l := range layers {
			name := "built-in"
			if l.Path != "" {
				name = filepath.Base(l.Path)
			}
			// Errors name the file; here without the temporary directory.
			err := strings.ReplaceAll(fmt.Sprint(l.Err), dir+string(filepath.Separator), "")
			fmt.Printf("%s: used %t, err %s\n", name, l.Used, err)
		}
		fmt.Println(c.System.Hostname, c.CoAP.Listen, c.CoAP.DynamicResources)
		for _, r := range c.CoAP.Resources {
			fmt.Println(" ", r.URI, r.Methods)
		}
		for _, i := range c.Network.Interfaces {
			fmt.Println(" ", i.Name, i.Prefixes(), i.Gateway, i.EffectiveMetric())
		}
	}

	write(etc, "system: {hostname: kitchen}\n")
	write(boot, `coap:
  resources:
    - {uri: sensors/temp, value: "21.5", methods: [GET]}
network:
  interfaces:
    - {name: eth0, addresses: [192.168.1.10/24], gateway: 192.168.1.1}
`)
	c, layers, err := config.LoadLayers(etc, boot, filepath.Join(dir, "missing.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	show(c, layers)

	// A broken file on the boot partition is left out; the rest is used.
	write(boot, "coap:\n  resources:\n    - uri: a\n  dynamic_resource: false\n")
	c, layers, err = config.LoadLayers(etc, boot)
	if err != nil {
		log.Fatal(err)
	}
	show(c, layers)
	// Output:
	// built-in: used true, err <nil>
	// etc-pigw.yaml: used true, err <nil>
	// boot-pigw.yaml: used true, err <nil>
	// missing.yaml: used false, err <nil>
	// kitchen [0.0.0.0:5683 [::]:5683] true
	//   sensors/temp [GET]
	//   eth0 [192.168.1.10/24] 192.168.1.1 100
	// built-in: used true, err <nil>
	// etc-pigw.yaml: used true, err <nil>
	// boot-pigw.yaml: used false, err boot-pigw.yaml:4:3: coap.dynamic_resource: unknown field (known: listen, dtls, service_discovery, discovery_leisure, dynamic_resources, new_resource_details, observe, limits, resources)
	// kitchen [0.0.0.0:5683 [::]:5683] true
	//   resource1 [GET POST PUT]
	//   resource2 [GET POST PUT DELETE]
}
