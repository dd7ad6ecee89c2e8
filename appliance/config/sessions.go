package config

import (
	"encoding/hex"
	"strings"
)

// Session is a client session the appliance opens at start, and the requests
// it sends on it (the original's new_client_session and send_request).
type Session struct {
	// Name names the session, which is served as the resource
	// /sys/sessions/<name>. Required and unique: 1..32 bytes of a-z, 0-9,
	// '_' and '-'.
	Name string `yaml:"name"`
	// Peer is the server to talk to, as a URI: coap://host[:port] or
	// coaps://host[:port], the scheme in any case. The host is an IPv4
	// address, an IPv6 address in brackets or a DNS name; the port 1..65535,
	// by default 5683 for coap and 5684 for coaps. No user info, path, query
	// or fragment. Required.
	Peer string `yaml:"peer"`
	// Identity is the PSK identity for a coaps peer: 1..128 bytes, required
	// with coaps and not allowed with coap.
	Identity string `yaml:"identity"`
	// PSK is the key for identity: 1..64 bytes, as text or as 0x and hex
	// digits, required with coaps and not allowed with coap. Errors never
	// show it.
	PSK Secret `yaml:"psk"`
	// Requests are sent in this order once the session is open. At least
	// one.
	Requests []SessionRequest `yaml:"requests"`
}

// SessionRequest is one request a session sends.
type SessionRequest struct {
	// Name names the request within its session: 1..32 bytes of a-z, 0-9,
	// '_' and '-', unique within the session. Default: "r" and the
	// request's index, such as "r0".
	Name string `yaml:"name"`
	// Method is GET, PUT, POST, DELETE, FETCH, PATCH or iPATCH. Any case is
	// accepted in the file and these spellings stored. Default: GET.
	Method string `yaml:"method"`
	// Path is the resource's path with an optional query, such as
	// ".well-known/core" or "time?fmt=iso": its segments become Uri-Path
	// options, the parts of the query Uri-Query options, each at most 255
	// bytes. No '#' and no control characters. Default: "".
	Path string `yaml:"path"`
	// ContentFormat is the payload's media type: a name such as
	// application/json, or a number 0..65535. Default: none, no
	// Content-Format option.
	ContentFormat *MediaType `yaml:"content_format"`
	// Accept is the media type asked for: a name or a number 0..65535.
	// Default: none, no Accept option.
	Accept *MediaType `yaml:"accept"`
	// Payload is the request's payload. Default: "".
	Payload string `yaml:"payload"`
	// Sensors sends, instead of payload, a snapshot of these sensors'
	// readings as one SenML pack, taken anew at each send: names from the
	// sensors section, or ["*"] for all of them. Each sensor's records
	// carry its base name (urn:dev:pigw:<hostname>:<sensor>:) and the time
	// of its sample; a sensor without a good reading is left out, and while
	// none has one the request waits. POST and PUT only, without payload;
	// content_format is SenML JSON (110, the default) or SenML CBOR (112).
	// Default: none.
	Sensors []string `yaml:"sensors"`
	// Token is the request's token: text taken byte for byte, or "0x"
	// followed by an even number of hex digits. At most 8 bytes (CoAP's
	// limit) once decoded (see TokenBytes). Default: "", a random token.
	Token string `yaml:"token"`
	// IncludeOptions, when false, sends the header, token and payload only,
	// with no options at all (the original's include_options=False); the
	// payload then carries what the server needs, such as the URI.
	// Default: true.
	IncludeOptions *bool `yaml:"include_options"`
	// Confirmable sends the request as CON when true, as NON when false.
	// Default: true.
	Confirmable *bool `yaml:"confirmable"`
	// Every repeats the request at this interval. 0 sends it once, at
	// start; otherwise 100ms..24h. Default: 0.
	Every Duration `yaml:"every"`
	// Timeout bounds the request, from its first transmission to the
	// response. 0 leaves it to the protocol (MAX_TRANSMIT_WAIT, 93 s);
	// otherwise 100ms..10m. Default: 0.
	Timeout Duration `yaml:"timeout"`
}

// Default ports of the schemes a peer may have (RFC 7252 sections 6.1, 6.2).
const (
	coapPort  = 5683
	coapsPort = 5684
)

// TokenBytes returns the token to send: the text of Token, or the bytes its
// hex digits after "0x" give. It returns nil for no token (a random one is
// then used), and also for a Token that is not valid hex or has no digits
// after "0x", which Parse and Validate refuse.
func (r SessionRequest) TokenBytes() []byte {
	if r.Token == "" {
		return nil
	}
	b, msg := decodeHexOrText(r.Token)
	if msg != "" || len(b) == 0 {
		return nil
	}
	return b
}

// Parsed returns the parts of Peer: the scheme in lower case, "coap" or
// "coaps"; the host as written but without the brackets of an IPv6 address,
// so that it can go to net.JoinHostPort; and the port, 5683 for coap and 5684
// for coaps when Peer has none. For a Peer that Validate refuses it returns
// "", "", 0.
func (s Session) Parsed() (scheme, host string, port uint16) {
	p, msg := parsePeer(s.Peer, "peer")
	if msg != "" {
		return "", "", 0
	}
	return p.scheme, p.host, p.port
}

// decodeHexOrText decodes the way Secret and SessionRequest.Token are
// written: "0x" and hex digits, or else the text's own bytes. It says what is
// wrong without showing s, which may be a secret.
func decodeHexOrText(s string) ([]byte, string) {
	digits, ok := strings.CutPrefix(s, "0x")
	if !ok {
		return []byte(s), ""
	}
	b, err := hex.DecodeString(digits)
	if err != nil {
		return nil, "not valid hex after 0x (give an even number of hex digits, such as 0x0102ab)"
	}
	if b == nil {
		b = []byte{}
	}
	return b, ""
}
