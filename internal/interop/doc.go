// Package interop tests the real pigw binary against real CoAP peers.
//
// Unit tests in appliance/coap exercise the server in-process with a Go
// client; they cannot catch what only shows when the shipped command runs as
// its own process: flag and config handling, logging, signals and exit
// codes, the state directory across restarts and crashes, sockets on IPv4 and
// IPv6, multicast group membership, and the way an independent
// implementation (libcoap's coap-client-notls) reads our answers.
//
// TestMain builds ./cmd/pigw once with the race detector, and every test runs
// that binary as a child process on a free loopback UDP port, talking to it
// with coap-client-notls (from Debian's libcoap3-bin) or with raw UDP
// datagrams. The multicast test makes its own network namespace and needs
// root. Traffic only ever goes to loopback or into namespaces the tests made.
//
// The package holds no code besides its tests; run them with
//
//	go test -race -count=1 ./internal/interop/
package interop
