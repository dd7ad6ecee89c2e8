package config

import "time"

// LwM2M is pigw as an OMA LwM2M 1.1 client: the server that manages it (Eclipse Leshan,
// ThingsBoard, AVSystem Coiote, ...) and what pigw tells it.
type LwM2M struct {
	// Server is the LwM2M server to register with: coap://host[:port] or
	// coaps://host[:port], the scheme in any case, as a session's peer is written. The port
	// is by default 5683 for coap and 5684 for coaps. Default: none, LwM2M is off, which ""
	// also means.
	Server string `yaml:"server"`
	// Identity is the PSK identity for a coaps server: 1..128 bytes, required with coaps
	// and not allowed with coap. It may stay while server is left out (LwM2M off).
	Identity string `yaml:"identity"`
	// PSK is the key for identity: 1..64 bytes, as text or as 0x and hex digits, required
	// with coaps and not allowed with coap. It may stay while server is left out. Errors
	// never show it.
	PSK Secret `yaml:"psk"`
	// Endpoint is the name pigw registers under (the ep= of the Register): 1..63 of A-Z,
	// a-z, 0-9, '.', '_', ':' and '-', such as pigw-kitchen or urn:dev:pigw-kitchen.
	// Default: system.hostname, which "" also means.
	Endpoint string `yaml:"endpoint"`
	// Lifetime is how long the server keeps the registration without an Update (the lt=
	// of the Register), in whole seconds: 10s..4294967295s. Default: 300s (5m), which 0
	// also means.
	Lifetime Duration `yaml:"lifetime"`
	// Binding is how the server reaches pigw (the b= of the Register): "U", UDP, the only
	// one pigw has. Upper case is stored; any case is accepted in the file. Default: "U",
	// which "" also means.
	Binding string `yaml:"binding"`
	// Objects are the groups of LwM2M objects pigw offers the server, each once: device
	// (object 3), server (object 1), sensors (the IPSO objects of the sensors: 3303
	// temperature, 3304 humidity, 3315 barometer, 3301 illuminance), gpio (3200 Digital
	// Input, 3201 Digital Output) and firmware (object 5). device and server are required:
	// LwM2M asks them of every client. Lower case is stored; any case is accepted in the
	// file. Default: all five.
	Objects []string `yaml:"objects"`
	// ShortServerID is the server's short id (resource /1/0/0): 1..65534, as LwM2M
	// reserves 0 and 65535. Default: 1, which 0 also means.
	ShortServerID int `yaml:"short_server_id"`
}

// The values of LwM2M.Binding.
const LwM2MBindingUDP = "U"

// The values of LwM2M.Objects.
const (
	LwM2MObjectDevice   = "device"
	LwM2MObjectServer   = "server"
	LwM2MObjectSensors  = "sensors"
	LwM2MObjectGPIO     = "gpio"
	LwM2MObjectFirmware = "firmware"
)

// lwm2mObjects returns the values of LwM2M.Objects, in the order of the default.
func lwm2mObjects() []string {
	return []string{LwM2MObjectDevice, LwM2MObjectServer, LwM2MObjectSensors, LwM2MObjectGPIO, LwM2MObjectFirmware}
}

// Defaults and rules of the lwm2m section.
const (
	defaultLwM2MLifetime = 300 * time.Second
	minLwM2MLifetime     = 10 * time.Second // shorter, and the Updates would be most of the traffic
	maxLifetime          = (1<<32 - 1) * time.Second
	defaultShortServerID = 1
	minShortServerID     = 1     // 0 is reserved by LwM2M (and means the default here)
	maxShortServerID     = 65534 // 65535 is reserved by LwM2M
	maxEndpoint          = 63    // bytes in an endpoint name (ep=, RFC 9176 section 5)
)

// defaultLwM2M returns the lwm2m section of a file that has none.
func defaultLwM2M() LwM2M {
	return LwM2M{
		Lifetime:      Duration(defaultLwM2MLifetime),
		Binding:       LwM2MBindingUDP,
		Objects:       lwm2mObjects(),
		ShortServerID: defaultShortServerID,
	}
}

// Enabled reports whether pigw is an LwM2M client: Server is given.
func (l LwM2M) Enabled() bool { return l.Server != "" }

// EndpointName returns the name to register under: Endpoint when given, else hostname
// (system.hostname).
func (l LwM2M) EndpointName(hostname string) string { return endpointName(l.Endpoint, hostname) }

// Parsed returns the parts of Server as Session.Parsed does: the scheme in lower case,
// "coap" or "coaps"; the host, without the brackets of an IPv6 address; and the port, 5683
// for coap and 5684 for coaps when Server has none. For a Server that is empty or that
// Validate refuses it returns "", "", 0.
func (l LwM2M) Parsed() (scheme, host string, port uint16) { return parsedServer(l.Server) }

// endpointName returns endpoint, or hostname when endpoint is "".
func endpointName(endpoint, hostname string) string {
	if endpoint != "" {
		return endpoint
	}
	return hostname
}

// parsedServer returns the parts of the URI of a server, or "", "", 0.
func parsedServer(uri string) (scheme, host string, port uint16) {
	p, msg := parsePeer(uri, "server")
	if uri == "" || msg != "" {
		return "", "", 0
	}
	return p.scheme, p.host, p.port
}
