package config

import (
	"fmt"
	"io"
	"time"

	"github.com/pigw/pigw/appliance/coap"
)

// Config is the content of pigw.yaml.
type Config struct {
	// CoAP is the CoAP server: where it listens, what it serves and how
	// much it may hold.
	CoAP CoAP `yaml:"coap"`
	// Sessions are the client sessions the appliance runs, in the order
	// written in the file. Default: none.
	Sessions []Session `yaml:"sessions"`
	// System is the machine's own setup: host name, kernel modules,
	// watchdog and mDNS.
	System System `yaml:"system"`
	// Network is the interfaces' addresses and routes, and the resolvers.
	// Default: none.
	Network Network `yaml:"network"`
	// Wifi is the WiFi client: the networks to join. Default: none, WiFi
	// is off.
	Wifi Wifi `yaml:"wifi"`
	// Time is where the clock comes from (a Pi has no battery clock).
	Time Time `yaml:"time"`
	// Sensors are the sensors wired to the Pi, each served as
	// /sensors/<name>, in the order written in the file. Default: none.
	Sensors []Sensor `yaml:"sensors"`
	// GPIO are the GPIO pins used as inputs or outputs, each served as
	// /gpio/<name>, in the order written in the file. Default: none.
	GPIO []GPIO `yaml:"gpio"`
	// Update is how the device takes updates over the network: who
	// commits a new root, and how it is tried first.
	Update Update `yaml:"update"`
	// Web is the status page: where it is served.
	Web Web `yaml:"web"`
	// LwM2M makes pigw an LwM2M client, managed by an LwM2M server such as
	// Leshan or ThingsBoard. Default: off.
	LwM2M LwM2M `yaml:"lwm2m"`
	// RD registers pigw's resources with a CoRE Resource Directory (RFC
	// 9176). Default: off.
	RD RD `yaml:"rd"`
}

// Time is where the appliance gets its time from.
type Time struct {
	// NTP lists the servers asked, in order: a host name or an IP address,
	// with an optional :port (IPv6 in brackets). At most 8. Default: none, and
	// the clock runs on from the time saved at the last shutdown.
	NTP []string `yaml:"ntp"`
	// Interval is the time between two synchronisations once in sync.
	// 1m..24h, default 1h.
	Interval Duration `yaml:"interval"`
}

// CoAP configures the CoAP server: where it listens, what it serves and how
// much it may hold.
type CoAP struct {
	// Listen lists the UDP addresses to serve on, as host:port with the host
	// an IP literal, IPv6 in brackets: "0.0.0.0:5683", "[::]:5683",
	// "127.0.0.1:5683", "[::1]:5683", each once. With service_discovery on
	// and only specific addresses of a family listed, one more wildcard
	// socket on the same port takes multicast requests only. Default:
	// ["0.0.0.0:5683", "[::]:5683"].
	Listen []string `yaml:"listen"`
	// DTLS, when set, adds a DTLS endpoint (coaps) serving the same
	// resources. Default: none, plain CoAP only.
	DTLS *DTLS `yaml:"dtls"`
	// ServiceDiscovery enables answers to multicast GET /.well-known/core:
	// the server joins 224.0.1.187, ff02::fd and ff05::fd on every multicast
	// interface.
	ServiceDiscovery bool `yaml:"service_discovery"`
	// DiscoveryLeisure is the longest a multicast discovery answer is held
	// back, to spread the answers of many servers (RFC 7252 section 8.2).
	// 0..60s, default 5s.
	DiscoveryLeisure Duration `yaml:"discovery_leisure"`
	// DynamicResources lets clients create resources with PUT and remove
	// them with DELETE.
	DynamicResources bool `yaml:"dynamic_resources"`
	// NewResourceDetails, when set, is applied to every resource created by
	// PUT, after the 2.01 answer.
	NewResourceDetails *Details `yaml:"new_resource_details"`
	// Observe tunes notifications to observers (RFC 7641).
	Observe Observe `yaml:"observe"`
	// Limits bound what the server holds in memory.
	Limits Limits `yaml:"limits"`
	// Resources are served from boot on, in this order, at most
	// limits.max_resources. Default: none.
	Resources []Resource `yaml:"resources"`
}

// DTLS configures the server's DTLS 1.2 endpoint with pre-shared keys
// (coaps, RFC 7252 section 9.1.3.1). A client is let in with the key of its
// identity in Keys, or else with PSK.
type DTLS struct {
	// Listen lists the UDP addresses to serve coaps on, as coap.listen
	// does. None may use port 5683, which is plain CoAP's, or be in
	// coap.listen. Default: ["0.0.0.0:5684", "[::]:5684"].
	Listen []string `yaml:"listen"`
	// PSK is the key accepted for any identity not in keys (the original's
	// psk): 1..64 bytes, as text or as 0x and hex digits. Default: none, only
	// the identities in keys are let in. At least one of psk and keys must
	// be given.
	PSK Secret `yaml:"psk"`
	// Hint is the PSK identity hint sent to clients (the original's hint).
	// At most 128 bytes; "" sends none. Default: "pigw".
	Hint string `yaml:"hint"`
	// Keys are the keys of single identities, in the order written in the
	// file. In YAML they are a mapping of identity to key, such as
	// {alice: alicekey, bob: "0x0102ab"}. Identities are 1..128 bytes and
	// unique; keys are 1..64 bytes. Default: none.
	Keys []IdentityKey `yaml:"keys"`
	// Admins are the identities allowed to use the appliance's own
	// resources, such as /sys/reboot. Each must be an identity in keys, once.
	// Default: none.
	Admins []string `yaml:"admins"`
}

// IdentityKey is the pre-shared key of one DTLS identity.
type IdentityKey struct {
	Identity string
	Key      Secret
}

// Secret is a pre-shared key. Its value is never shown: String, GoString,
// Format (so every verb of package fmt), MarshalText and MarshalJSON all give
// "***", so that a key does not end up in a log by accident. Convert to
// []byte to use the key.
//
// In YAML it is written as text, which is taken byte for byte, or as "0x"
// followed by an even number of hex digits for a binary key, such as
// "0x0102ab". Errors about a secret never show its value.
type Secret []byte

const hiddenSecret = "***"

// String returns "***".
func (Secret) String() string { return hiddenSecret }

// GoString returns "***", for %#v.
func (Secret) GoString() string { return hiddenSecret }

// Format writes "***" whatever the verb, so that not even %x or %d shows the
// key.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, hiddenSecret) }

// MarshalText returns "***".
func (Secret) MarshalText() ([]byte, error) { return []byte(hiddenSecret), nil }

// MarshalJSON returns the JSON string "***".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + hiddenSecret + `"`), nil }

// Details are the options given to a resource created by PUT.
type Details struct {
	// MediaType is the resource's Content-Format: a name such as
	// text/plain, or a number 0..65535. Default: none, no Content-Format
	// option.
	MediaType *MediaType `yaml:"media_type"`
	// MaxAge is the Max-Age option sent with GET answers, in seconds:
	// 0..4294967295. Default: none, no Max-Age option.
	MaxAge *uint32 `yaml:"max_age"`
	// ETag gives the resource a 16-bit ETag counter: 1 at start, one more
	// on every change.
	ETag bool `yaml:"etag"`
}

// Observe tunes notifications to observers (RFC 7641).
type Observe struct {
	// MinInterval is the least time between two notifications of one
	// resource; changes in between are folded into the next one. 0..1h,
	// default 0.
	MinInterval Duration `yaml:"min_interval"`
	// ConEvery makes every Nth notification confirmable, so that observers
	// that went away are noticed. 1..1000, default 5.
	ConEvery int `yaml:"con_every"`
}

// Limits bound what the gateway holds in memory.
type Limits struct {
	// MaxResources is the most resources the server holds; past it a
	// creating PUT gets 5.03. 1..100000, default 512.
	MaxResources int `yaml:"max_resources"`
	// MaxURILength is the longest path of a resource, in bytes; past it
	// 4.14. 1..1024, default 255.
	MaxURILength int `yaml:"max_uri_length"`
	// MaxValueSize is the largest value of a resource, in bytes (whole or
	// in Block1 blocks); past it 4.13. 1..1048576, default 16384.
	MaxValueSize int `yaml:"max_value_size"`
	// MaxObservers is the most observations over all resources; past it a
	// GET is served without observe, and 0 turns observe off. 0..100000,
	// default 256.
	MaxObservers int `yaml:"max_observers"`
	// DedupEntries is the number of answers kept for retransmitted
	// confirmable requests. 64..1048576, default 16384.
	DedupEntries int `yaml:"dedup_entries"`
	// BlockTransfers is the most Block1 uploads in progress at once; past
	// it 5.03. 1..10000, default 64.
	BlockTransfers int `yaml:"block_transfers"`
}

// Resource is one resource served by the gateway.
type Resource struct {
	// URI is the path the resource is served at, such as "sensors/temp": no
	// empty, "." or ".." segments, no query or fragment, not under
	// .well-known/, at most limits.max_uri_length bytes. A leading "/" is
	// accepted in the file and removed. Required, and unique.
	URI string `yaml:"uri"`
	// MediaType is the value's Content-Format: a name such as text/plain or
	// application/json, or a number 0..65535. Default: none, no
	// Content-Format option.
	MediaType *MediaType `yaml:"media_type"`
	// MaxAge is the Max-Age option sent with GET answers, in seconds:
	// 0..4294967295. Default: none, no Max-Age option.
	MaxAge *uint32 `yaml:"max_age"`
	// Value is the resource's representation at boot, at most
	// limits.max_value_size bytes.
	Value string `yaml:"value"`
	// ETag makes responses carry an ETag option: a 16-bit counter, 1 at
	// start and one more on every change.
	ETag bool `yaml:"etag"`
	// Attributes are the link attributes listed for the resource in
	// /.well-known/core, in the order written in the file, such as {title:
	// Temperature, rt: temperature-c}. Names are letters, digits, '-', '_'
	// and '.', not href; values hold no double quote or line break. Numbers
	// are listed bare (ct=0), text quoted; ct and obs are added when not
	// given.
	Attributes Attributes `yaml:"attributes"`
	// Methods are the methods the resource answers: GET, PUT, POST and
	// DELETE, each once, in any case (stored in upper case). A resource with
	// no methods answers 4.05 Method Not Allowed to every request.
	Methods []string `yaml:"methods"`
}

// Attribute is one link attribute, such as title="resource1".
type Attribute struct{ Name, Value string }

// Attributes are link attributes in the order they were written.
//
// In YAML they are a mapping; scalar values are taken as their text, so that
// ct: 0 gives the value "0", and an empty value gives "".
type Attributes []Attribute

// MediaType is a CoAP Content-Format number (RFC 7252 section 12.3).
//
// In YAML it is written as a name, such as text/plain, or as a number
// 0..65535.
type MediaType uint16

// String returns the media type's name, such as "text/plain", or its number
// when it has no name.
func (m MediaType) String() string { return coap.MediaType(m).String() }

// ParseMediaType parses a media type name, such as "application/json", or a
// number 0..65535, with the CoAP engine's table of names.
func ParseMediaType(s string) (MediaType, error) {
	m, err := coap.ParseMediaType(s)
	if err == nil && m == coap.NoMediaType {
		err = fmt.Errorf("%q is not a known media type (use a name such as text/plain or a number 0..65535)", s)
	}
	if err != nil {
		return 0, err
	}
	return MediaType(m), nil
}

// Duration is a time.Duration written in YAML as "200ms", "5s" or "1h". It is
// never negative.
type Duration time.Duration

// String formats d like time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// defaultDTLS returns what a dtls section starts from before its keys are
// read.
func defaultDTLS() *DTLS {
	return &DTLS{
		Listen: []string{"0.0.0.0:5684", "[::]:5684"},
		Hint:   "pigw",
	}
}

// defaults returns the configuration of an empty file.
func defaults() *Config {
	return &Config{
		CoAP: CoAP{
			Listen:           []string{"0.0.0.0:5683", "[::]:5683"},
			DiscoveryLeisure: Duration(5 * time.Second),
			Observe:          Observe{ConEvery: 5},
			Limits: Limits{
				MaxResources:   512,
				MaxURILength:   255,
				MaxValueSize:   16384,
				MaxObservers:   256,
				DedupEntries:   16384,
				BlockTransfers: 64,
			},
		},
		System: System{Hostname: defaultHostname, Watchdog: ptrTo(true)},
		Wifi:   defaultWifi(),
		Time:   Time{Interval: Duration(time.Hour)},
		Update: defaultUpdate(),
		LwM2M:  defaultLwM2M(),
		RD:     defaultRD(),
	}
}
