package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
)

func ptr[T any](v T) *T { return &v }

// tutorial is the server example of the Pycom CoAP tutorial, as given in the
// design of pigw.
const tutorial = `coap:
  listen: ["0.0.0.0:5683", "[::]:5683"]
  service_discovery: true
  dynamic_resources: true
  # What the tutorial's new-resource handler does to each resource created by PUT.
  new_resource_details: {media_type: text/plain, max_age: 100, etag: true}
  resources:
    - uri: resource1
      media_type: text/plain
      value: default_value
      attributes: {title: resource1, ct: "0"}
      methods: [GET, POST, PUT]
    - uri: resource2
      media_type: application/xml
      etag: true
      methods: [GET, POST, PUT, DELETE]
`

var defaultLimits = Limits{
	MaxResources:   512,
	MaxURILength:   255,
	MaxValueSize:   16384,
	MaxObservers:   256,
	DedupEntries:   16384,
	BlockTransfers: 64,
}

// defaultSystem is the system section of a file that has none.
func defaultSystem() System { return System{Hostname: "pigw", Watchdog: ptr(true)} }

// defaultTime is the time section of a file that has none.
func defaultTime() Time { return Time{Interval: Duration(time.Hour)} }

// updateDefaults is the update section of a file that has none, written out
// here rather than taken from defaultUpdate, so that a changed default shows.
func updateDefaults() Update {
	return Update{Confirm: "auto", Trial: "auto", TrialDeadline: Duration(10 * time.Minute), HealthyAfter: Duration(90 * time.Second)}
}

// lwm2mDefaults is the lwm2m section of a file that has none, written out here rather than
// taken from defaultLwM2M, so that a changed default shows.
func lwm2mDefaults() LwM2M {
	return LwM2M{Lifetime: Duration(300 * time.Second), Binding: "U",
		Objects: []string{"device", "server", "sensors", "gpio", "firmware"}, ShortServerID: 1}
}

// rdDefaults is the rd section of a file that has none.
func rdDefaults() RD { return RD{Lifetime: Duration(90000 * time.Second)} }

func tutorialConfig() *Config {
	return &Config{System: defaultSystem(), Wifi: defaultWifi(), Time: defaultTime(), Update: updateDefaults(), LwM2M: lwm2mDefaults(), RD: rdDefaults(), CoAP: CoAP{
		Listen:           []string{"0.0.0.0:5683", "[::]:5683"},
		ServiceDiscovery: true,
		DiscoveryLeisure: Duration(5 * time.Second),
		DynamicResources: true,
		NewResourceDetails: &Details{
			MediaType: ptr(MediaType(coap.TextPlain)),
			MaxAge:    ptr(uint32(100)),
			ETag:      true,
		},
		Observe: Observe{ConEvery: 5},
		Limits:  defaultLimits,
		Resources: []Resource{
			{
				URI:        "resource1",
				MediaType:  ptr(MediaType(coap.TextPlain)),
				Value:      "default_value",
				Attributes: Attributes{{"title", "resource1"}, {"ct", "0"}},
				Methods:    []string{"GET", "POST", "PUT"},
			},
			{
				URI:       "resource2",
				MediaType: ptr(MediaType(coap.AppXML)),
				ETag:      true,
				Methods:   []string{"GET", "POST", "PUT", "DELETE"},
			},
		},
	}}
}

func TestDefault(t *testing.T) {
	got := Default()
	if want := tutorialConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default() = %+v\nwant %+v", got.CoAP, want.CoAP)
	}
	if got == Default() {
		t.Error("Default() returns the same *Config twice; callers may change it")
	}
}

func TestParse(t *testing.T) {
	empty := &Config{
		CoAP: CoAP{
			Listen:           []string{"0.0.0.0:5683", "[::]:5683"},
			DiscoveryLeisure: Duration(5 * time.Second),
			Observe:          Observe{ConEvery: 5},
			Limits:           defaultLimits,
		},
		System: defaultSystem(), Wifi: defaultWifi(), Time: defaultTime(), Update: updateDefaults(),
		LwM2M: lwm2mDefaults(), RD: rdDefaults(),
	}
	withCoAP := func(f func(c *CoAP)) *Config {
		c := *empty
		c.CoAP.Listen = slicesClone(empty.CoAP.Listen)
		f(&c.CoAP)
		return &c
	}
	for _, tt := range []struct {
		name string
		in   string
		want *Config
	}{
		{"tutorial", tutorial, tutorialConfig()},
		{"empty file", "", empty},
		{"only a comment", "# nothing yet\n", empty},
		{"document marker", "---\n", empty},
		{"empty top level", "{}\n", empty},
		{"coap without value", "coap:\n", empty},
		{"coap null", "coap: null\n", empty},
		{"keys without values", "coap:\n  listen:\n  discovery_leisure:\n  limits:\n  resources:\n", empty},
		{
			"everything set",
			`coap:
  listen: ["127.0.0.1:5683", "[::1]:61616", "[fe80::1%eth0]:5683"]
  service_discovery: false
  discovery_leisure: 200ms
  dynamic_resources: true
  new_resource_details: {media_type: 50, max_age: 0}
  observe:
    min_interval: 1h
    con_every: 1000
  limits:
    max_resources: 100000
    max_uri_length: 1024
    max_value_size: 1048576
    max_observers: 0
    dedup_entries: 64
    block_transfers: 10000
  resources:
    - uri: /sensors/temp
      media_type: "text/plain; charset=utf-8"
      max_age: 4294967295
      value: 21.5
      etag: false
      attributes:
        rt: temperature-c
        if: sensor
        ct: 0
        obs:
        sz: 4
        x.y_z-1: true
      methods: [get, Put, post, DELETE]
    - uri: a
      media_type: 11542
      value: |
        two
        lines
      methods: []
`,
			withCoAP(func(c *CoAP) {
				c.Listen = []string{"127.0.0.1:5683", "[::1]:61616", "[fe80::1%eth0]:5683"}
				c.DiscoveryLeisure = Duration(200 * time.Millisecond)
				c.DynamicResources = true
				c.NewResourceDetails = &Details{MediaType: ptr(MediaType(coap.AppJSON)), MaxAge: ptr(uint32(0))}
				c.Observe = Observe{MinInterval: Duration(time.Hour), ConEvery: 1000}
				c.Limits = Limits{100000, 1024, 1048576, 0, 64, 10000}
				c.Resources = []Resource{
					{
						URI:       "sensors/temp",
						MediaType: ptr(MediaType(coap.TextPlain)),
						MaxAge:    ptr(uint32(4294967295)),
						Value:     "21.5",
						Attributes: Attributes{
							{"rt", "temperature-c"},
							{"if", "sensor"},
							{"ct", "0"},
							{"obs", ""},
							{"sz", "4"},
							{"x.y_z-1", "true"},
						},
						Methods: []string{"GET", "PUT", "POST", "DELETE"},
					},
					{
						URI:       "a",
						MediaType: ptr(MediaType(11542)),
						Value:     "two\nlines\n",
						Methods:   []string{},
					},
				}
			}),
		},
		{
			"durations and zero",
			"coap: {discovery_leisure: 0, observe: {min_interval: 0s}}\n",
			withCoAP(func(c *CoAP) { c.DiscoveryLeisure = 0 }),
		},
		{
			"core tags",
			"coap: {resources: [{uri: !!str 42, attributes: {ct: !!str 0}}]}\n",
			withCoAP(func(c *CoAP) {
				c.Resources = []Resource{{URI: "42", Attributes: Attributes{{"ct", "0"}}}}
			}),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("pigw.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got.CoAP, tt.want.CoAP)
			}
		})
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// TestParseErrors has a case for every rule, each checking the whole
// message with its position.
func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", 256)
	for _, tt := range []struct {
		name string
		in   string
		want string
	}{
		// YAML itself.
		{
			"syntax",
			"coap:\n  listen: [\"0.0.0.0:5683\"\n",
			`pigw.yaml:2:11: YAML syntax: sequence end token ']' not found`,
		},
		{
			"tab",
			"coap:\n\tlisten: []\n",
			`pigw.yaml:2:1: YAML syntax: found character '\t' that cannot start any token`,
		},
		{
			"duplicate key",
			"coap:\n  etag: true\n  etag: false\n",
			`pigw.yaml:3:3: YAML syntax: mapping key "etag" already defined at [2:3]`,
		},
		{
			"second document",
			"coap: {}\n---\ncoap: {}\n",
			`pigw.yaml:3:1: a second YAML document (the configuration is one document)`,
		},
		{
			"top level not a mapping",
			"- coap\n",
			`pigw.yaml:1:1: expected a mapping, found a list`,
		},
		{
			"alias",
			"coap:\n  listen: &l [\"0.0.0.0:5683\"]\n  resources: *l\n",
			`pigw.yaml:3:14: coap.resources: YAML aliases (*name) are not supported: write the value out`,
		},
		{
			"tag",
			"coap: {resources: [{uri: a, value: !!binary aGVsbG8=}]}\n",
			`pigw.yaml:1:36: coap.resources[0].value: YAML tag !!binary is not supported`,
		},
		{
			"non-scalar key",
			"coap: {[a]: 1}\n",
			`pigw.yaml:1:11: YAML syntax: found an invalid key for this map`,
		},

		// Fields and types.
		{
			"unknown top-level field",
			"coap: {}\nsupervisor: {}\n",
			`pigw.yaml:2:1: supervisor: unknown field (known: coap, sessions, system, network, wifi, time, sensors, gpio, update, web, lwm2m, rd)`,
		},
		{
			"unknown field",
			"# pigw\ncoap:\n  listen: [\"0.0.0.0:5683\"]\n  dynamic: true\n",
			`pigw.yaml:4:3: coap.dynamic: unknown field (known: listen, dtls, service_discovery, discovery_leisure, dynamic_resources, new_resource_details, observe, limits, resources)`,
		},
		{
			"unknown resource field",
			"coap:\n  resources:\n    - uri: a\n      path: b\n",
			`pigw.yaml:4:7: coap.resources[0].path: unknown field (known: uri, media_type, max_age, value, etag, attributes, methods)`,
		},
		{
			"unknown limit",
			"coap: {limits: {max_rsrcs: 1}}\n",
			`pigw.yaml:1:17: coap.limits.max_rsrcs: unknown field (known: max_resources, max_uri_length, max_value_size, max_observers, dedup_entries, block_transfers)`,
		},
		{
			"coap not a mapping",
			"coap: 1\n",
			`pigw.yaml:1:7: coap: expected a mapping, found 1`,
		},
		{
			"bool",
			"coap:\n  service_discovery: maybe\n",
			`pigw.yaml:2:22: coap.service_discovery: "maybe" is not a boolean (use true or false)`,
		},
		{
			"bool from number",
			"coap: {resources: [{uri: a, etag: 1}]}\n",
			`pigw.yaml:1:35: coap.resources[0].etag: 1 is not a boolean (use true or false)`,
		},
		{
			"int from string",
			"coap: {limits: {max_resources: lots}}\n",
			`pigw.yaml:1:32: coap.limits.max_resources: "lots" is not an integer`,
		},
		{
			"int from float",
			"coap: {limits: {max_resources: 1.5}}\n",
			`pigw.yaml:1:32: coap.limits.max_resources: 1.5 is not an integer`,
		},
		{
			"int too large",
			"coap: {observe: {con_every: 18446744073709551615}}\n",
			`pigw.yaml:1:29: coap.observe.con_every: 18446744073709551615 is out of range (-9223372036854775808..9223372036854775807)`,
		},
		{
			"list expected",
			"coap:\n  resources:\n    - uri: a\n      methods: GET\n",
			`pigw.yaml:4:16: coap.resources[0].methods: expected a list, found "GET"`,
		},
		{
			"string expected",
			"coap:\n  resources:\n    - uri:\n        a: b\n",
			`pigw.yaml:4:9: coap.resources[0].uri: expected a string, found a mapping`,
		},
		{
			"resource not a mapping",
			"coap:\n  resources:\n    - a\n",
			`pigw.yaml:3:7: coap.resources[0]: expected a mapping, found "a"`,
		},
		{
			"empty resource",
			"coap:\n  resources:\n    -\n    - uri: a\n",
			`pigw.yaml:3:6: coap.resources[0]: expected a mapping with at least uri:, found nothing`,
		},

		// listen.
		{
			"listen empty",
			"coap:\n  listen: []\n",
			`pigw.yaml:2:11: coap.listen: no address to listen on (give at least one, such as "0.0.0.0:5683")`,
		},
		{
			"listen port",
			"# pigw\ncoap:\n  listen: [\"0.0.0.0:99999\"]\n",
			`pigw.yaml:3:12: coap.listen[0]: "0.0.0.0:99999": port must be 1..65535`,
		},
		{
			"listen port 0",
			"coap: {listen: [\"[::]:0\"]}\n",
			`pigw.yaml:1:17: coap.listen[0]: "[::]:0": port must be 1..65535`,
		},
		{
			"listen port name",
			"coap: {listen: [\"[::]:coap\"]}\n",
			`pigw.yaml:1:17: coap.listen[0]: "[::]:coap": port must be 1..65535`,
		},
		{
			"listen no port",
			"coap: {listen: [127.0.0.1]}\n",
			`pigw.yaml:1:17: coap.listen[0]: "127.0.0.1": not host:port (write IPv6 addresses in brackets, such as [::1]:5683)`,
		},
		{
			"listen empty host",
			"coap: {listen: [\":5683\"]}\n",
			`pigw.yaml:1:17: coap.listen[0]: ":5683": host is empty (use 0.0.0.0 or [::] to listen on all addresses)`,
		},
		{
			"listen host name",
			"coap: {listen: [\"localhost:5683\"]}\n",
			`pigw.yaml:1:17: coap.listen[0]: "localhost:5683": host "localhost" is not an IPv4 or IPv6 address (names are not looked up)`,
		},
		{
			"listen IPv6 without brackets",
			"coap: {listen: [\"::1:5683\"]}\n",
			`pigw.yaml:1:17: coap.listen[0]: "::1:5683": not host:port (write IPv6 addresses in brackets, such as [::1]:5683)`,
		},
		{
			"listen IPv4 in brackets",
			"coap: {listen: [\"[127.0.0.1]:5683\"]}\n",
			`pigw.yaml:1:17: coap.listen[0]: "[127.0.0.1]:5683": IPv4 address in brackets (brackets are for IPv6 only)`,
		},
		{
			"listen duplicate",
			"coap:\n  listen:\n    - \"[::]:5683\"\n    - \"0.0.0.0:5683\"\n    - \"[0::0]:5683\"\n",
			`pigw.yaml:5:7: coap.listen[2]: "[0::0]:5683" is listed twice (first as listen[0])`,
		},

		// uri.
		{
			"uri missing",
			"coap:\n  resources:\n    - value: x\n",
			`pigw.yaml:3:7: coap.resources[0].uri: missing (give the path the resource is served at, such as sensors/temp)`,
		},
		{
			"uri empty",
			"coap:\n  resources:\n    - uri: \"\"\n",
			`pigw.yaml:3:12: coap.resources[0].uri: missing (give the path the resource is served at, such as sensors/temp)`,
		},
		{
			"uri slash",
			"coap:\n  resources:\n    - uri: /\n",
			`pigw.yaml:3:12: coap.resources[0].uri: "/" names no resource (give a path such as sensors/temp)`,
		},
		{
			"uri empty segment",
			"coap:\n  resources:\n    - uri: a//b\n",
			`pigw.yaml:3:12: coap.resources[0].uri: "a//b" has an empty segment (no "//", no "/" at the end)`,
		},
		{
			"uri trailing slash",
			"coap:\n  resources:\n    - uri: /a/\n",
			`pigw.yaml:3:12: coap.resources[0].uri: "a/" has an empty segment (no "//", no "/" at the end)`,
		},
		{
			"uri two leading slashes",
			"coap:\n  resources:\n    - uri: //a\n",
			`pigw.yaml:3:12: coap.resources[0].uri: "/a" has an empty segment (no "//", no "/" at the end)`,
		},
		{
			"uri dot",
			"coap:\n  resources:\n    - uri: a/./b\n",
			`pigw.yaml:3:12: coap.resources[0].uri: "a/./b" has a "." segment (not allowed)`,
		},
		{
			"uri dot dot",
			"coap:\n  resources:\n    - uri: ../etc\n",
			`pigw.yaml:3:12: coap.resources[0].uri: "../etc" has a ".." segment (not allowed)`,
		},
		{
			"uri query",
			"coap:\n  resources:\n    - uri: a?b=1\n",
			`pigw.yaml:3:12: coap.resources[0].uri: "a?b=1" contains "?" or "#" (a uri here is a path: no query, no fragment)`,
		},
		{
			"uri fragment",
			"coap:\n  resources:\n    - uri: \"a#b\"\n",
			`pigw.yaml:3:12: coap.resources[0].uri: "a#b" contains "?" or "#" (a uri here is a path: no query, no fragment)`,
		},
		{
			"uri control character",
			"coap:\n  resources:\n    - uri: \"a\\tb\"\n",
			`pigw.yaml:3:12: coap.resources[0].uri: "a\tb" contains a control character`,
		},
		{
			"uri well-known",
			"coap:\n  resources:\n    - uri: /.well-known/core\n",
			`pigw.yaml:3:12: coap.resources[0].uri: ".well-known/core" is under .well-known/, which is reserved`,
		},
		{
			"uri well-known itself",
			"coap:\n  resources:\n    - uri: .well-known\n",
			`pigw.yaml:3:12: coap.resources[0].uri: ".well-known" is under .well-known/, which is reserved`,
		},
		{
			"uri too long",
			"coap:\n  limits: {max_uri_length: 4}\n  resources:\n    - uri: /abcde\n",
			`pigw.yaml:4:12: coap.resources[0].uri: 5 bytes long, more than limits.max_uri_length (4)`,
		},
		{
			"uri segment too long",
			"coap:\n  limits: {max_uri_length: 1024}\n  resources:\n    - uri: a/" + long + "\n",
			`pigw.yaml:4:12: coap.resources[0].uri: "a/` + long + `": segment 2 is 256 bytes long, more than a CoAP Uri-Path option holds (255)`,
		},
		{
			"uri duplicate",
			"coap:\n  resources:\n    - uri: a/b\n    - uri: c\n    - uri: /a/b\n",
			`pigw.yaml:5:12: coap.resources[2].uri: "a/b" is already used by coap.resources[0] (line 3)`,
		},

		// value and media type.
		{
			"value too large",
			"coap:\n  limits: {max_value_size: 3}\n  resources:\n    - {uri: a, value: abcd}\n",
			`pigw.yaml:4:23: coap.resources[0].value: 4 bytes, more than limits.max_value_size (3)`,
		},
		{
			"media type name",
			"# pigw\ncoap:\n  resources:\n    - uri: resource1\n      media_type: text/plain\n    - uri: resource2\n" +
				"      # the tutorial has application/xml here\n      etag: true\n      media_type: text/foo\n",
			`pigw.yaml:9:19: coap.resources[1].media_type: "text/foo" is not a known media type (use a name such as text/plain or a number 0..65535)`,
		},
		{
			"media type number",
			"coap: {new_resource_details: {media_type: 65536}}\n",
			`pigw.yaml:1:43: coap.new_resource_details.media_type: 65536 is not a media type (use a name such as text/plain or a number 0..65535)`,
		},
		{
			"media type negative",
			"coap: {new_resource_details: {media_type: -1}}\n",
			`pigw.yaml:1:43: coap.new_resource_details.media_type: -1 is not a media type (use a name such as text/plain or a number 0..65535)`,
		},
		{
			"media type list",
			"coap: {new_resource_details: {media_type: [0]}}\n",
			`pigw.yaml:1:43: coap.new_resource_details.media_type: a list is not a media type (use a name such as text/plain or a number 0..65535)`,
		},
		{
			"max age negative",
			"coap: {new_resource_details: {max_age: -1}}\n",
			`pigw.yaml:1:40: coap.new_resource_details.max_age: -1 is out of range (0..4294967295)`,
		},
		{
			"max age too large",
			"coap: {resources: [{uri: a, max_age: 4294967296}]}\n",
			`pigw.yaml:1:38: coap.resources[0].max_age: 4294967296 is out of range (0..4294967295)`,
		},

		// methods.
		{
			"method unknown",
			"coap:\n  resources:\n    - uri: a\n      methods:\n        - GET\n        - put\n        - PATCH\n",
			`pigw.yaml:7:11: coap.resources[0].methods[2]: "PATCH" is not a method (GET, PUT, POST or DELETE)`,
		},
		{
			"method duplicate",
			"coap: {resources: [{uri: a, methods: [GET, put, get]}]}\n",
			`pigw.yaml:1:49: coap.resources[0].methods[2]: "get" is listed twice (first as methods[0])`,
		},

		// attributes.
		{
			"attribute name empty",
			"coap: {resources: [{uri: a, attributes: {\"\": x}}]}\n",
			`pigw.yaml:1:42: coap.resources[0].attributes[""]: an attribute name may not be empty`,
		},
		{
			"attribute name characters",
			"coap: {resources: [{uri: a, attributes: {\"my title\": x}}]}\n",
			`pigw.yaml:1:42: coap.resources[0].attributes["my title"]: attribute name "my title" may only hold letters, digits, '-', '_' and '.'`,
		},
		{
			"attribute href",
			"coap: {resources: [{uri: a, attributes: {title: t, HREF: /b}}]}\n",
			`pigw.yaml:1:52: coap.resources[0].attributes.HREF: "HREF" is not allowed as an attribute name (the link's target is the uri)`,
		},
		{
			"attribute value quote",
			"coap: {resources: [{uri: a, attributes: {title: 'say \"hi\"'}}]}\n",
			`pigw.yaml:1:49: coap.resources[0].attributes.title: "say \"hi\"": an attribute value may not contain a double quote or a line break`,
		},
		{
			"attribute value newline",
			"coap:\n  resources:\n    - uri: a\n      attributes:\n        title: |\n          two\n          lines\n",
			`pigw.yaml:5:16: coap.resources[0].attributes.title: "two\nlines\n": an attribute value may not contain a double quote or a line break`,
		},
		{
			"attribute value not scalar",
			"coap: {resources: [{uri: a, attributes: {rt: [a, b]}}]}\n",
			`pigw.yaml:1:46: coap.resources[0].attributes.rt: expected a text, number or boolean, found a list`,
		},
		{
			"attributes not a mapping",
			"coap: {resources: [{uri: a, attributes: [title]}]}\n",
			`pigw.yaml:1:41: coap.resources[0].attributes: expected a mapping of names to values, such as {title: Temperature, rt: temperature-c}, found a list`,
		},

		// limits.
		{"max_resources low", "coap: {limits: {max_resources: 0}}\n", `pigw.yaml:1:32: coap.limits.max_resources: 0 is out of range (1..100000)`},
		{"max_resources high", "coap: {limits: {max_resources: 100001}}\n", `pigw.yaml:1:32: coap.limits.max_resources: 100001 is out of range (1..100000)`},
		{"max_uri_length", "coap: {limits: {max_uri_length: 1025}}\n", `pigw.yaml:1:33: coap.limits.max_uri_length: 1025 is out of range (1..1024)`},
		{"max_value_size", "coap: {limits: {max_value_size: 0}}\n", `pigw.yaml:1:33: coap.limits.max_value_size: 0 is out of range (1..1048576)`},
		{"max_observers", "coap: {limits: {max_observers: -1}}\n", `pigw.yaml:1:32: coap.limits.max_observers: -1 is out of range (0..100000)`},
		{"dedup_entries", "coap: {limits: {dedup_entries: 63}}\n", `pigw.yaml:1:32: coap.limits.dedup_entries: 63 is out of range (64..1048576)`},
		{"block_transfers", "coap: {limits: {block_transfers: 10001}}\n", `pigw.yaml:1:34: coap.limits.block_transfers: 10001 is out of range (1..10000)`},
		{
			"too many resources",
			"coap:\n  limits: {max_resources: 1}\n  resources:\n    - uri: a\n    - uri: b\n",
			`pigw.yaml:4:5: coap.resources: 2 resources, more than limits.max_resources (1)`,
		},

		// durations and observe.
		{"leisure too long", "coap: {discovery_leisure: 61s}\n", `pigw.yaml:1:27: coap.discovery_leisure: 1m1s is out of range (0s..1m0s)`},
		{"leisure negative", "coap: {discovery_leisure: -1s}\n", `pigw.yaml:1:27: coap.discovery_leisure: "-1s" is negative (a duration is 0 or more)`},
		{"leisure without unit", "coap: {discovery_leisure: 5}\n", `pigw.yaml:1:27: coap.discovery_leisure: 5 is not a duration (use a number with a unit, such as 200ms, 5s or 1h)`},
		{"leisure not a duration", "coap: {discovery_leisure: soon}\n", `pigw.yaml:1:27: coap.discovery_leisure: "soon" is not a duration (use a number with a unit, such as 200ms, 5s or 1h)`},
		{"min_interval", "coap: {observe: {min_interval: 61m}}\n", `pigw.yaml:1:32: coap.observe.min_interval: 1h1m0s is out of range (0s..1h0m0s)`},
		{"con_every low", "coap: {observe: {con_every: 0}}\n", `pigw.yaml:1:29: coap.observe.con_every: 0 is out of range (1..1000)`},
		{"con_every high", "coap: {observe: {con_every: 1001}}\n", `pigw.yaml:1:29: coap.observe.con_every: 1001 is out of range (1..1000)`},

		// Several at once: all reported, in the order of the file.
		{
			"several",
			`coap:
  resources:
    - uri: /a
      methods: [GET, PATCH]
      attributes: {href: x}
    - uri: a
      media_type: text/foo
      etag: maybe
  listen: [":5683"]
  limits:
    max_uri_length: 0
  observe: {con_every: 0, speed: 3}
`,
			`pigw.yaml:4:22: coap.resources[0].methods[1]: "PATCH" is not a method (GET, PUT, POST or DELETE)
pigw.yaml:5:20: coap.resources[0].attributes.href: "href" is not allowed as an attribute name (the link's target is the uri)
pigw.yaml:6:12: coap.resources[1].uri: "a" is already used by coap.resources[0] (line 3)
pigw.yaml:7:19: coap.resources[1].media_type: "text/foo" is not a known media type (use a name such as text/plain or a number 0..65535)
pigw.yaml:8:13: coap.resources[1].etag: "maybe" is not a boolean (use true or false)
pigw.yaml:9:12: coap.listen[0]: ":5683": host is empty (use 0.0.0.0 or [::] to listen on all addresses)
pigw.yaml:11:21: coap.limits.max_uri_length: 0 is out of range (1..1024)
pigw.yaml:12:24: coap.observe.con_every: 0 is out of range (1..1000)
pigw.yaml:12:27: coap.observe.speed: unknown field (known: min_interval, con_every)`,
		},
		{
			// A field that failed to decode is not also reported by the
			// rules: the uri is not "missing", and the rest is still checked.
			"decode error hides rule",
			"coap:\n  resources:\n    - uri: [a]\n      methods: [GIT]\n",
			`pigw.yaml:3:12: coap.resources[0].uri: expected a string, found a list
pigw.yaml:4:17: coap.resources[0].methods[0]: "GIT" is not a method (GET, PUT, POST or DELETE)`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) { checkParseError(t, tt.in, tt.want) })
	}
}

// checkParseError checks that Parse of in fails with the error want, whole,
// and that every error in it is an *Error with a file and a line.
func checkParseError(t *testing.T, in, want string) {
	t.Helper()
	c, err := Parse("pigw.yaml", []byte(in))
	if err == nil {
		t.Fatalf("Parse succeeded with %+v, want error\n%s", c.CoAP, want)
	}
	if c != nil {
		t.Errorf("Parse returned a config with its error")
	}
	if got := err.Error(); got != want {
		t.Errorf("Parse error:\n%s\nwant:\n%s", got, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.File != "pigw.yaml" || e.Line == 0 {
		t.Errorf("errors.As(%v, *Error) gives %+v, want one with file and line", err, e)
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, err := range j.Unwrap() {
			if e, ok := err.(*Error); !ok || e.File != "pigw.yaml" || e.Line == 0 {
				t.Errorf("error %q is %#v, want an *Error with file and line", err, err)
			}
		}
	}
}

func TestErrorFields(t *testing.T) {
	_, err := Parse("pigw.yaml", []byte("coap:\n  listen: [\"0.0.0.0:99999\"]\n"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	want := Error{File: "pigw.yaml", Line: 2, Column: 12, Field: "coap.listen[0]", Msg: `"0.0.0.0:99999": port must be 1..65535`}
	if *e != want {
		t.Errorf("error = %+v, want %+v", *e, want)
	}
}

func TestValidate(t *testing.T) {
	c := &Config{CoAP: CoAP{
		Listen:           []string{"[::1]:5683"},
		DiscoveryLeisure: Duration(time.Second),
		Observe:          Observe{ConEvery: 1},
		Limits:           defaultLimits,
		Resources: []Resource{
			{URI: "/a", Methods: []string{"get", "Post"}},
			{URI: "b/"},
		},
	}}
	err := c.Validate()
	want := `coap.resources[1].uri: "b/" has an empty segment (no "//", no "/" at the end)`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %s", err, want)
	}
	if r := c.CoAP.Resources[0]; r.URI != "a" || !reflect.DeepEqual(r.Methods, []string{"GET", "POST"}) {
		t.Errorf("Validate left resource %+v, want uri a and methods [GET POST]", r)
	}

	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
	if err := new(Config).Validate(); err == nil {
		t.Error("Validate of a zero Config succeeded; it has no listen address and no limits")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pigw.yaml")
	if err := os.WriteFile(path, []byte(tutorial), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(c, tutorialConfig()) {
		t.Errorf("Load = %+v, want the tutorial", c.CoAP)
	}

	if err := os.WriteFile(path, []byte("coap:\n  etag: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), path+":2:3: coap.etag: unknown field") {
		t.Errorf("Load of a bad file: %v, want an error naming %s:2:3", err, path)
	}

	missing := filepath.Join(dir, "missing.yaml")
	if _, err := Load(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load of a missing file: %v, want fs.ErrNotExist naming the file", err)
	}
}

func TestMediaType(t *testing.T) {
	named := []MediaType{0, 40, 41, 42, 47, 50, 51, 52, 60, 110, 111, 112, 113}
	for _, m := range append(named, 1, 39, 11542, 65535) {
		got, err := ParseMediaType(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMediaType(%q) = %d, %v; want %d", m.String(), got, err, m)
		}
	}
	for _, tt := range []struct {
		in   string
		want MediaType
	}{
		{"text/plain", 0},
		{"text/plain;charset=utf-8", 0},
		{"Text/Plain; charset=UTF-8", 0},
		{"application/link-format", 40},
		{"application/xml", 41},
		{"application/octet-stream", 42},
		{"application/exi", 47},
		{"application/json", 50},
		{"application/json-patch+json", 51},
		{"application/merge-patch+json", 52},
		{"application/cbor", 60},
		{"application/senml+json", 110},
		{"application/sensml+json", 111},
		{"application/senml+cbor", 112},
		{"application/sensml+cbor", 113},
		{"0", 0},
		{"42", 42},
		{"65535", 65535},
	} {
		got, err := ParseMediaType(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseMediaType(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "none", "text/foo", "text/html", "65536", "-1", "0x2a", "text/plain;charset=latin1"} {
		if m, err := ParseMediaType(in); err == nil {
			t.Errorf("ParseMediaType(%q) = %d, want an error", in, m)
		}
	}
	if got, want := MediaType(50).String(), "application/json"; got != want {
		t.Errorf("MediaType(50).String() = %q, want %q", got, want)
	}
	if got, want := MediaType(11542).String(), "11542"; got != want {
		t.Errorf("MediaType(11542).String() = %q, want %q", got, want)
	}
}
