package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestLwM2MSection(t *testing.T) {
	if got := Default().LwM2M; !reflect.DeepEqual(got, lwm2mDefaults()) {
		t.Errorf("Default().LwM2M = %+v, want %+v", got, lwm2mDefaults())
	}
	with := func(f func(l *LwM2M)) LwM2M {
		l := lwm2mDefaults()
		f(&l)
		return l
	}
	for _, tt := range []struct {
		name, yaml string
		want       LwM2M
	}{
		{"absent", "coap: {}\n", lwm2mDefaults()},
		{"without value", "lwm2m:\n", lwm2mDefaults()},
		{"empty mapping", "lwm2m: {}\n", lwm2mDefaults()},
		{"keys without values", "lwm2m:\n  server:\n  identity:\n  psk:\n  endpoint:\n  lifetime:\n  binding:\n  objects:\n  short_server_id:\n",
			lwm2mDefaults()},
		{"empty and zero", "lwm2m: {server: \"\", identity: \"\", endpoint: \"\", lifetime: 0, binding: \"\", short_server_id: 0}\n",
			lwm2mDefaults()},
		{"coap", "lwm2m: {server: coap://leshan.example.org}\n",
			with(func(l *LwM2M) { l.Server = "coap://leshan.example.org" })},
		{"coaps with keys", "lwm2m: {server: \"COAPS://[2001:db8::1]:5784\", identity: pigw, psk: \"0x0102ab\"}\n",
			with(func(l *LwM2M) { l.Server, l.Identity, l.PSK = "COAPS://[2001:db8::1]:5784", "pigw", Secret{1, 2, 0xab} })},
		{"keys kept while off", "lwm2m: {identity: pigw, psk: k}\n",
			with(func(l *LwM2M) { l.Identity, l.PSK = "pigw", Secret("k") })},
		{"endpoint", "lwm2m: {endpoint: \"urn:dev:Pigw_kitchen-1.2\"}\n",
			with(func(l *LwM2M) { l.Endpoint = "urn:dev:Pigw_kitchen-1.2" })},
		{"endpoint of 63", "lwm2m: {endpoint: " + strings.Repeat("e", 63) + "}\n",
			with(func(l *LwM2M) { l.Endpoint = strings.Repeat("e", 63) })},
		{"endpoint a number", "lwm2m: {endpoint: 42}\n", with(func(l *LwM2M) { l.Endpoint = "42" })},
		{"least lifetime", "lwm2m: {lifetime: 10s}\n", with(func(l *LwM2M) { l.Lifetime = Duration(10 * time.Second) })},
		{"most lifetime", "lwm2m: {lifetime: 4294967295s}\n",
			with(func(l *LwM2M) { l.Lifetime = Duration(4294967295 * time.Second) })},
		{"lifetime in hours", "lwm2m: {lifetime: 1h30m}\n", with(func(l *LwM2M) { l.Lifetime = Duration(90 * time.Minute) })},
		{"binding in any case", "lwm2m: {binding: u}\n", lwm2mDefaults()},
		{"some objects in any case", "lwm2m: {objects: [Server, DEVICE, gpio]}\n",
			with(func(l *LwM2M) { l.Objects = []string{"server", "device", "gpio"} })},
		{"least short_server_id", "lwm2m: {short_server_id: 1}\n", lwm2mDefaults()},
		{"most short_server_id", "lwm2m: {short_server_id: 65534}\n", with(func(l *LwM2M) { l.ShortServerID = 65534 })},
		{
			"everything set",
			"lwm2m:\n  server: coaps://leshan.example.org\n  identity: pigw-kitchen\n  psk: sharedkey\n  endpoint: kitchen\n" +
				"  lifetime: 10m\n  binding: U\n  objects: [device, server, sensors, gpio, firmware]\n  short_server_id: 123\n",
			LwM2M{Server: "coaps://leshan.example.org", Identity: "pigw-kitchen", PSK: Secret("sharedkey"), Endpoint: "kitchen",
				Lifetime: Duration(10 * time.Minute), Binding: "U", Objects: []string{"device", "server", "sensors", "gpio", "firmware"},
				ShortServerID: 123},
		},
	} {
		c, err := Parse("pigw.yaml", []byte(tt.yaml))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(c.LwM2M, tt.want) {
			t.Errorf("%s: LwM2M = %+v, want %+v", tt.name, c.LwM2M, tt.want)
		}
	}
}

// TestLwM2MAccessors: Enabled, EndpointName and Parsed, whose answers depend on other keys
// or sections.
func TestLwM2MAccessors(t *testing.T) {
	for _, tt := range []struct {
		yaml     string
		enabled  bool
		endpoint string
		scheme   string
		host     string
		port     uint16
	}{
		{"coap: {}\n", false, "pigw", "", "", 0},
		{"system: {hostname: kitchen}\nlwm2m: {identity: pigw, psk: k}\n", false, "kitchen", "", "", 0},
		{"system: {hostname: kitchen}\nlwm2m: {server: coap://leshan.example.org}\n", true, "kitchen", "coap", "leshan.example.org", 5683},
		{"lwm2m: {server: \"CoAPs://[2001:db8::1]\", identity: i, psk: k, endpoint: urn:dev:x}\n", true, "urn:dev:x", "coaps", "2001:db8::1", 5684},
		{"system: {hostname: kitchen}\nlwm2m: {server: \"coap://192.0.2.1:15683\", endpoint: \"\"}\n", true, "kitchen", "coap", "192.0.2.1", 15683},
	} {
		c, err := Parse("pigw.yaml", []byte(tt.yaml))
		if err != nil {
			t.Errorf("%q: %v", tt.yaml, err)
			continue
		}
		l := c.LwM2M
		if got := l.Enabled(); got != tt.enabled {
			t.Errorf("%q: Enabled() = %v, want %v", tt.yaml, got, tt.enabled)
		}
		if got := l.EndpointName(c.System.Hostname); got != tt.endpoint {
			t.Errorf("%q: EndpointName(%q) = %q, want %q", tt.yaml, c.System.Hostname, got, tt.endpoint)
		}
		if scheme, host, port := l.Parsed(); scheme != tt.scheme || host != tt.host || port != tt.port {
			t.Errorf("%q: Parsed() = %q, %q, %d; want %q, %q, %d", tt.yaml, scheme, host, port, tt.scheme, tt.host, tt.port)
		}
	}
	// A server that Validate refuses parses to nothing.
	if scheme, host, port := (LwM2M{Server: "http://h"}).Parsed(); scheme != "" || host != "" || port != 0 {
		t.Errorf("Parsed() of http://h = %q, %q, %d; want nothing", scheme, host, port)
	}
}

func TestLwM2MSectionErrors(t *testing.T) {
	long := strings.Repeat("e", 64)
	for _, tt := range []struct{ name, yaml, want string }{
		{"server scheme", "lwm2m:\n  server: http://leshan\n",
			`pigw.yaml:2:11: lwm2m.server: "http://leshan": scheme "http" is not coap or coaps`},
		{"server path", "lwm2m:\n  server: coap://leshan/rd\n",
			`pigw.yaml:2:11: lwm2m.server: "coap://leshan/rd": a server has no path, query or fragment (write coap://host[:port] or coaps://host[:port])`},
		{"server no URI", "lwm2m:\n  server: leshan.example.org\n",
			`pigw.yaml:2:11: lwm2m.server: "leshan.example.org": not a URI (write coap://host[:port] or coaps://host[:port])`},
		{"server port", "lwm2m:\n  server: coap://leshan:0\n",
			`pigw.yaml:2:11: lwm2m.server: "coap://leshan:0": port must be 1..65535`},
		{"coap with identity", "lwm2m:\n  server: coap://leshan\n  identity: pigw\n",
			`pigw.yaml:3:13: lwm2m.identity: "pigw": only for a coaps:// server (this one is coap://)`},
		{"coap with psk", "lwm2m:\n  server: coap://leshan\n  psk: k\n",
			`pigw.yaml:3:8: lwm2m.psk: only for a coaps:// server (this one is coap://)`},
		{"coaps without keys", "lwm2m:\n  server: coaps://leshan\n",
			"pigw.yaml:2:3: lwm2m.identity: missing (a coaps:// server needs an identity and a psk)\n" +
				"pigw.yaml:2:3: lwm2m.psk: missing (a coaps:// server needs an identity and a psk)"},
		{"coaps with a long identity", "lwm2m:\n  server: coaps://leshan\n  identity: " + strings.Repeat("i", 129) + "\n  psk: k\n",
			`pigw.yaml:3:13: lwm2m.identity: 129 bytes long, more than 128`},
		{"coaps with an empty psk", "lwm2m:\n  server: coaps://leshan\n  identity: i\n  psk: \"\"\n",
			`pigw.yaml:4:8: lwm2m.psk: empty (a key is 1..64 bytes)`},
		{"off with a long psk", "lwm2m:\n  psk: " + strings.Repeat("k", 65) + "\n",
			`pigw.yaml:2:8: lwm2m.psk: 65 bytes long, more than 64 (a key is 1..64 bytes)`},
		{"psk bad hex", "lwm2m:\n  psk: 0xzz\n",
			`pigw.yaml:2:8: lwm2m.psk: not valid hex after 0x (give an even number of hex digits, such as 0x0102ab)`},
		{"endpoint with a space", "lwm2m:\n  endpoint: pigw kitchen\n",
			`pigw.yaml:2:13: lwm2m.endpoint: "pigw kitchen" holds ' ' (an endpoint name is 1..63 of A-Z, a-z, 0-9, '.', '_', ':' and '-')`},
		{"endpoint with a slash", "lwm2m:\n  endpoint: a/b\n",
			`pigw.yaml:2:13: lwm2m.endpoint: "a/b" holds '/' (an endpoint name is 1..63 of A-Z, a-z, 0-9, '.', '_', ':' and '-')`},
		{"endpoint not ASCII", "lwm2m:\n  endpoint: küche\n",
			`pigw.yaml:2:13: lwm2m.endpoint: "küche" holds 'ü' (an endpoint name is 1..63 of A-Z, a-z, 0-9, '.', '_', ':' and '-')`},
		{"endpoint too long", "lwm2m:\n  endpoint: " + long + "\n",
			`pigw.yaml:2:13: lwm2m.endpoint: "` + long + `" is 64 bytes long (an endpoint name is 1..63 of A-Z, a-z, 0-9, '.', '_', ':' and '-')`},
		{"lifetime short", "lwm2m:\n  lifetime: 9s\n",
			`pigw.yaml:2:13: lwm2m.lifetime: 9s: must be 10s..4294967295s`},
		{"lifetime long", "lwm2m:\n  lifetime: 4294967296s\n",
			`pigw.yaml:2:13: lwm2m.lifetime: 4294967296s: must be 10s..4294967295s`},
		{"lifetime not whole seconds", "lwm2m:\n  lifetime: 10500ms\n",
			`pigw.yaml:2:13: lwm2m.lifetime: 10.5s: must be whole seconds (it is sent in seconds)`},
		{"lifetime not a duration", "lwm2m:\n  lifetime: 300\n",
			`pigw.yaml:2:13: lwm2m.lifetime: 300 is not a duration (use a number with a unit, such as 200ms, 5s or 1h)`},
		{"binding queue", "lwm2m:\n  binding: UQ\n",
			`pigw.yaml:2:12: lwm2m.binding: "UQ" is not a binding pigw has (only U, UDP, in any case)`},
		{"binding tcp", "lwm2m:\n  binding: T\n",
			`pigw.yaml:2:12: lwm2m.binding: "T" is not a binding pigw has (only U, UDP, in any case)`},
		{"object unknown", "lwm2m:\n  objects: [device, server, location]\n",
			`pigw.yaml:2:29: lwm2m.objects[2]: "location" is not one of pigw's objects (device, server, sensors, gpio or firmware)`},
		{"object twice", "lwm2m:\n  objects: [device, server, gpio, GPIO]\n",
			`pigw.yaml:2:35: lwm2m.objects[3]: "GPIO" is listed twice (first as objects[2])`},
		{"no device", "lwm2m:\n  objects: [server, sensors]\n",
			`pigw.yaml:2:12: lwm2m.objects: no device (LwM2M asks objects 3 Device and 1 Server of every client: list both, such as [device, server, sensors])`},
		{"no objects", "lwm2m:\n  objects: []\n",
			`pigw.yaml:2:12: lwm2m.objects: no device and no server (LwM2M asks objects 3 Device and 1 Server of every client: list both, such as [device, server, sensors])`},
		{"objects not a list", "lwm2m:\n  objects: sensors\n",
			`pigw.yaml:2:12: lwm2m.objects: expected a list, found "sensors"`},
		{"object not text", "lwm2m:\n  objects: [device, server, [gpio]]\n",
			`pigw.yaml:2:29: lwm2m.objects[2]: expected a string, found a list`},
		{"short_server_id reserved", "lwm2m:\n  short_server_id: 65535\n",
			`pigw.yaml:2:20: lwm2m.short_server_id: 65535 is out of range (1..65534, or 0 for the default, 1)`},
		{"short_server_id negative", "lwm2m:\n  short_server_id: -1\n",
			`pigw.yaml:2:20: lwm2m.short_server_id: -1 is out of range (1..65534, or 0 for the default, 1)`},
		{"unknown key", "lwm2m:\n  bootstrap: coap://bs\n",
			`pigw.yaml:2:3: lwm2m.bootstrap: unknown field (known: server, identity, psk, endpoint, lifetime, binding, objects, short_server_id)`},
		{"not a mapping", "lwm2m: coap://leshan\n",
			`pigw.yaml:1:8: lwm2m: expected a mapping, found "coap://leshan"`},
		{
			"every rule at once",
			"lwm2m:\n  server: coap://leshan\n  psk: k\n  endpoint: a b\n  lifetime: 1s\n  binding: S\n  objects: [firmware]\n  short_server_id: 70000\n",
			`pigw.yaml:3:8: lwm2m.psk: only for a coaps:// server (this one is coap://)
pigw.yaml:4:13: lwm2m.endpoint: "a b" holds ' ' (an endpoint name is 1..63 of A-Z, a-z, 0-9, '.', '_', ':' and '-')
pigw.yaml:5:13: lwm2m.lifetime: 1s: must be 10s..4294967295s
pigw.yaml:6:12: lwm2m.binding: "S" is not a binding pigw has (only U, UDP, in any case)
pigw.yaml:7:12: lwm2m.objects: no device and no server (LwM2M asks objects 3 Device and 1 Server of every client: list both, such as [device, server, sensors])
pigw.yaml:8:20: lwm2m.short_server_id: 70000 is out of range (1..65534, or 0 for the default, 1)`,
		},
	} {
		_, err := Parse("pigw.yaml", []byte(tt.yaml))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: Parse error:\n%v\nwant:\n%s", tt.name, err, tt.want)
		}
	}
}

// TestLwM2MValidate: a Config built in Go gets the defaults of the lwm2m section it leaves
// zero, and the rules without file, line or column.
func TestLwM2MValidate(t *testing.T) {
	c := Default()
	c.LwM2M = LwM2M{}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.LwM2M, lwm2mDefaults()) {
		t.Errorf("Validate filled in %+v, want %+v", c.LwM2M, lwm2mDefaults())
	}

	c = Default()
	c.LwM2M = LwM2M{Server: "coaps://leshan", Endpoint: "a&b", Lifetime: Duration(-time.Second), Binding: "u",
		Objects: []string{"Device", "Server", "x"}}
	want := `lwm2m.identity: missing (a coaps:// server needs an identity and a psk)
lwm2m.psk: missing (a coaps:// server needs an identity and a psk)
lwm2m.endpoint: "a&b" holds '&' (an endpoint name is 1..63 of A-Z, a-z, 0-9, '.', '_', ':' and '-')
lwm2m.lifetime: -1s: must be 10s..4294967295s
lwm2m.objects[2]: "x" is not one of pigw's objects (device, server, sensors, gpio or firmware)`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
	if c.LwM2M.Binding != "U" || !reflect.DeepEqual(c.LwM2M.Objects, []string{"device", "server", "x"}) || c.LwM2M.ShortServerID != 1 {
		t.Errorf("Validate left binding %q, objects %q, short_server_id %d; want U, [device server x], 1",
			c.LwM2M.Binding, c.LwM2M.Objects, c.LwM2M.ShortServerID)
	}
}

// TestDefaultYAMLLwM2MExample checks that the commented-out lwm2m example in default.yaml is
// valid once its comment marks are taken away, and sets every key.
func TestDefaultYAMLLwM2MExample(t *testing.T) {
	i := strings.Index(defaultYAML, "\n# lwm2m:")
	if i < 0 {
		t.Fatal("no commented-out lwm2m: example in default.yaml")
	}
	block, _, _ := strings.Cut(defaultYAML[i+1:], "\n\n")
	example := regexp.MustCompile(`(?m)^# ?`).ReplaceAllString(block, "")
	c, err := Parse("default.yaml example", []byte(example))
	if err != nil {
		t.Fatalf("the lwm2m example of default.yaml:\n%s\ndoes not parse: %v", example, err)
	}
	for _, key := range []string{"server:", "identity:", "psk:", "endpoint:", "lifetime:", "binding:", "objects:", "short_server_id:"} {
		if !strings.Contains(example, key) {
			t.Errorf("the lwm2m example of default.yaml has no %s\n%s", key, example)
		}
	}
	if !c.LwM2M.Enabled() || reflect.DeepEqual(c.LwM2M.Objects, lwm2mDefaults().Objects) {
		t.Errorf("the lwm2m example of default.yaml sets no server, or only the default objects:\n%s", example)
	}
}
