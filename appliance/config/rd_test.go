package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRDSection(t *testing.T) {
	if got := Default().RD; !reflect.DeepEqual(got, rdDefaults()) {
		t.Errorf("Default().RD = %+v, want %+v", got, rdDefaults())
	}
	with := func(f func(r *RD)) RD {
		r := rdDefaults()
		f(&r)
		return r
	}
	for _, tt := range []struct {
		name, yaml string
		want       RD
	}{
		{"absent", "coap: {}\n", rdDefaults()},
		{"without value", "rd:\n", rdDefaults()},
		{"empty mapping", "rd: {}\n", rdDefaults()},
		{"keys without values", "rd:\n  server:\n  identity:\n  psk:\n  endpoint:\n  lifetime:\n", rdDefaults()},
		{"empty and zero", "rd: {server: \"\", identity: \"\", endpoint: \"\", lifetime: 0s}\n", rdDefaults()},
		{"coap", "rd: {server: \"coap://[fd00::1]:5783\"}\n", with(func(r *RD) { r.Server = "coap://[fd00::1]:5783" })},
		{"coaps with keys", "rd: {server: coaps://rd.example.org, identity: pigw, psk: k}\n",
			with(func(r *RD) { r.Server, r.Identity, r.PSK = "coaps://rd.example.org", "pigw", Secret("k") })},
		{"endpoint", "rd: {endpoint: node-1.kitchen}\n", with(func(r *RD) { r.Endpoint = "node-1.kitchen" })},
		{"least lifetime", "rd: {lifetime: 1m}\n", with(func(r *RD) { r.Lifetime = Duration(time.Minute) })},
		{"most lifetime", "rd: {lifetime: 4294967295s}\n", with(func(r *RD) { r.Lifetime = Duration(4294967295 * time.Second) })},
		{
			"everything set",
			"rd:\n  server: coaps://rd.example.org:5684\n  identity: pigw\n  psk: \"0x01\"\n  endpoint: kitchen\n  lifetime: 2h\n",
			RD{Server: "coaps://rd.example.org:5684", Identity: "pigw", PSK: Secret{1}, Endpoint: "kitchen", Lifetime: Duration(2 * time.Hour)},
		},
	} {
		c, err := Parse("pigw.yaml", []byte(tt.yaml))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(c.RD, tt.want) {
			t.Errorf("%s: RD = %+v, want %+v", tt.name, c.RD, tt.want)
		}
	}
}

// TestRDAccessors: Enabled, EndpointName and Parsed.
func TestRDAccessors(t *testing.T) {
	c, err := Parse("pigw.yaml", []byte("system: {hostname: kitchen}\nrd: {server: COAP://rd.example.org}\nlwm2m: {endpoint: lw}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := c.RD
	if !r.Enabled() || r.EndpointName(c.System.Hostname) != "kitchen" {
		t.Errorf("Enabled() = %v, EndpointName = %q; want true, kitchen (lwm2m.endpoint is lwm2m's own)", r.Enabled(), r.EndpointName(c.System.Hostname))
	}
	if scheme, host, port := r.Parsed(); scheme != "coap" || host != "rd.example.org" || port != 5683 {
		t.Errorf("Parsed() = %q, %q, %d; want coap, rd.example.org, 5683", scheme, host, port)
	}
	r = RD{Endpoint: "ep"}
	if r.Enabled() || r.EndpointName("kitchen") != "ep" {
		t.Errorf("RD{Endpoint: ep}: Enabled() = %v, EndpointName = %q; want false, ep", r.Enabled(), r.EndpointName("kitchen"))
	}
	if scheme, host, port := r.Parsed(); scheme != "" || host != "" || port != 0 {
		t.Errorf("Parsed() of no server = %q, %q, %d; want nothing", scheme, host, port)
	}
}

func TestRDSectionErrors(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"server scheme", "rd:\n  server: https://rd\n",
			`pigw.yaml:2:11: rd.server: "https://rd": scheme "https" is not coap or coaps`},
		{"server path", "rd:\n  server: coap://rd/resourcedirectory\n",
			`pigw.yaml:2:11: rd.server: "coap://rd/resourcedirectory": a server has no path, query or fragment (write coap://host[:port] or coaps://host[:port])`},
		{"server IPv6 without brackets", "rd:\n  server: coap://fd00::1\n",
			`pigw.yaml:2:11: rd.server: "coap://fd00::1": IPv6 address without brackets (write coap://[2001:db8::1] or coap://[2001:db8::1]:5683)`},
		{"coap with identity and psk", "rd:\n  server: coap://rd\n  identity: pigw\n  psk: k\n",
			"pigw.yaml:3:13: rd.identity: \"pigw\": only for a coaps:// server (this one is coap://)\n" +
				"pigw.yaml:4:8: rd.psk: only for a coaps:// server (this one is coap://)"},
		{"coaps without psk", "rd:\n  server: coaps://rd\n  identity: pigw\n",
			`pigw.yaml:2:3: rd.psk: missing (a coaps:// server needs an identity and a psk)`},
		{"endpoint", "rd:\n  endpoint: \"ep=1\"\n",
			`pigw.yaml:2:13: rd.endpoint: "ep=1" holds '=' (an endpoint name is 1..63 of A-Z, a-z, 0-9, '.', '_', ':' and '-')`},
		{"lifetime short", "rd:\n  lifetime: 59s\n",
			`pigw.yaml:2:13: rd.lifetime: 59s: must be 60s..4294967295s`},
		{"lifetime long", "rd:\n  lifetime: 2000000h\n",
			`pigw.yaml:2:13: rd.lifetime: 7200000000s: must be 60s..4294967295s`},
		{"lifetime not whole seconds", "rd:\n  lifetime: 1m0.5s\n",
			`pigw.yaml:2:13: rd.lifetime: 1m0.5s: must be whole seconds (it is sent in seconds)`},
		{"lifetime negative", "rd:\n  lifetime: -1h\n",
			`pigw.yaml:2:13: rd.lifetime: "-1h" is negative (a duration is 0 or more)`},
		{"unknown key", "rd:\n  binding: U\n",
			`pigw.yaml:2:3: rd.binding: unknown field (known: server, identity, psk, endpoint, lifetime)`},
		{"not a mapping", "rd: [coap://rd]\n",
			`pigw.yaml:1:5: rd: expected a mapping, found a list`},
	} {
		_, err := Parse("pigw.yaml", []byte(tt.yaml))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: Parse error:\n%v\nwant:\n%s", tt.name, err, tt.want)
		}
	}
}

// TestRDValidate: a Config built in Go gets the defaults of the rd section it leaves zero,
// and the rules without file, line or column.
func TestRDValidate(t *testing.T) {
	c := Default()
	c.RD = RD{}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.RD, rdDefaults()) {
		t.Errorf("Validate filled in %+v, want %+v", c.RD, rdDefaults())
	}

	c = Default()
	c.RD = RD{Server: "coap://rd", PSK: Secret("k"), Lifetime: Duration(30 * time.Second)}
	want := `rd.psk: only for a coaps:// server (this one is coap://)
rd.lifetime: 30s: must be 60s..4294967295s`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

// TestDefaultYAMLRDExample checks that the commented-out rd example in default.yaml is valid
// once its comment marks are taken away.
func TestDefaultYAMLRDExample(t *testing.T) {
	i := strings.Index(defaultYAML, "\n# rd:")
	if i < 0 {
		t.Fatal("no commented-out rd: example in default.yaml")
	}
	block, _, _ := strings.Cut(defaultYAML[i+1:], "\n\n")
	example := regexp.MustCompile(`(?m)^# ?`).ReplaceAllString(block, "")
	c, err := Parse("default.yaml example", []byte(example))
	if err != nil {
		t.Fatalf("the rd example of default.yaml:\n%s\ndoes not parse: %v", example, err)
	}
	for _, key := range []string{"server:", "endpoint:", "lifetime:"} {
		if !strings.Contains(example, key) {
			t.Errorf("the rd example of default.yaml has no %s\n%s", key, example)
		}
	}
	if !c.RD.Enabled() || reflect.DeepEqual(c.RD, rdDefaults()) {
		t.Errorf("the rd example of default.yaml sets no server:\n%s", example)
	}
}
