package config

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/sensors"
)

// sensorsText shows the sensors and GPIO pins of c for a test failure, the
// pointers followed.
func sensorsText(c *Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sensors (nil %t):\n", c.Sensors == nil)
	for _, s := range c.Sensors {
		fmt.Fprintf(&b, "  name %q kind %q bus %v address %v path %q id %q interval %v threshold %v options %#v\n",
			s.Name, s.Kind, deref(s.Bus), deref(s.Address), s.Path, s.ID, s.Interval, deref(s.Threshold), s.Options)
	}
	fmt.Fprintf(&b, "gpio (nil %t):\n", c.GPIO == nil)
	for _, g := range c.GPIO {
		fmt.Fprintf(&b, "  name %q pin %q direction %q pull %q edge %q debounce %v initial %v restart %q invert %t\n",
			g.Name, g.Pin, g.Direction, g.Pull, g.Edge, g.Debounce, deref(g.Initial), g.Restart, g.Invert)
	}
	return b.String()
}

// i2cSensor, otherSensor, input and output are sensors and pins with the
// defaults Parse and Validate fill in.
func i2cSensor(name, kind string, bus, addr int) Sensor {
	return Sensor{Name: name, Kind: kind, Bus: ptr(bus), Address: ptr(addr), Interval: Duration(10 * time.Second), Threshold: ptr(0.0)}
}

func otherSensor(name, kind, path, id string) Sensor {
	return Sensor{Name: name, Kind: kind, Path: path, ID: id, Interval: Duration(10 * time.Second), Threshold: ptr(0.0)}
}

func input(name, pin string) GPIO {
	return GPIO{Name: name, Pin: pin, Direction: "in", Pull: "none", Edge: "both"}
}

func output(name, pin string) GPIO {
	return GPIO{Name: name, Pin: pin, Direction: "out", Initial: ptr(0), Restart: "initial"}
}

func TestParseSensors(t *testing.T) {
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
		{"without values", "sensors:\ngpio:\n", defaults()},
		{
			"empty lists",
			"sensors: []\ngpio: []\n",
			with(func(c *Config) { c.Sensors, c.GPIO = []Sensor{}, []GPIO{} }),
		},
		{
			"defaults",
			"sensors:\n  - {name: room, kind: bme280}\n  - {name: soc, kind: soc}\n  - {name: sim, kind: simulated}\n  - {name: out, kind: ds18b20, id: 28-0316a2794dff}\n",
			with(func(c *Config) {
				c.Sensors = []Sensor{
					i2cSensor("room", "bme280", 1, 0x76),
					otherSensor("soc", "soc", "", ""),
					otherSensor("sim", "simulated", "", ""),
					otherSensor("out", "ds18b20", "", "28-0316a2794dff"),
				}
			}),
		},
		{
			"everything set",
			`sensors:
  - name: room
    kind: BME280
    bus: 0
    address: 0x77
    interval: 100ms
    threshold: 0.25
    options: {}
  - {name: hall, kind: bme280, bus: 31, address: "0x76", interval: 24h, threshold: 1e-3}
  - {name: light, kind: bh1750, address: 35, threshold: 2}
  - {name: lm, kind: lm75, address: "0X4f", options: {resolution: 11}}
  - {name: lm-2, kind: lm75, address: "3", threshold: .5, options: {resolution: "9", x_1: true, empty: ""}}
  - name: out_1
    kind: ds18b20
    path: /sys/bus/w1/devices/28-0316a2794dff
    interval: 1m
  - {name: zone1, kind: soc, path: /sys/class/thermal/thermal_zone1/temp, interval: 0}
  - {name: "0", kind: simulated, options: {seed: 42}}
gpio:
  - name: button
    pin: GPIO17
    direction: in
    pull: up
    edge: rising
    debounce: 20ms
    invert: true
  - {name: sw, pin: bcm0, direction: IN, pull: Down, edge: FALLING, debounce: 1s}
  - {name: poll, pin: gpio05, direction: in, pull: none, edge: none, debounce: 0, invert: false}
  - {name: led, pin: BCM27, direction: out, initial: 1, restart: last, invert: true}
  - {name: relay, pin: Gpio26, direction: Out, initial: 0, restart: Initial}
`,
			with(func(c *Config) {
				room := i2cSensor("room", "bme280", 0, 0x77)
				room.Interval, room.Threshold, room.Options = Duration(100*time.Millisecond), ptr(0.25), map[string]string{}
				hall := i2cSensor("hall", "bme280", 31, 0x76)
				hall.Interval, hall.Threshold = Duration(24*time.Hour), ptr(0.001)
				light := i2cSensor("light", "bh1750", 1, 35)
				light.Threshold = ptr(2.0)
				lm := i2cSensor("lm", "lm75", 1, 0x4f)
				lm.Options = map[string]string{"resolution": "11"}
				lm2 := i2cSensor("lm-2", "lm75", 1, 3)
				lm2.Threshold, lm2.Options = ptr(0.5), map[string]string{"resolution": "9", "x_1": "true", "empty": ""}
				out := otherSensor("out_1", "ds18b20", "/sys/bus/w1/devices/28-0316a2794dff", "")
				out.Interval = Duration(time.Minute)
				sim := otherSensor("0", "simulated", "", "")
				sim.Options = map[string]string{"seed": "42"}
				c.Sensors = []Sensor{room, hall, light, lm, lm2, out, otherSensor("zone1", "soc", "/sys/class/thermal/thermal_zone1/temp", ""), sim}

				button := input("button", "GPIO17")
				button.Pull, button.Edge, button.Debounce, button.Invert = "up", "rising", Duration(20*time.Millisecond), true
				sw := input("sw", "GPIO0")
				sw.Pull, sw.Edge, sw.Debounce = "down", "falling", Duration(time.Second)
				poll := input("poll", "GPIO5")
				poll.Edge = "none"
				led := output("led", "GPIO27")
				led.Initial, led.Restart, led.Invert = ptr(1), "last", true
				c.GPIO = []GPIO{button, sw, poll, led, output("relay", "GPIO26")}
			}),
		},
		{
			// One address on two buses, two addresses on one bus, and
			// sensors and pins of other names.
			"same address on other buses",
			"sensors:\n  - {name: a, kind: sht3x}\n  - {name: b, kind: sht4x, bus: 3}\n  - {name: c, kind: sht3x, address: 0x45}\n  - {name: d, kind: ds18b20, id: 28-000000000001}\n  - {name: e, kind: ds18b20, id: 28-000000000001}\ngpio:\n  - {name: f, pin: GPIO4, direction: out}\n",
			with(func(c *Config) {
				c.Sensors = []Sensor{
					i2cSensor("a", "sht3x", 1, 0x44),
					i2cSensor("b", "sht4x", 3, 0x44),
					i2cSensor("c", "sht3x", 1, 0x45),
					otherSensor("d", "ds18b20", "", "28-000000000001"),
					otherSensor("e", "ds18b20", "", "28-000000000001"),
				}
				c.GPIO = []GPIO{output("f", "GPIO4")}
			}),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("pigw.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%s\nwant\n%s", sensorsText(got), sensorsText(tt.want))
			}
		})
	}
}

// TestParseErrorsSensors has a case for every rule of the sensors and gpio
// sections, each checking the whole message with its position.
func TestParseErrorsSensors(t *testing.T) {
	known := strings.Join(sensors.Kinds(), ", ")
	for _, tt := range []struct {
		name string
		in   string
		want string
	}{
		// Fields and types.
		{
			"sensors not a list",
			"sensors: {name: room}\n",
			`pigw.yaml:1:10: sensors: expected a list, found a mapping`,
		},
		{
			"sensor empty",
			"sensors:\n  -\n",
			`pigw.yaml:2:5: sensors[0]: expected a mapping with at least name: and kind:, found nothing`,
		},
		{
			"sensor not a mapping",
			"sensors: [bme280]\n",
			`pigw.yaml:1:11: sensors[0]: expected a mapping, found "bme280"`,
		},
		{
			"sensor unknown field",
			"sensors:\n  - {name: room, kind: bme280, addr: 0x76}\n",
			`pigw.yaml:2:32: sensors[0].addr: unknown field (known: name, kind, bus, address, path, id, interval, threshold, options)`,
		},
		{
			"kind not a string",
			"sensors:\n  - {name: room, kind: [bme280]}\n",
			`pigw.yaml:2:24: sensors[0].kind: expected a string, found a list`,
		},
		{
			"bus not an integer",
			"sensors:\n  - {name: room, kind: bme280, bus: i2c-1}\n",
			`pigw.yaml:2:37: sensors[0].bus: "i2c-1" is not an integer`,
		},
		{
			"address not an address",
			"sensors:\n  - {name: a, kind: bme280, address: 0x7g}\n  - {name: b, kind: bme280, address: \"-1\"}\n  - {name: c, kind: bme280, address: 1.5}\n  - {name: d, kind: bme280, address: [0x76]}\n",
			`pigw.yaml:2:38: sensors[0].address: "0x7g" is not an I2C address (write it in hex, such as 0x76, or in decimal)
pigw.yaml:3:38: sensors[1].address: "-1" is not an I2C address (write it in hex, such as 0x76, or in decimal)
pigw.yaml:4:38: sensors[2].address: 1.5 is not an I2C address (write it in hex, such as 0x76, or in decimal)
pigw.yaml:5:38: sensors[3].address: expected an I2C address (write it in hex, such as 0x76, or in decimal), found a list`,
		},
		{
			"threshold not a number",
			"sensors:\n  - {name: a, kind: soc, threshold: high}\n  - {name: b, kind: soc, threshold: \"0.5\"}\n",
			`pigw.yaml:2:37: sensors[0].threshold: "high" is not a number
pigw.yaml:3:37: sensors[1].threshold: "0.5" is not a number`,
		},
		{
			"interval not a duration",
			"sensors:\n  - {name: a, kind: soc, interval: 10}\n",
			`pigw.yaml:2:36: sensors[0].interval: 10 is not a duration (use a number with a unit, such as 200ms, 5s or 1h)`,
		},
		{
			"options not a mapping",
			"sensors:\n  - {name: a, kind: lm75, options: [resolution]}\n",
			`pigw.yaml:2:36: sensors[0].options: expected a mapping of names to values, such as {resolution: 11}, found a list`,
		},
		{
			"option not a scalar",
			"sensors:\n  - {name: a, kind: lm75, options: {resolution: [11]}}\n",
			`pigw.yaml:2:49: sensors[0].options.resolution: expected a text, number or boolean, found a list`,
		},

		// name.
		{
			"name missing",
			"sensors:\n  - {kind: bme280}\n",
			`pigw.yaml:2:5: sensors[0].name: missing (give a name such as temp; the sensor is served as /sensors/<name>)`,
		},
		{
			"name not a-z, 0-9, _ and -",
			"sensors:\n  - {name: Room, kind: bme280}\n  - {name: a/b, kind: soc}\n",
			`pigw.yaml:2:12: sensors[0].name: "Room" may only hold a-z, 0-9, '_' and '-'
pigw.yaml:3:12: sensors[1].name: "a/b" may only hold a-z, 0-9, '_' and '-'`,
		},
		{
			"name too long",
			"sensors:\n  - {name: " + strings.Repeat("n", 33) + ", kind: soc}\n",
			`pigw.yaml:2:12: sensors[0].name: "` + strings.Repeat("n", 33) + `" is 33 bytes long, more than 32`,
		},
		{
			"name twice",
			"sensors:\n  - {name: room, kind: bme280}\n  - {name: soc, kind: soc}\n  - {name: room, kind: soc}\n",
			`pigw.yaml:4:12: sensors[2].name: "room" is already used by sensors[0] (line 2)`,
		},
		{
			"name of a sensor and a pin",
			"sensors:\n  - {name: door, kind: soc}\ngpio:\n  - {name: door, pin: GPIO17, direction: in}\n",
			`pigw.yaml:4:12: gpio[0].name: "door" is already used by sensors[0] (line 2)`,
		},

		// kind.
		{
			"kind missing",
			"sensors:\n  - {name: room}\n",
			`pigw.yaml:2:5: sensors[0].kind: missing (give the sensor's kind, one of ` + known + `)`,
		},
		{
			"kind not known",
			"sensors:\n  - {name: room, kind: bme680}\n",
			`pigw.yaml:2:24: sensors[0].kind: "bme680" is not a known kind (known: ` + known + `)`,
		},

		// Fields that do not apply to the kind's bus.
		{
			"path and id on i2c",
			"sensors:\n  - {name: a, kind: bme280, path: /dev/i2c-1, id: 28-0316a2794dff}\n",
			`pigw.yaml:2:35: sensors[0].path: bme280 is on i2c: path does not apply (it takes bus and address)
pigw.yaml:2:51: sensors[0].id: bme280 is on i2c: id does not apply (it takes bus and address)`,
		},
		{
			"bus and address on 1-wire",
			"sensors:\n  - {name: a, kind: ds18b20, id: 28-0316a2794dff, bus: 1, address: 0x28}\n",
			`pigw.yaml:2:56: sensors[0].bus: ds18b20 is on 1-wire: bus does not apply (it takes path or id)
pigw.yaml:2:68: sensors[0].address: ds18b20 is on 1-wire: address does not apply (it takes path or id)`,
		},
		{
			"bus, address and id on sysfs",
			"sensors:\n  - {name: a, kind: soc, bus: 1, address: 0x48, id: 28-0316a2794dff}\n",
			`pigw.yaml:2:31: sensors[0].bus: soc is read from sysfs: bus does not apply (it takes path)
pigw.yaml:2:43: sensors[0].address: soc is read from sysfs: address does not apply (it takes path)
pigw.yaml:2:53: sensors[0].id: soc is read from sysfs: id does not apply (it takes path)`,
		},
		{
			"everything on none",
			"sensors:\n  - {name: a, kind: simulated, bus: 99, address: 0x48, path: rel, id: x}\n",
			`pigw.yaml:2:37: sensors[0].bus: simulated has no bus: bus does not apply
pigw.yaml:2:50: sensors[0].address: simulated has no bus: address does not apply
pigw.yaml:2:62: sensors[0].path: simulated has no bus: path does not apply
pigw.yaml:2:71: sensors[0].id: simulated has no bus: id does not apply`,
		},

		// bus and address.
		{
			"bus out of range",
			"sensors:\n  - {name: a, kind: bme280, bus: 32}\n  - {name: b, kind: bme280, bus: -1}\n",
			`pigw.yaml:2:34: sensors[0].bus: 32 is out of range (0..31, the N of /dev/i2c-N)
pigw.yaml:3:34: sensors[1].bus: -1 is out of range (0..31, the N of /dev/i2c-N)`,
		},
		{
			"address out of range",
			"sensors:\n  - {name: a, kind: bme280, address: 0x78}\n  - {name: b, kind: bme280, address: 2}\n  - {name: c, kind: bme280, address: \"0x100\"}\n",
			`pigw.yaml:2:38: sensors[0].address: 0x78 is out of range (0x03..0x77; the other 7-bit addresses are reserved)
pigw.yaml:3:38: sensors[1].address: 0x02 is out of range (0x03..0x77; the other 7-bit addresses are reserved)
pigw.yaml:4:38: sensors[2].address: 0x100 is out of range (0x03..0x77; the other 7-bit addresses are reserved)`,
		},
		{
			"address twice on a bus",
			"sensors:\n  - {name: a, kind: bme280, address: 0x77}\n  - {name: b, kind: bmp280, bus: 1, address: 119}\n",
			`pigw.yaml:3:46: sensors[1].address: bus 1, address 0x77 is already used by sensors[0] (line 2)`,
		},
		{
			"default address twice on a bus",
			"sensors:\n  - {name: a, kind: bme280, bus: 2}\n  - {name: b, kind: lm75}\n  - {name: c, kind: bmp280, bus: 2}\n",
			`pigw.yaml:4:5: sensors[2].address: bus 2, address 0x76 (bmp280's default) is already used by sensors[0] (line 2)`,
		},

		// path and id.
		{
			"path not absolute",
			"sensors:\n  - {name: a, kind: ds18b20, path: sys/bus/w1/devices/28-0316a2794dff}\n  - {name: b, kind: soc, path: thermal_zone1}\n",
			`pigw.yaml:2:36: sensors[0].path: "sys/bus/w1/devices/28-0316a2794dff" is not an absolute path (give it from /, such as /sys/bus/w1/devices/28-0316a2794dff)
pigw.yaml:3:32: sensors[1].path: "thermal_zone1" is not an absolute path (give it from /, such as /sys/class/thermal/thermal_zone0)`,
		},
		{
			"path with a control character",
			"sensors:\n  - {name: a, kind: soc, path: \"/sys/a\\nb\"}\n",
			`pigw.yaml:2:32: sensors[0].path: "/sys/a\nb" contains a control character`,
		},
		{
			"id not a 1-Wire id",
			"sensors:\n  - {name: a, kind: ds18b20, id: 28-0316A2794DFF}\n  - {name: b, kind: ds18b20, id: 280316a2794dff}\n  - {name: c, kind: ds18b20, id: 28-0316a2794d}\n",
			`pigw.yaml:2:34: sensors[0].id: "28-0316A2794DFF" is not a 1-Wire device id (the family code, '-' and 12 hex digits, in lower case, as under /sys/bus/w1/devices, such as 28-0316a2794dff)
pigw.yaml:3:34: sensors[1].id: "280316a2794dff" is not a 1-Wire device id (the family code, '-' and 12 hex digits, in lower case, as under /sys/bus/w1/devices, such as 28-0316a2794dff)
pigw.yaml:4:34: sensors[2].id: "28-0316a2794d" is not a 1-Wire device id (the family code, '-' and 12 hex digits, in lower case, as under /sys/bus/w1/devices, such as 28-0316a2794dff)`,
		},
		{
			"1-wire without id or path",
			"sensors:\n  - {name: a, kind: ds18b20, interval: 1m}\n",
			`pigw.yaml:2:5: sensors[0].id: missing (ds18b20 is on 1-wire: give the device's id, such as 28-0316a2794dff, or its path)`,
		},
		{
			"1-wire with id and path",
			"sensors:\n  - name: a\n    kind: ds18b20\n    path: /sys/bus/w1/devices/28-0316a2794dff\n    id: 28-0316a2794dff\n",
			`pigw.yaml:5:9: sensors[0].id: "28-0316a2794dff": give id or path, not both; path is given too (line 4)`,
		},

		// interval and threshold.
		{
			"interval out of range",
			"sensors:\n  - {name: a, kind: soc, interval: 99ms}\n  - {name: b, kind: soc, interval: 25h}\n",
			`pigw.yaml:2:36: sensors[0].interval: 99ms is out of range (0s for the default, 10s, or 100ms..24h0m0s)
pigw.yaml:3:36: sensors[1].interval: 25h0m0s is out of range (0s for the default, 10s, or 100ms..24h0m0s)`,
		},
		{
			"threshold negative",
			"sensors:\n  - {name: a, kind: soc, threshold: -0.5}\n",
			`pigw.yaml:2:37: sensors[0].threshold: -0.5 is negative (a threshold is 0 or more; 0 notifies every change)`,
		},
		{
			"threshold not finite",
			"sensors:\n  - {name: a, kind: soc, threshold: .inf}\n  - {name: b, kind: soc, threshold: .nan}\n",
			`pigw.yaml:2:37: sensors[0].threshold: +Inf is not a finite number
pigw.yaml:3:37: sensors[1].threshold: NaN is not a finite number`,
		},

		// options.
		{
			"option name",
			"sensors:\n  - {name: a, kind: lm75, options: {Resolution: 11, bit-depth: 9}}\n",
			`pigw.yaml:2:37: sensors[0].options.Resolution: option name "Resolution" may only hold a-z, 0-9 and '_'
pigw.yaml:2:53: sensors[0].options.bit-depth: option name "bit-depth" may only hold a-z, 0-9 and '_'`,
		},
		{
			"options addr and id",
			"sensors:\n  - {name: a, kind: lm75, options: {addr: 0x49}}\n  - {name: b, kind: ds18b20, path: /x, options: {id: 28-0316a2794dff}}\n",
			`pigw.yaml:2:37: sensors[0].options.addr: "addr": give the I2C address as address:, not as an option
pigw.yaml:3:50: sensors[1].options.id: "id": give the 1-Wire device's id as id:, not as an option`,
		},

		// gpio: fields and types.
		{
			"gpio not a list",
			"gpio: {name: led}\n",
			`pigw.yaml:1:7: gpio: expected a list, found a mapping`,
		},
		{
			"pin empty",
			"gpio:\n  -\n",
			`pigw.yaml:2:5: gpio[0]: expected a mapping with at least name:, pin: and direction:, found nothing`,
		},
		{
			"pin unknown field",
			"gpio:\n  - {name: led, pin: GPIO27, direction: out, active_low: true}\n",
			`pigw.yaml:2:46: gpio[0].active_low: unknown field (known: name, pin, direction, pull, edge, debounce, initial, restart, invert)`,
		},
		{
			"invert not a boolean",
			"gpio:\n  - {name: led, pin: GPIO27, direction: out, invert: yes}\n",
			`pigw.yaml:2:54: gpio[0].invert: "yes" is not a boolean (use true or false)`,
		},
		{
			"initial not an integer",
			"gpio:\n  - {name: led, pin: GPIO27, direction: out, initial: high}\n",
			`pigw.yaml:2:55: gpio[0].initial: "high" is not an integer`,
		},
		{
			"debounce not a duration",
			"gpio:\n  - {name: b, pin: GPIO17, direction: in, debounce: 20}\n",
			`pigw.yaml:2:53: gpio[0].debounce: 20 is not a duration (use a number with a unit, such as 200ms, 5s or 1h)`,
		},

		// gpio: name.
		{
			"pin name missing",
			"gpio:\n  - {pin: GPIO27, direction: out}\n",
			`pigw.yaml:2:5: gpio[0].name: missing (give a name such as button; the pin is served as /gpio/<name>)`,
		},
		{
			"pin name",
			"gpio:\n  - {name: LED, pin: GPIO27, direction: out}\n",
			`pigw.yaml:2:12: gpio[0].name: "LED" may only hold a-z, 0-9, '_' and '-'`,
		},
		{
			"pin name twice",
			"gpio:\n  - {name: led, pin: GPIO27, direction: out}\n  - {name: led, pin: GPIO22, direction: out}\n",
			`pigw.yaml:3:12: gpio[1].name: "led" is already used by gpio[0] (line 2)`,
		},

		// gpio: pin.
		{
			"pin missing",
			"gpio:\n  - {name: led, direction: out}\n",
			`pigw.yaml:2:5: gpio[0].pin: missing (give the pin's BCM number, such as GPIO17)`,
		},
		{
			"pin a bare number",
			"gpio:\n  - {name: led, pin: 17, direction: out}\n",
			`pigw.yaml:2:22: gpio[0].pin: "17": write the BCM number as GPIO17 (a bare number could be the header's pin number)`,
		},
		{
			"pin not a pin",
			"gpio:\n  - {name: a, pin: P1-11, direction: out}\n  - {name: b, pin: GPIO, direction: out}\n  - {name: c, pin: GPIO-1, direction: out}\n",
			`pigw.yaml:2:20: gpio[0].pin: "P1-11" is not a pin (write its BCM number as GPIO17 or BCM17)
pigw.yaml:3:20: gpio[1].pin: "GPIO" is not a pin (write its BCM number as GPIO17 or BCM17)
pigw.yaml:4:20: gpio[2].pin: "GPIO-1" is not a pin (write its BCM number as GPIO17 or BCM17)`,
		},
		{
			"pin not on the header",
			"gpio:\n  - {name: a, pin: GPIO28, direction: out}\n  - {name: b, pin: BCM99999999999999999999, direction: out}\n",
			`pigw.yaml:2:20: gpio[0].pin: "GPIO28" is not on the Pi's header (GPIO0..GPIO27)
pigw.yaml:3:20: gpio[1].pin: "BCM99999999999999999999" is not on the Pi's header (GPIO0..GPIO27)`,
		},
		{
			"pin twice",
			"gpio:\n  - {name: a, pin: GPIO17, direction: in}\n  - {name: b, pin: GPIO17, direction: out}\n  - {name: c, pin: bcm17, direction: in}\n",
			`pigw.yaml:3:20: gpio[1].pin: "GPIO17" is already used by gpio[0] (line 2)
pigw.yaml:4:20: gpio[2].pin: "bcm17" (GPIO17) is already used by gpio[0] (line 2)`,
		},

		// gpio: direction.
		{
			"direction missing",
			"gpio:\n  - {name: led, pin: GPIO27}\n",
			`pigw.yaml:2:5: gpio[0].direction: missing (give in or out)`,
		},
		{
			"direction",
			"gpio:\n  - {name: led, pin: GPIO27, direction: output}\n",
			`pigw.yaml:2:41: gpio[0].direction: "output" is not a direction (in or out)`,
		},

		// gpio: inputs.
		{
			"pull",
			"gpio:\n  - {name: b, pin: GPIO17, direction: in, pull: high}\n",
			`pigw.yaml:2:49: gpio[0].pull: "high" is not a pull (up, down or none)`,
		},
		{
			"edge",
			"gpio:\n  - {name: b, pin: GPIO17, direction: in, edge: up}\n",
			`pigw.yaml:2:49: gpio[0].edge: "up" is not an edge (both, rising, falling or none)`,
		},
		{
			"debounce out of range",
			"gpio:\n  - {name: b, pin: GPIO17, direction: in, debounce: 1001ms}\n",
			`pigw.yaml:2:53: gpio[0].debounce: 1.001s is out of range (0s..1s)`,
		},
		{
			"output-only fields on an input",
			"gpio:\n  - {name: b, pin: GPIO17, direction: in, initial: 0, restart: initial}\n",
			`pigw.yaml:2:52: gpio[0].initial: direction is in: initial does not apply (it is for outputs)
pigw.yaml:2:64: gpio[0].restart: direction is in: restart does not apply (it is for outputs)`,
		},

		// gpio: outputs.
		{
			"initial",
			"gpio:\n  - {name: led, pin: GPIO27, direction: out, initial: 2}\n  - {name: led2, pin: GPIO22, direction: out, initial: -1}\n",
			`pigw.yaml:2:55: gpio[0].initial: 2 is not a level (0 or 1)
pigw.yaml:3:56: gpio[1].initial: -1 is not a level (0 or 1)`,
		},
		{
			"restart",
			"gpio:\n  - {name: led, pin: GPIO27, direction: out, restart: previous}\n",
			`pigw.yaml:2:55: gpio[0].restart: "previous" is not a restart level (initial or last)`,
		},
		{
			"input-only fields on an output",
			"gpio:\n  - {name: led, pin: GPIO27, direction: out, pull: up, edge: both, debounce: 5ms}\n",
			`pigw.yaml:2:52: gpio[0].pull: direction is out: pull does not apply (it is for inputs)
pigw.yaml:2:62: gpio[0].edge: direction is out: edge does not apply (it is for inputs)
pigw.yaml:2:78: gpio[0].debounce: direction is out: debounce does not apply (it is for inputs)`,
		},

		// Several at once: all reported, in the order of the file; a field
		// that failed to decode is not also reported by the rules.
		{
			"several",
			`gpio:
  - {name: led, pin: GPIO4, direction: out, edge: rising}
sensors:
  - name: room
    kind: bme280
    address: [0x76]
  - name: room
    kind: ds18b20
  - {name: led, kind: sht3x, threshold: -1}
  - {name: x, kind: lm75, bus: 1, address: 0x44}
  - name: y
    kind: [soc]
    id: x
`,
			`pigw.yaml:2:51: gpio[0].edge: direction is out: edge does not apply (it is for inputs)
pigw.yaml:6:14: sensors[0].address: expected an I2C address (write it in hex, such as 0x76, or in decimal), found a list
pigw.yaml:7:5: sensors[1].id: missing (ds18b20 is on 1-wire: give the device's id, such as 28-0316a2794dff, or its path)
pigw.yaml:7:11: sensors[1].name: "room" is already used by sensors[0] (line 4)
pigw.yaml:9:12: sensors[2].name: "led" is already used by gpio[0] (line 2)
pigw.yaml:9:41: sensors[2].threshold: -1 is negative (a threshold is 0 or more; 0 notifies every change)
pigw.yaml:10:44: sensors[3].address: bus 1, address 0x44 is already used by sensors[2] (line 9)
pigw.yaml:12:11: sensors[4].kind: expected a string, found a list
pigw.yaml:13:9: sensors[4].id: "x" is not a 1-Wire device id (the family code, '-' and 12 hex digits, in lower case, as under /sys/bus/w1/devices, such as 28-0316a2794dff)`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) { checkParseError(t, tt.in, tt.want) })
	}
}

func TestValidateSensors(t *testing.T) {
	c := tutorialConfig()
	c.Sensors = []Sensor{
		{Name: "room", Kind: "BME280"},
		{Name: "hall", Kind: "bmp280", Address: ptr(0x77), Threshold: ptr(0.5), Interval: Duration(time.Minute)},
		{Name: "out", Kind: "ds18b20", ID: "28-0316a2794dff", Options: map[string]string{}},
		{Name: "soc", Kind: "soc", Path: "/sys/class/thermal/thermal_zone1"},
	}
	c.GPIO = []GPIO{
		{Name: "button", Pin: "bcm17", Direction: "IN", Edge: "Rising", Invert: true},
		{Name: "led", Pin: "gpio27", Direction: "out", Restart: "LAST"},
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	hall := i2cSensor("hall", "bmp280", 1, 0x77)
	hall.Threshold, hall.Interval = ptr(0.5), Duration(time.Minute)
	out := otherSensor("out", "ds18b20", "", "28-0316a2794dff")
	out.Options = map[string]string{}
	button := input("button", "GPIO17")
	button.Edge, button.Invert = "rising", true
	led := output("led", "GPIO27")
	led.Restart = "last"
	want := &Config{
		Sensors: []Sensor{i2cSensor("room", "bme280", 1, 0x76), hall, out, otherSensor("soc", "soc", "/sys/class/thermal/thermal_zone1", "")},
		GPIO:    []GPIO{button, led},
	}
	if !reflect.DeepEqual(c.Sensors, want.Sensors) || !reflect.DeepEqual(c.GPIO, want.GPIO) {
		t.Errorf("Validate left\n%s\nwant\n%s", sensorsText(c), sensorsText(want))
	}
	if n := c.GPIO[0].Number(); n != 17 || !c.GPIO[0].Input() || c.GPIO[1].Input() {
		t.Errorf("GPIO %+v: Number() = %d, Input() = %t; want 17, true", c.GPIO[0], n, c.GPIO[0].Input())
	}

	// Errors name the fields, without positions, in the order of the
	// rules, and option names in order.
	c.Sensors = []Sensor{
		{Name: "room", Kind: "bme280", Address: ptr(0x76)},
		{Name: "room2", Kind: "bmp280", Threshold: ptr(math.Inf(-1)), Options: map[string]string{"z": "1", "": "x", "id": "y"}},
		{Name: "sim", Kind: "simulated", Interval: Duration(-time.Second)},
	}
	c.GPIO = []GPIO{{Name: "sim", Pin: "GPIO3", Direction: "out", Debounce: Duration(time.Millisecond), Initial: ptr(1)}}
	err := c.Validate()
	wantErr := `sensors[1].threshold: -Inf is not a finite number
sensors[1].options[""]: an option name may not be empty
sensors[1].options.id: "id": give the 1-Wire device's id as id:, not as an option
sensors[1].address: bus 1, address 0x76 (bmp280's default) is already used by sensors[0]
sensors[2].interval: -1s is out of range (0s for the default, 10s, or 100ms..24h0m0s)
gpio[0].debounce: direction is out: debounce does not apply (it is for inputs)
gpio[0].name: "sim" is already used by sensors[2]`
	if err == nil || err.Error() != wantErr {
		t.Errorf("Validate() = %v\nwant %s", err, wantErr)
	}
}

func TestGPIONumber(t *testing.T) {
	for _, tt := range []struct {
		pin  string
		want int
	}{
		{"GPIO0", 0}, {"GPIO17", 17}, {"BCM27", 27}, {"gpio04", 4}, {"bcm5", 5},
		{"GPIO28", -1}, {"17", -1}, {"", -1}, {"GPIO", -1}, {"GPIO+1", -1}, {"P1-11", -1},
	} {
		if got := (GPIO{Pin: tt.pin}).Number(); got != tt.want {
			t.Errorf("Number() of %q = %d, want %d", tt.pin, got, tt.want)
		}
	}
}

// TestRedactedSensors checks that sensors and pins come back from Redacted
// as they were.
func TestRedactedSensors(t *testing.T) {
	c, err := Parse("pigw.yaml", []byte(`sensors:
  - {name: room, kind: bme280, address: "0x77", threshold: 0.5}
  - {name: lm, kind: lm75, options: {resolution: 11, z: "", a: true}}
  - {name: out, kind: ds18b20, id: 28-0316a2794dff, interval: 1m}
  - {name: soc, kind: soc, path: /sys/class/thermal/thermal_zone0}
  - {name: sim, kind: simulated}
gpio:
  - {name: button, pin: BCM17, direction: in, pull: up, debounce: 20ms, invert: true}
  - {name: led, pin: GPIO27, direction: out, initial: 1, restart: last}
`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Redacted()
	if err != nil {
		t.Fatalf("Redacted: %v", err)
	}
	if !strings.Contains(string(b), "    options:\n      a: \"true\"\n      resolution: \"11\"\n      z: \"\"\n") {
		t.Errorf("Redacted does not show the options sorted by name:\n%s", b)
	}
	got, err := Parse("redacted.yaml", b)
	if err != nil {
		t.Fatalf("Parse of Redacted:\n%s\nfails: %v", b, err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("Parse of Redacted =\n%s\nwant\n%s\nRedacted:\n%s", sensorsText(got), sensorsText(c), b)
	}
}

// TestDefaultYAMLSensorsExample checks that the commented-out sensors and
// gpio example in default.yaml is valid once its comment marks are taken
// away.
func TestDefaultYAMLSensorsExample(t *testing.T) {
	i := strings.Index(defaultYAML, "\n# sensors:")
	if i < 0 {
		t.Fatal("no commented-out sensors: example in default.yaml")
	}
	block, _, _ := strings.Cut(defaultYAML[i+1:], "\n\n")
	example := regexp.MustCompile(`(?m)^# ?`).ReplaceAllString(block, "")
	c, err := Parse("default.yaml example", []byte(example))
	if err != nil {
		t.Fatalf("the sensors example of default.yaml:\n%s\ndoes not parse: %v", example, err)
	}
	kinds := map[string]bool{}
	for _, s := range c.Sensors {
		kinds[s.Kind] = true
	}
	ins := 0
	for _, g := range c.GPIO {
		if g.Input() {
			ins++
		}
	}
	if !kinds["bme280"] || !kinds["ds18b20"] || ins != 1 || len(c.GPIO) != 2 {
		t.Errorf("the sensors example of default.yaml does not have a bme280, a ds18b20, an input and an output:\n%s", example)
	}
}

func TestBusModules(t *testing.T) {
	for _, tc := range []struct {
		sensors string
		want    []string
	}{
		{"[]", nil},
		{"[{name: a, kind: soc}, {name: b, kind: simulated}]", nil},
		{"[{name: a, kind: bme280}, {name: b, kind: lm75, address: 0x48}]", []string{"i2c-dev"}},
		{"[{name: a, kind: ds18b20, id: 28-0316a2794dff}]", []string{"w1-gpio", "w1-therm"}},
		{"[{name: a, kind: ds18b20, id: 28-0316a2794dff}, {name: b, kind: sht4x}]", []string{"i2c-dev", "w1-gpio", "w1-therm"}},
	} {
		c, err := Parse("pigw.yaml", []byte("sensors: "+tc.sensors+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.BusModules(); !slices.Equal(got, tc.want) {
			t.Errorf("sensors %s: BusModules %q, want %q", tc.sensors, got, tc.want)
		}
	}
}
