package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
)

// tutorialSessions are the client sessions of the Pycom CoAP tutorial.
const tutorialSessions = `sessions:
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
`

// request returns a request with the defaults Parse fills in.
func request(name, method, path string) SessionRequest {
	return SessionRequest{Name: name, Method: method, Path: path, IncludeOptions: ptr(true), Confirmable: ptr(true)}
}

func TestParseSessions(t *testing.T) {
	withSessions := func(s ...Session) *Config {
		c := defaults()
		c.Sessions = s
		return c
	}
	core := request("core", "GET", ".well-known/core")
	core.Token = "session1"
	tm := request("time", "GET", "time")
	tm.Token = "session1"
	tm.Every = Duration(30 * time.Second)
	post := request("r2", "POST", "resource1")
	post.Payload = "new_value"

	for _, tt := range []struct {
		name string
		in   string
		want *Config
	}{
		{
			"tutorial",
			tutorialSessions,
			withSessions(
				Session{Name: "server1", Peer: "coap://192.168.0.101", Requests: []SessionRequest{core, tm}},
				Session{Name: "server2", Peer: "coap://192.168.0.102:5683", Requests: []SessionRequest{
					request("r0", "GET", ".well-known/core"),
					request("r1", "GET", "resource1"),
					post,
				}},
			),
		},
		{"sessions without value", "sessions:\n", withSessions()},
		{"no sessions", "sessions: []\n", withSessions([]Session{}...)},
		{
			"everything set",
			`sessions:
  - name: secure_1-a
    peer: COAPS://[2001:db8::1]:61616
    identity: pigw
    psk: "0x0102ab"
    requests:
      - name: patch
        method: ipatch
        path: /a/b?x=1&y=2
        content_format: application/json
        accept: 60
        payload: '{"v": 1}'
        token: 0x0102030405060708
        include_options: false
        confirmable: false
        every: 24h
        timeout: 10m
      - {method: fetch, path: "", token: "12345678", every: 100ms, timeout: 100ms}
      - {method: Delete, path: resource1, payload: coap://192.168.0.101/resource1, include_options: false}
      - {}
  - name: "0"
    peer: coap://gw.example.
    requests:
      - {name: r3, method: patch, every: 0, timeout: 0s, include_options: true, confirmable: true}
`,
			withSessions(
				Session{
					Name:     "secure_1-a",
					Peer:     "COAPS://[2001:db8::1]:61616",
					Identity: "pigw",
					PSK:      Secret{0x01, 0x02, 0xab},
					Requests: []SessionRequest{
						{
							Name:           "patch",
							Method:         "iPATCH",
							Path:           "/a/b?x=1&y=2",
							ContentFormat:  ptr(MediaType(coap.AppJSON)),
							Accept:         ptr(MediaType(60)),
							Payload:        `{"v": 1}`,
							Token:          "0x0102030405060708",
							IncludeOptions: ptr(false),
							Confirmable:    ptr(false),
							Every:          Duration(24 * time.Hour),
							Timeout:        Duration(10 * time.Minute),
						},
						func() SessionRequest {
							r := request("r1", "FETCH", "")
							r.Token = "12345678"
							r.Every, r.Timeout = Duration(100*time.Millisecond), Duration(100*time.Millisecond)
							return r
						}(),
						func() SessionRequest {
							r := request("r2", "DELETE", "resource1")
							r.Payload = "coap://192.168.0.101/resource1"
							r.IncludeOptions = ptr(false)
							return r
						}(),
						request("r3", "GET", ""),
					},
				},
				Session{Name: "0", Peer: "coap://gw.example.", Requests: []SessionRequest{request("r3", "PATCH", "")}},
			),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("pigw.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%s\nwant\n%s", sessionsText(got.Sessions), sessionsText(tt.want.Sessions))
			}
		})
	}
}

// sessionsText shows sessions for a test failure, the pointers followed and
// the keys in hex.
func sessionsText(ss []Session) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "{%q %q %q psk=%x\n", s.Name, s.Peer, s.Identity, []byte(s.PSK))
		for _, r := range s.Requests {
			fmt.Fprintf(&b, "  %+v ct=%v accept=%v include_options=%v confirmable=%v\n", r, deref(r.ContentFormat), deref(r.Accept), deref(r.IncludeOptions), deref(r.Confirmable))
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestParseDTLS(t *testing.T) {
	withDTLS := func(listen []string, d *DTLS) *Config {
		c := defaults()
		if listen != nil {
			c.CoAP.Listen = listen
		}
		c.CoAP.DTLS = d
		return c
	}
	for _, tt := range []struct {
		name string
		in   string
		want *Config
	}{
		{
			"everything set",
			`coap:
  listen: ["[::1]:5683", "127.0.0.1:5684"]
  dtls:
    listen: ["[::1]:5684", "127.0.0.1:6684"]
    psk: default-key
    hint: gateway-7
    keys: {alice: "alicekey", bob: "0x0102ab", 42: 0x00, carol: 1234}
    admins: [alice, bob]
`,
			withDTLS([]string{"[::1]:5683", "127.0.0.1:5684"}, &DTLS{
				Listen: []string{"[::1]:5684", "127.0.0.1:6684"},
				PSK:    Secret("default-key"),
				Hint:   "gateway-7",
				Keys: []IdentityKey{
					{"alice", Secret("alicekey")},
					{"bob", Secret{0x01, 0x02, 0xab}},
					{"42", Secret{0x00}},
					{"carol", Secret("1234")},
				},
				Admins: []string{"alice", "bob"},
			}),
		},
		{
			"defaults",
			"coap:\n  dtls: {psk: k}\n",
			withDTLS(nil, &DTLS{Listen: []string{"0.0.0.0:5684", "[::]:5684"}, PSK: Secret("k"), Hint: "pigw"}),
		},
		{
			"keys only, no hint",
			"coap:\n  dtls:\n    hint: \"\"\n    keys:\n      alice: |-\n        two\n        lines\n",
			withDTLS(nil, &DTLS{Listen: []string{"0.0.0.0:5684", "[::]:5684"}, Keys: []IdentityKey{{"alice", Secret("two\nlines")}}}),
		},
		{"dtls without value", "coap:\n  dtls:\n", withDTLS(nil, nil)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("pigw.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%s\nwant\n%s", dtlsText(got.CoAP), dtlsText(tt.want.CoAP))
			}
		})
	}
}

// dtlsText shows the listen addresses and DTLS section for a test failure,
// the keys in hex.
func dtlsText(c CoAP) string {
	if c.DTLS == nil {
		return fmt.Sprintf("listen %q, dtls nil", c.Listen)
	}
	d := c.DTLS
	s := fmt.Sprintf("listen %q, dtls listen %q psk %x hint %q admins %q keys", c.Listen, d.Listen, []byte(d.PSK), d.Hint, d.Admins)
	for _, k := range d.Keys {
		s += fmt.Sprintf(" %q=%x", k.Identity, []byte(k.Key))
	}
	return s
}

// TestParseErrorsDTLS has a case for every rule of coap.dtls, each checking
// the whole message with its position.
func TestParseErrorsDTLS(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want string
	}{
		{
			"dtls not a mapping",
			"coap: {dtls: true}\n",
			`pigw.yaml:1:14: coap.dtls: expected a mapping, found true`,
		},
		{
			"dtls unknown field",
			"coap:\n  dtls:\n    psk: secret1\n    ciphers: [ccm8]\n",
			`pigw.yaml:4:5: coap.dtls.ciphers: unknown field (known: listen, psk, hint, keys, admins)`,
		},
		{
			"dtls no key",
			"coap:\n  dtls: {}\n",
			`pigw.yaml:2:9: coap.dtls: no key to let clients in with (give psk, keys or both)`,
		},
		{
			"dtls empty keys",
			"coap:\n  dtls:\n    keys: {}\n",
			`pigw.yaml:3:5: coap.dtls: no key to let clients in with (give psk, keys or both)`,
		},
		{
			"psk empty",
			"coap:\n  dtls:\n    psk: \"\"\n",
			`pigw.yaml:3:10: coap.dtls.psk: empty (a key is 1..64 bytes)`,
		},
		{
			"psk 0x only",
			"coap:\n  dtls:\n    psk: 0x\n",
			`pigw.yaml:3:10: coap.dtls.psk: empty (a key is 1..64 bytes)`,
		},
		{
			"psk too long",
			"coap:\n  dtls:\n    psk: " + strings.Repeat("k", 65) + "\n",
			`pigw.yaml:3:10: coap.dtls.psk: 65 bytes long, more than 64 (a key is 1..64 bytes)`,
		},
		{
			"psk hex too long",
			"coap:\n  dtls:\n    psk: 0x" + strings.Repeat("ab", 65) + "\n",
			`pigw.yaml:3:10: coap.dtls.psk: 65 bytes long, more than 64 (a key is 1..64 bytes)`,
		},
		{
			"psk bad hex",
			"coap:\n  dtls:\n    psk: \"0xZZ\"\n",
			`pigw.yaml:3:10: coap.dtls.psk: not valid hex after 0x (give an even number of hex digits, such as 0x0102ab)`,
		},
		{
			"psk odd hex",
			"coap:\n  dtls:\n    psk: 0x123\n",
			`pigw.yaml:3:10: coap.dtls.psk: not valid hex after 0x (give an even number of hex digits, such as 0x0102ab)`,
		},
		{
			"psk not text",
			"coap:\n  dtls:\n    psk: [s3cr3t]\n",
			`pigw.yaml:3:10: coap.dtls.psk: expected a key (text, or 0x and hex digits), found a list`,
		},
		{
			"keys not a mapping",
			"coap:\n  dtls:\n    keys: s3cr3t\n",
			`pigw.yaml:3:11: coap.dtls.keys: expected a mapping of identities to keys, such as {alice: alicekey, bob: "0x0102ab"}, found a single value`,
		},
		{
			"key empty",
			"coap:\n  dtls:\n    keys:\n      alice: \"\"\n",
			`pigw.yaml:4:14: coap.dtls.keys.alice: empty (a key is 1..64 bytes)`,
		},
		{
			"key missing",
			"coap:\n  dtls:\n    keys:\n      alice:\n      bob: bobkey\n",
			`pigw.yaml:4:7: coap.dtls.keys.alice: no key for identity "alice" (a key is 1..64 bytes)`,
		},
		{
			"key too long",
			"coap:\n  dtls:\n    keys: {alice: " + strings.Repeat("k", 65) + "}\n",
			`pigw.yaml:3:19: coap.dtls.keys.alice: 65 bytes long, more than 64 (a key is 1..64 bytes)`,
		},
		{
			"key bad hex",
			"coap:\n  dtls:\n    keys:\n      alice: alicekey\n      bob: \"0xs3cr3t\"\n",
			`pigw.yaml:5:12: coap.dtls.keys.bob: not valid hex after 0x (give an even number of hex digits, such as 0x0102ab)`,
		},
		{
			"key not text",
			"coap:\n  dtls:\n    keys:\n      alice: {k: s3cr3t}\n",
			`pigw.yaml:4:14: coap.dtls.keys.alice: expected a key (text, or 0x and hex digits), found a mapping`,
		},
		{
			"identity empty",
			"coap:\n  dtls:\n    keys: {alice: a, \"\": b}\n",
			`pigw.yaml:3:22: coap.dtls.keys[""]: identity is empty (an identity is 1..128 bytes)`,
		},
		{
			"identity too long",
			"coap:\n  dtls:\n    keys:\n      " + strings.Repeat("i", 129) + ": k\n",
			`pigw.yaml:4:7: coap.dtls.keys.` + strings.Repeat("i", 129) + `: identity of 129 bytes, more than 128`,
		},
		{
			"identity twice",
			"coap:\n  dtls:\n    keys:\n      alice: a\n      alice: b\n",
			`pigw.yaml:5:7: YAML syntax: mapping key "alice" already defined at [4:7]`,
		},
		{
			"hint too long",
			"coap:\n  dtls:\n    psk: k\n    hint: " + strings.Repeat("h", 129) + "\n",
			`pigw.yaml:4:11: coap.dtls.hint: 129 bytes long, more than 128`,
		},
		{
			"dtls listen port 5683",
			"coap:\n  dtls:\n    listen: [\"0.0.0.0:5683\"]\n    psk: k\n",
			`pigw.yaml:3:14: coap.dtls.listen[0]: "0.0.0.0:5683": port 5683 is plain CoAP; DTLS uses 5684 (coaps)`,
		},
		{
			"dtls listen in coap.listen",
			"coap:\n  listen: [\"0.0.0.0:5683\", \"[::1]:6000\"]\n  dtls:\n    listen: [\"[::]:5684\", \"[::1]:6000\"]\n    psk: k\n",
			`pigw.yaml:4:27: coap.dtls.listen[1]: "[::1]:6000": also in coap.listen[1] (line 2); CoAP and DTLS need addresses of their own`,
		},
		{
			"dtls listen empty",
			"coap:\n  dtls:\n    listen: []\n    psk: k\n",
			`pigw.yaml:3:13: coap.dtls.listen: no address to listen on (give at least one, such as "0.0.0.0:5684")`,
		},
		{
			"dtls listen twice",
			"coap:\n  dtls:\n    listen: [\"[::]:5684\", \"[0::0]:5684\"]\n    psk: k\n",
			`pigw.yaml:3:27: coap.dtls.listen[1]: "[0::0]:5684" is listed twice (first as listen[0])`,
		},
		{
			"dtls listen host name",
			"coap:\n  dtls:\n    listen: [\"localhost:5684\"]\n    psk: k\n",
			`pigw.yaml:3:14: coap.dtls.listen[0]: "localhost:5684": host "localhost" is not an IPv4 or IPv6 address (names are not looked up)`,
		},
		{
			"admin not in keys",
			"coap:\n  dtls:\n    keys: {alice: a}\n    admins: [alice, bob]\n",
			`pigw.yaml:4:21: coap.dtls.admins[1]: "bob" is not an identity in coap.dtls.keys (an admin needs a key of its own)`,
		},
		{
			"admin with psk only",
			"coap:\n  dtls:\n    psk: k\n    admins: [alice]\n",
			`pigw.yaml:4:14: coap.dtls.admins[0]: "alice" is not an identity in coap.dtls.keys (an admin needs a key of its own)`,
		},
		{
			"admin twice",
			"coap:\n  dtls:\n    keys: {alice: a}\n    admins: [alice, alice]\n",
			`pigw.yaml:4:21: coap.dtls.admins[1]: "alice" is listed twice (first as admins[0])`,
		},
		{
			"keys not a mapping, with admins",
			"coap:\n  dtls:\n    keys: [alice]\n    admins: [alice]\n",
			`pigw.yaml:3:11: coap.dtls.keys: expected a mapping of identities to keys, such as {alice: alicekey, bob: "0x0102ab"}, found a list`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) { checkParseError(t, tt.in, tt.want) })
	}
}

// TestParseErrorsSessions has a case for every rule of sessions, each
// checking the whole message with its position.
func TestParseErrorsSessions(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want string
	}{
		{
			"sessions not a list",
			"sessions: {name: a}\n",
			`pigw.yaml:1:11: sessions: expected a list, found a mapping`,
		},
		{
			"session empty",
			"sessions:\n  -\n",
			`pigw.yaml:2:5: sessions[0]: expected a mapping with at least name:, peer: and requests:, found nothing`,
		},
		{
			"session not a mapping",
			"sessions:\n  - server1\n",
			`pigw.yaml:2:5: sessions[0]: expected a mapping, found "server1"`,
		},
		{
			"session unknown field",
			"sessions:\n  - name: a\n    peer: coap://h\n    port: 5683\n    requests: [{}]\n",
			`pigw.yaml:4:5: sessions[0].port: unknown field (known: name, peer, identity, psk, requests)`,
		},
		{
			"request unknown field",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {uri: time}\n",
			`pigw.yaml:5:10: sessions[0].requests[0].uri: unknown field (known: name, method, path, content_format, accept, payload, sensors, token, include_options, confirmable, every, timeout)`,
		},
		{
			"requests not a list",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests: {path: time}\n",
			`pigw.yaml:4:15: sessions[0].requests: expected a list, found a mapping`,
		},
		{
			"name missing",
			"sessions:\n  - peer: coap://h\n    requests: [{}]\n",
			`pigw.yaml:2:5: sessions[0].name: missing (give a name such as server1; the session is served as /sys/sessions/<name>)`,
		},
		{
			"name characters",
			"sessions:\n  - name: Server 1\n    peer: coap://h\n    requests: [{}]\n",
			`pigw.yaml:2:11: sessions[0].name: "Server 1" may only hold a-z, 0-9, '_' and '-'`,
		},
		{
			"name too long",
			"sessions:\n  - name: " + strings.Repeat("s", 33) + "\n    peer: coap://h\n    requests: [{}]\n",
			`pigw.yaml:2:11: sessions[0].name: "` + strings.Repeat("s", 33) + `" is 33 bytes long, more than 32`,
		},
		{
			"name twice",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests: [{}]\n  - name: a\n    peer: coap://g\n    requests: [{}]\n",
			`pigw.yaml:5:11: sessions[1].name: "a" is already used by sessions[0] (line 2)`,
		},
		{
			"peer missing",
			"sessions:\n  - name: a\n    requests: [{}]\n",
			`pigw.yaml:2:5: sessions[0].peer: missing (give a URI such as coap://192.168.0.101 or coaps://[2001:db8::1]:5684)`,
		},
		{
			"peer not a URI",
			"sessions:\n  - name: a\n    peer: 192.168.0.101\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "192.168.0.101": not a URI (write coap://host[:port] or coaps://host[:port])`,
		},
		{
			"peer scheme",
			"sessions:\n  - name: a\n    peer: http://192.168.0.101\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "http://192.168.0.101": scheme "http" is not coap or coaps`,
		},
		{
			"peer path",
			"sessions:\n  - name: a\n    peer: coap://192.168.0.101/time\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://192.168.0.101/time": a peer has no path, query or fragment (write coap://host[:port] or coaps://host[:port])`,
		},
		{
			"peer trailing slash",
			"sessions:\n  - name: a\n    peer: coap://192.168.0.101/\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://192.168.0.101/": a peer has no path, query or fragment (write coap://host[:port] or coaps://host[:port])`,
		},
		{
			"peer query",
			"sessions:\n  - name: a\n    peer: coap://h?x=1\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://h?x=1": a peer has no path, query or fragment (write coap://host[:port] or coaps://host[:port])`,
		},
		{
			"peer fragment",
			"sessions:\n  - name: a\n    peer: \"coap://h#x\"\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://h#x": a peer has no path, query or fragment (write coap://host[:port] or coaps://host[:port])`,
		},
		{
			"peer user info",
			"sessions:\n  - name: a\n    peer: coap://me@h\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://me@h": user info (before "@") is not allowed`,
		},
		{
			"peer no host",
			"sessions:\n  - name: a\n    peer: coap://\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://": no host (write coap://host[:port] or coaps://host[:port])`,
		},
		{
			"peer port without host",
			"sessions:\n  - name: a\n    peer: coap://:5683\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://:5683": no host (write coap://host[:port] or coaps://host[:port])`,
		},
		{
			"peer IPv6 without brackets",
			"sessions:\n  - name: a\n    peer: coap://::1\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://::1": IPv6 address without brackets (write coap://[2001:db8::1] or coap://[2001:db8::1]:5683)`,
		},
		{
			"peer bracket not closed",
			"sessions:\n  - name: a\n    peer: coap://[::1\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://[::1": "[" without "]" (write IPv6 addresses as [2001:db8::1])`,
		},
		{
			"peer bad IPv6",
			"sessions:\n  - name: a\n    peer: coap://[::g]\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://[::g]": host "::g" is not an IPv6 address`,
		},
		{
			"peer IPv4 in brackets",
			"sessions:\n  - name: a\n    peer: coap://[10.0.0.1]\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://[10.0.0.1]": IPv4 address in brackets (brackets are for IPv6 only)`,
		},
		{
			"peer junk after bracket",
			"sessions:\n  - name: a\n    peer: coap://[::1]5683\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://[::1]5683": "5683" after "]" is not a :port`,
		},
		{
			"peer bad host",
			"sessions:\n  - name: a\n    peer: coap://my_server\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://my_server": host "my_server" is not an IPv4 address or a DNS name`,
		},
		{
			"peer bad IPv4",
			"sessions:\n  - name: a\n    peer: coap://192.168.0.300\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://192.168.0.300": host "192.168.0.300" is not an IPv4 address or a DNS name`,
		},
		{
			"peer port 0",
			"sessions:\n  - name: a\n    peer: coap://h:0\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://h:0": port must be 1..65535`,
		},
		{
			"peer port too large",
			"sessions:\n  - name: a\n    peer: coaps://[::1]:65536\n    identity: i\n    psk: k\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coaps://[::1]:65536": port must be 1..65535`,
		},
		{
			"peer port empty",
			"sessions:\n  - name: a\n    peer: \"coap://h:\"\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://h:": port must be 1..65535`,
		},
		{
			"peer port name",
			"sessions:\n  - name: a\n    peer: coap://h:coap\n    requests: [{}]\n",
			`pigw.yaml:3:11: sessions[0].peer: "coap://h:coap": port must be 1..65535`,
		},
		{
			"identity with coap",
			"sessions:\n  - name: a\n    peer: coap://h\n    identity: pigw\n    requests: [{}]\n",
			`pigw.yaml:4:15: sessions[0].identity: "pigw": only for a coaps:// peer (this one is coap://)`,
		},
		{
			"psk with coap",
			"sessions:\n  - name: a\n    peer: coap://h\n    psk: s3cr3t\n    requests: [{}]\n",
			`pigw.yaml:4:10: sessions[0].psk: only for a coaps:// peer (this one is coap://)`,
		},
		{
			"coaps without identity",
			"sessions:\n  - name: a\n    peer: coaps://h\n    psk: s3cr3t\n    requests: [{}]\n",
			`pigw.yaml:2:5: sessions[0].identity: missing (a coaps:// peer needs an identity and a psk)`,
		},
		{
			"coaps without psk",
			"sessions:\n  - name: a\n    peer: COAPS://h\n    identity: pigw\n    requests: [{}]\n",
			`pigw.yaml:2:5: sessions[0].psk: missing (a coaps:// peer needs an identity and a psk)`,
		},
		{
			"coaps identity too long",
			"sessions:\n  - name: a\n    peer: coaps://h\n    identity: " + strings.Repeat("i", 129) + "\n    psk: k\n    requests: [{}]\n",
			`pigw.yaml:4:15: sessions[0].identity: 129 bytes long, more than 128`,
		},
		{
			"coaps psk empty",
			"sessions:\n  - name: a\n    peer: coaps://h\n    identity: pigw\n    psk: \"\"\n    requests: [{}]\n",
			`pigw.yaml:5:10: sessions[0].psk: empty (a key is 1..64 bytes)`,
		},
		{
			"coaps psk too long",
			"sessions:\n  - name: a\n    peer: coaps://h\n    identity: pigw\n    psk: " + strings.Repeat("k", 65) + "\n    requests: [{}]\n",
			`pigw.yaml:5:10: sessions[0].psk: 65 bytes long, more than 64 (a key is 1..64 bytes)`,
		},
		{
			"coaps psk bad hex",
			"sessions:\n  - name: a\n    peer: coaps://h\n    identity: pigw\n    psk: 0xs3cr3t\n    requests: [{}]\n",
			`pigw.yaml:5:10: sessions[0].psk: not valid hex after 0x (give an even number of hex digits, such as 0x0102ab)`,
		},
		{
			"requests missing",
			"sessions:\n  - name: a\n    peer: coap://h\n",
			`pigw.yaml:2:5: sessions[0].requests: no requests (give at least one, such as {path: .well-known/core})`,
		},
		{
			"requests empty",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests: []\n",
			`pigw.yaml:4:15: sessions[0].requests: no requests (give at least one, such as {path: .well-known/core})`,
		},
		{
			"request empty",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      -\n",
			`pigw.yaml:5:9: sessions[0].requests[0]: expected a mapping such as {path: .well-known/core}, found nothing`,
		},
		{
			"request name characters",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {name: Get.Time}\n",
			`pigw.yaml:5:16: sessions[0].requests[0].name: "Get.Time" may only hold a-z, 0-9, '_' and '-'`,
		},
		{
			"request name too long",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {name: " + strings.Repeat("r", 33) + "}\n",
			`pigw.yaml:5:16: sessions[0].requests[0].name: "` + strings.Repeat("r", 33) + `" is 33 bytes long, more than 32`,
		},
		{
			"request name twice",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {name: time}\n      - {name: time}\n",
			`pigw.yaml:6:16: sessions[0].requests[1].name: "time" is already used by sessions[0].requests[0] (line 5)`,
		},
		{
			"request name is a default one",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {path: time}\n      - {name: r0}\n",
			`pigw.yaml:6:16: sessions[0].requests[1].name: "r0" is already the default name of sessions[0].requests[0] (line 5)`,
		},
		{
			"request default name taken",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {name: r1}\n      - {path: time}\n",
			`pigw.yaml:6:9: sessions[0].requests[1].name: the default name "r1" is already used by sessions[0].requests[0] (line 5); give this request a name`,
		},
		{
			"method",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {method: OBSERVE}\n",
			`pigw.yaml:5:18: sessions[0].requests[0].method: "OBSERVE" is not a method (GET, PUT, POST, DELETE, FETCH, PATCH or iPATCH)`,
		},
		{
			"path fragment",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {path: \"time#now\"}\n",
			`pigw.yaml:5:16: sessions[0].requests[0].path: "time#now" contains "#" (a request path has no fragment)`,
		},
		{
			"path control character",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {path: \"a\\nb\"}\n",
			`pigw.yaml:5:16: sessions[0].requests[0].path: "a\nb" contains a control character`,
		},
		{
			"path segment too long",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {path: a/" + strings.Repeat("p", 256) + "}\n",
			`pigw.yaml:5:16: sessions[0].requests[0].path: "a/` + strings.Repeat("p", 256) + `": segment 2 is 256 bytes long, more than a CoAP Uri-Path option holds (255)`,
		},
		{
			"query part too long",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {path: \"a?x=1&" + strings.Repeat("q", 256) + "\"}\n",
			`pigw.yaml:5:16: sessions[0].requests[0].path: "a?x=1&` + strings.Repeat("q", 256) + `": query part 2 is 256 bytes long, more than a CoAP Uri-Query option holds (255)`,
		},
		{
			"token too long",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {token: 123456789}\n",
			`pigw.yaml:5:17: sessions[0].requests[0].token: "123456789": 9 bytes, CoAP allows at most 8`,
		},
		{
			"token hex too long",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {token: 0x010203040506070809}\n",
			`pigw.yaml:5:17: sessions[0].requests[0].token: "0x010203040506070809": 9 bytes, CoAP allows at most 8`,
		},
		{
			"token bad hex",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {token: 0xZZ}\n",
			`pigw.yaml:5:17: sessions[0].requests[0].token: "0xZZ": not valid hex after 0x (give an even number of hex digits, such as 0x0102ab)`,
		},
		{
			"token 0x only",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {token: 0x}\n",
			`pigw.yaml:5:17: sessions[0].requests[0].token: "0x": no hex digits after 0x (leave token out for a random one)`,
		},
		{
			"token not text",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {token: [1]}\n",
			`pigw.yaml:5:17: sessions[0].requests[0].token: expected a string, found a list`,
		},
		{
			"include_options not a boolean",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {include_options: no way}\n",
			`pigw.yaml:5:27: sessions[0].requests[0].include_options: "no way" is not a boolean (use true or false)`,
		},
		{
			"confirmable not a boolean",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {confirmable: 0}\n",
			`pigw.yaml:5:23: sessions[0].requests[0].confirmable: 0 is not a boolean (use true or false)`,
		},
		{
			"content_format",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {content_format: text/foo}\n",
			`pigw.yaml:5:26: sessions[0].requests[0].content_format: "text/foo" is not a known media type (use a name such as text/plain or a number 0..65535)`,
		},
		{
			"accept",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {accept: 70000}\n",
			`pigw.yaml:5:18: sessions[0].requests[0].accept: 70000 is not a media type (use a name such as text/plain or a number 0..65535)`,
		},
		{
			"every too short",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {every: 99ms}\n",
			`pigw.yaml:5:17: sessions[0].requests[0].every: 99ms is out of range (0s to send once, or 100ms..24h0m0s)`,
		},
		{
			"every too long",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {every: 25h}\n",
			`pigw.yaml:5:17: sessions[0].requests[0].every: 25h0m0s is out of range (0s to send once, or 100ms..24h0m0s)`,
		},
		{
			"every not a duration",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {every: 30}\n",
			`pigw.yaml:5:17: sessions[0].requests[0].every: 30 is not a duration (use a number with a unit, such as 200ms, 5s or 1h)`,
		},
		{
			"timeout too short",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {timeout: 10ms}\n",
			`pigw.yaml:5:19: sessions[0].requests[0].timeout: 10ms is out of range (0s for the protocol's own, or 100ms..10m0s)`,
		},
		{
			"timeout too long",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {timeout: 11m}\n",
			`pigw.yaml:5:19: sessions[0].requests[0].timeout: 11m0s is out of range (0s for the protocol's own, or 100ms..10m0s)`,
		},
		{
			"timeout negative",
			"sessions:\n  - name: a\n    peer: coap://h\n    requests:\n      - {timeout: -1s}\n",
			`pigw.yaml:5:19: sessions[0].requests[0].timeout: "-1s" is negative (a duration is 0 or more)`,
		},
		{
			"several",
			"coap:\n  listen: [\"[::]:6000\"]\n  dtls:\n    listen: [\"[::]:6000\", \"[::]:5683\"]\n    keys: {alice: \"0xZZ\", \"\": k}\n    admins: [bob]\nsessions:\n  - name: Server1\n    peer: coaps://h\n    requests:\n      - {name: x, every: 1ms}\n      - {name: x, token: 123456789}\n  - name: Server1\n    peer: coap://[::1]:0\n",
			`pigw.yaml:4:14: coap.dtls.listen[0]: "[::]:6000": also in coap.listen[0] (line 2); CoAP and DTLS need addresses of their own
pigw.yaml:4:27: coap.dtls.listen[1]: "[::]:5683": port 5683 is plain CoAP; DTLS uses 5684 (coaps)
pigw.yaml:5:19: coap.dtls.keys.alice: not valid hex after 0x (give an even number of hex digits, such as 0x0102ab)
pigw.yaml:5:27: coap.dtls.keys[""]: identity is empty (an identity is 1..128 bytes)
pigw.yaml:6:14: coap.dtls.admins[0]: "bob" is not an identity in coap.dtls.keys (an admin needs a key of its own)
pigw.yaml:8:5: sessions[0].identity: missing (a coaps:// peer needs an identity and a psk)
pigw.yaml:8:5: sessions[0].psk: missing (a coaps:// peer needs an identity and a psk)
pigw.yaml:8:11: sessions[0].name: "Server1" may only hold a-z, 0-9, '_' and '-'
pigw.yaml:11:26: sessions[0].requests[0].every: 1ms is out of range (0s to send once, or 100ms..24h0m0s)
pigw.yaml:12:16: sessions[0].requests[1].name: "x" is already used by sessions[0].requests[0] (line 11)
pigw.yaml:12:26: sessions[0].requests[1].token: "123456789": 9 bytes, CoAP allows at most 8
pigw.yaml:13:5: sessions[1].requests: no requests (give at least one, such as {path: .well-known/core})
pigw.yaml:13:11: sessions[1].name: "Server1" may only hold a-z, 0-9, '_' and '-'
pigw.yaml:14:11: sessions[1].peer: "coap://[::1]:0": port must be 1..65535`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) { checkParseError(t, tt.in, tt.want) })
	}
}

// TestSecretNeverShown checks that keys show as *** in every format, in
// JSON, in logs and in errors.
func TestSecretNeverShown(t *testing.T) {
	const text = "s3cr3t-text-key"
	c, err := Parse("pigw.yaml", []byte(`coap:
  dtls:
    psk: `+text+`
    keys: {alice: `+text+`, bob: "0x5ec7e7"}
sessions:
  - name: a
    peer: coaps://h
    identity: pigw
    psk: `+text+`
    requests: [{}]
lwm2m:
  server: coaps://leshan
  identity: pigw
  psk: `+text+`
rd:
  server: coaps://rd
  identity: pigw
  psk: "0x5ec7e7"
`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.CoAP.DTLS.PSK
	if string(s) != text || string(c.Sessions[0].PSK) != text || string(c.CoAP.DTLS.Keys[1].Key) != "\x5e\xc7\xe7" ||
		string(c.LwM2M.PSK) != text || string(c.RD.PSK) != "\x5e\xc7\xe7" {
		t.Fatalf("Parse gave the wrong keys")
	}

	if got, want := fmt.Sprintf("%v %s %+v %#v", s, s, s, s), "*** *** *** ***"; got != want {
		t.Errorf(`fmt.Sprintf("%%v %%s %%+v %%#v", secret...) = %q, want %q`, got, want)
	}
	if got, want := fmt.Sprintf("%x|%X|%q|%d|%8s|%T", s, s, s, s, s, s), "***|***|***|***|***|config.Secret"; got != want {
		t.Errorf("other verbs give %q, want %q", got, want)
	}
	if s.String() != "***" || s.GoString() != "***" {
		t.Errorf("String() = %q, GoString() = %q, want ***", s.String(), s.GoString())
	}
	if b, err := s.MarshalText(); err != nil || string(b) != "***" {
		t.Errorf("MarshalText() = %q, %v; want ***", b, err)
	}

	js, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	if !bytes.Contains(js, []byte(`"PSK":"***"`)) || !bytes.Contains(js, []byte(`"Key":"***"`)) ||
		bytes.Count(js, []byte(`"PSK":"***"`)) != 4 {
		t.Errorf("json.Marshal(config) = %s, want keys as \"***\"", js)
	}

	var logged bytes.Buffer
	text1 := slog.New(slog.NewTextHandler(&logged, nil))
	text1.Info("config", "dtls", c.CoAP.DTLS, "psk", s, "session", c.Sessions[0], "lwm2m", c.LwM2M, "rd", c.RD)
	json1 := slog.New(slog.NewJSONHandler(&logged, nil))
	json1.Info("config", "dtls", c.CoAP.DTLS, "psk", s, "session", c.Sessions[0], "lwm2m", c.LwM2M, "rd", c.RD)

	shown := []string{
		string(js),
		logged.String(),
		fmt.Sprint(c.CoAP.DTLS, c.Sessions),
		fmt.Sprintf("%v %+v %#v", *c.CoAP.DTLS, *c.CoAP.DTLS, *c.CoAP.DTLS),
		fmt.Sprintf("%v %+v %#v", c.Sessions, c.Sessions, c.Sessions),
		fmt.Sprintf("%x %X %q", c.CoAP.DTLS.Keys, c.CoAP.DTLS.Keys, c.CoAP.DTLS.Keys),
		fmt.Sprintf("%v %+v %#v %x", c.LwM2M, c.LwM2M, c.LwM2M, c.LwM2M),
		fmt.Sprintf("%v %+v %#v %x", c.RD, c.RD, c.RD, c.RD),
		fmt.Sprint(c.LwM2M.PSK, c.RD.PSK),
	}
	for _, out := range shown {
		for _, leak := range []string{text, fmt.Sprintf("%x", text), "5ec7e7", "5EC7E7", "[94 199 231]", "^\xc7"} {
			if strings.Contains(out, leak) {
				t.Errorf("the key shows as %q in\n%s", leak, out)
			}
		}
		if !strings.Contains(out, "***") {
			t.Errorf("no *** in\n%s", out)
		}
	}

	// Nor do errors show keys, whatever is wrong with them.
	_, err = Parse("pigw.yaml", []byte(`coap:
  dtls:
    psk: 0x`+text+`
    keys:
      alice: 0xs3cr3t
      bob: s3cr3t`+strings.Repeat("x", 64)+`
      carol: [s3cr3t]
    admins: [s3cr3t]
sessions:
  - name: a
    peer: coap://h
    psk: s3cr3t
    requests: [{}]
  - name: b
    peer: coaps://h
    identity: pigw
    psk: {s3cr3t: s3cr3t}
    requests: [{}]
lwm2m:
  server: coap://leshan
  psk: s3cr3t
rd:
  psk: 0xs3cr3t
`))
	if err == nil {
		t.Fatal("Parse succeeded, want errors")
	}
	msg := strings.ReplaceAll(err.Error(), `"s3cr3t" is not an identity`, "") // an admin, not a key
	if strings.Contains(msg, "s3cr3t") || strings.Count(err.Error(), "\n") != 8 {
		t.Errorf("errors show a key or are not 9:\n%v", err)
	}
	_, err = Parse("pigw.yaml", []byte("coap:\n  dtls:\n    keys: s3cr3t\n"))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("keys given a single value: error %v, want one that does not show it", err)
	}
}

func TestSessionParsed(t *testing.T) {
	for _, tt := range []struct {
		peer   string
		scheme string
		host   string
		port   uint16
	}{
		{"coap://192.168.0.101", "coap", "192.168.0.101", 5683},
		{"coap://192.168.0.102:5683", "coap", "192.168.0.102", 5683},
		{"coaps://192.168.0.102", "coaps", "192.168.0.102", 5684},
		{"coaps://gw.example:61616", "coaps", "gw.example", 61616},
		{"CoAP://Gw-1.Example.:1", "coap", "Gw-1.Example.", 1},
		{"coap://localhost", "coap", "localhost", 5683},
		{"coap://[2001:db8::1]", "coap", "2001:db8::1", 5683},
		{"coaps://[::1]:65535", "coaps", "::1", 65535},
		{"coap://[fe80::1%eth0]:5683", "coap", "fe80::1%eth0", 5683},
		{"coap://[::ffff:10.0.0.1]", "coap", "::ffff:10.0.0.1", 5683},
		{"coap://" + strings.Repeat("a", 63) + ".example", "coap", strings.Repeat("a", 63) + ".example", 5683},

		{"", "", "", 0},
		{"192.168.0.101", "", "", 0},
		{"coap:192.168.0.101", "", "", 0},
		{"coap+tcp://h", "", "", 0},
		{"coap://h/", "", "", 0},
		{"coap://h:0", "", "", 0},
		{"coap://-h", "", "", 0},
		{"coap://h-", "", "", 0},
		{"coap://a..b", "", "", 0},
		{"coap://1.2.3", "", "", 0},
		{"coap://" + strings.Repeat("a", 64) + ".example", "", "", 0},
		{"coap://" + strings.Repeat("a.", 127) + "b", "", "", 0}, // 255 bytes
		{"coap://" + strings.Repeat("a.", 126) + "b.", "coap", strings.Repeat("a.", 126) + "b.", 5683}, // 253 and a dot
		{"coap://[::1]:", "", "", 0},
		{"coap://[]", "", "", 0},
	} {
		scheme, host, port := Session{Peer: tt.peer}.Parsed()
		if scheme != tt.scheme || host != tt.host || port != tt.port {
			t.Errorf("Session{Peer: %q}.Parsed() = %q, %q, %d; want %q, %q, %d", tt.peer, scheme, host, port, tt.scheme, tt.host, tt.port)
		}
	}
}

func TestTokenBytes(t *testing.T) {
	for _, tt := range []struct {
		token string
		want  []byte
	}{
		{"", nil},
		{"session1", []byte("session1")},
		{"123456789", []byte("123456789")}, // refused by Validate, though
		{"0x00", []byte{0}},
		{"0x0102ABff", []byte{1, 2, 0xab, 0xff}},
		{"0X01", []byte("0X01")},
		{"0x", nil},
		{"0xZZ", nil},
		{"0x123", nil},
	} {
		if got := (SessionRequest{Token: tt.token}).TokenBytes(); !bytes.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("TokenBytes of %q = %#v, want %#v", tt.token, got, tt.want)
		}
	}
}

func TestValidateSessionsAndDTLS(t *testing.T) {
	c := tutorialConfig()
	c.CoAP.DTLS = &DTLS{Listen: []string{"[::]:5684"}, Keys: []IdentityKey{{"alice", Secret("a")}}, Admins: []string{"alice"}}
	c.Sessions = []Session{{
		Name:     "s",
		Peer:     "coaps://h",
		Identity: "pigw",
		PSK:      Secret("k"),
		Requests: []SessionRequest{
			{},
			{Name: "x", Method: "ipatch", IncludeOptions: ptr(false)},
			{Method: "delete", Confirmable: ptr(false)},
		},
	}}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	want := []SessionRequest{
		request("r0", "GET", ""),
		{Name: "x", Method: "iPATCH", IncludeOptions: ptr(false), Confirmable: ptr(true)},
		{Name: "r2", Method: "DELETE", IncludeOptions: ptr(true), Confirmable: ptr(false)},
	}
	if got := c.Sessions[0].Requests; !reflect.DeepEqual(got, want) {
		t.Errorf("Validate left requests\n%s\nwant\n%s", sessionsText(c.Sessions), sessionsText([]Session{{Name: "s", Peer: "coaps://h", Identity: "pigw", Requests: want}}))
	}

	c.CoAP.DTLS.Keys = append(c.CoAP.DTLS.Keys, IdentityKey{"alice", Secret("b")}, IdentityKey{"", nil})
	c.Sessions = append(c.Sessions, Session{Name: "s", Peer: "coap://g", Requests: []SessionRequest{{}}})
	err := c.Validate()
	wantErr := `coap.dtls.keys.alice: identity "alice" is given twice
coap.dtls.keys[""]: identity is empty (an identity is 1..128 bytes)
coap.dtls.keys[""]: no key for identity "" (a key is 1..64 bytes)
sessions[1].name: "s" is already used by sessions[0]`
	if err == nil || err.Error() != wantErr {
		t.Errorf("Validate() = %v\nwant %s", err, wantErr)
	}

	c = &Config{CoAP: tutorialConfig().CoAP}
	c.CoAP.DTLS = &DTLS{}
	wantErr = `coap.dtls.listen: no address to listen on (give at least one, such as "0.0.0.0:5684")
coap.dtls: no key to let clients in with (give psk, keys or both)`
	if err := c.Validate(); err == nil || err.Error() != wantErr {
		t.Errorf("Validate() of an empty DTLS = %v\nwant %s", err, wantErr)
	}
}

func TestSessionSensorsConfig(t *testing.T) {
	for _, tc := range []struct{ name, req, want string }{
		{"GET", `{path: c, sensors: [room]}`, `test.yaml:8:28: sessions[0].requests[0].sensors: sensor readings are sent with POST or PUT, not GET`},
		{"payload too", `{method: PUT, path: c, payload: x, sensors: [room]}`, `sessions[0].requests[0].payload: give either payload or sensors, not both`},
		{"format", `{method: PUT, path: c, content_format: 50, sensors: [room]}`, `sessions[0].requests[0].content_format: 50: sensor readings are sent as SenML JSON (110) or SenML CBOR (112)`},
		{"empty", `{method: PUT, path: c, sensors: []}`, `sessions[0].requests[0].sensors: empty (name sensors, or ["*"] for all of them)`},
		{"unknown", `{method: PUT, path: c, sensors: [room, attic]}`, `sessions[0].requests[0].sensors[1]: "attic" is not in the sensors section (known: room)`},
		{"star and more", `{method: PUT, path: c, sensors: ["*", room]}`, `sessions[0].requests[0].sensors[0]: "*" stands for all sensors; list it alone`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte("sensors:\n  - {name: room, kind: simulated}\nsessions:\n  - name: up\n    peer: coap://127.0.0.1\n    requests:\n      -\n        "+tc.req+"\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error %v, want %s", err, tc.want)
			}
		})
	}
	c, err := Parse("test.yaml", []byte("sensors:\n  - {name: room, kind: simulated}\nsessions:\n  - name: up\n    peer: coap://127.0.0.1\n    requests:\n      - {method: POST, sensors: [\"*\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cf := c.Sessions[0].Requests[0].ContentFormat; cf == nil || coap.MediaType(*cf) != coap.AppSenMLJSON {
		t.Errorf("content format %v, want SenML JSON by default", cf)
	}
}
