package config

import "time"

// RD is pigw registered with a CoRE Resource Directory (RFC 9176): the directory lists pigw's
// own /.well-known/core, so that clients beyond the LAN, where multicast discovery does not
// reach, find its resources by a lookup.
type RD struct {
	// Server is the Resource Directory: coap://host[:port] or coaps://host[:port], the
	// scheme in any case, as a session's peer is written. The port is by default 5683 for
	// coap and 5684 for coaps. Default: none, no registration, which "" also means.
	Server string `yaml:"server"`
	// Identity is the PSK identity for a coaps server: 1..128 bytes, required with coaps
	// and not allowed with coap. It may stay while server is left out.
	Identity string `yaml:"identity"`
	// PSK is the key for identity: 1..64 bytes, as text or as 0x and hex digits, required
	// with coaps and not allowed with coap. It may stay while server is left out. Errors
	// never show it.
	PSK Secret `yaml:"psk"`
	// Endpoint is the name pigw registers under (the ep= of the registration): 1..63 of
	// A-Z, a-z, 0-9, '.', '_', ':' and '-'. Default: system.hostname, which "" also means.
	Endpoint string `yaml:"endpoint"`
	// Lifetime is how long the directory keeps the registration without a refresh (the lt=
	// of the registration), in whole seconds: 60s..4294967295s. Default: 90000s (25h, RFC
	// 9176's default), which 0 also means.
	Lifetime Duration `yaml:"lifetime"`
}

// Defaults and rules of the rd section.
const (
	defaultRDLifetime = 90000 * time.Second // what RFC 9176 (section 5) has a directory assume without lt=
	minRDLifetime     = 60 * time.Second    // RFC 9176 allows 1s; shorter than a minute, the refreshes would be most of the traffic
)

// defaultRD returns the rd section of a file that has none.
func defaultRD() RD { return RD{Lifetime: Duration(defaultRDLifetime)} }

// Enabled reports whether pigw registers with a Resource Directory: Server is given.
func (r RD) Enabled() bool { return r.Server != "" }

// EndpointName returns the name to register under: Endpoint when given, else hostname
// (system.hostname).
func (r RD) EndpointName(hostname string) string { return endpointName(r.Endpoint, hostname) }

// Parsed returns the parts of Server as LwM2M.Parsed does.
func (r RD) Parsed() (scheme, host string, port uint16) { return parsedServer(r.Server) }
