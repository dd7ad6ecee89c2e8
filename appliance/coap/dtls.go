package coap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"
)

// DTLS 1.2 with pre-shared keys (RFC 7252 §9.1.3.1), through pion/dtls, the DTLS library
// go-coap uses. Keys are never logged or put in error messages.

// pskSuites are the PSK cipher suites offered and accepted, the one RFC 7252 mandates first.
var pskSuites = []dtls.CipherSuiteID{
	dtls.TLS_PSK_WITH_AES_128_CCM_8,
	dtls.TLS_PSK_WITH_AES_128_GCM_SHA256,
	dtls.TLS_PSK_WITH_AES_128_CCM,
	dtls.TLS_PSK_WITH_AES_128_CBC_SHA256,
}

const handshakeTimeout = 15 * time.Second

// checkClientPSK gives the original's errors for a client PSK set up wrong, in plain words.
func checkClientPSK(psk []byte, identity string) error {
	switch {
	case psk != nil && len(psk) == 0:
		return errors.New("DTLS: the PSK is empty")
	case len(psk) > 0 && identity == "":
		return errors.New("DTLS: a PSK needs an identity to go with it")
	case identity != "" && len(psk) == 0:
		return fmt.Errorf("DTLS: identity %q has no PSK", identity)
	case len(identity) > 128:
		return fmt.Errorf("DTLS: identity of %d bytes: at most 128", len(identity))
	}
	return nil
}

// dialDTLS runs the DTLS handshake over udp and returns the protected connection.
func dialDTLS(udp *net.UDPConn, remote netip.AddrPort, opts SessionOptions) (net.Conn, error) {
	if err := checkClientPSK(opts.PSK, opts.Identity); err != nil {
		return nil, err
	}
	key := append([]byte(nil), opts.PSK...)
	cfg := &dtls.Config{
		PSK:                  func([]byte) ([]byte, error) { return key, nil },
		PSKIdentityHint:      []byte(opts.Identity),
		CipherSuites:         pskSuites,
		ExtendedMasterSecret: dtls.RequestExtendedMasterSecret,
		// A connection ID from the server keeps the session when a NAT changes the
		// client's port (RFC 9146); the client needs none from the server.
		ConnectionIDGenerator: dtls.OnlySendCIDGenerator(),
	}
	conn, err := dtls.Client(dtlsnet.PacketConnFromConn(udp), net.UDPAddrFromAddrPort(remote), cfg)
	if err != nil {
		return nil, fmt.Errorf("DTLS: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(handshakeTimeout, opts.Timeout))
	defer cancel()
	if err := conn.HandshakeContext(ctx); err != nil {
		conn.Close()
		if ctx.Err() != nil {
			// A server drops records it cannot decrypt, so a wrong key looks like silence.
			return nil, fmt.Errorf("%w: DTLS handshake with %s as %q did not complete (the peer is silent, or the key is wrong)", ErrTimeout, remote, opts.Identity)
		}
		if refusedKey(err) {
			return nil, fmt.Errorf("DTLS handshake with %s as %q: the server refused the key (a wrong key, or an identity it does not know)", remote, opts.Identity)
		}
		return nil, fmt.Errorf("DTLS handshake with %s as %q: %w", remote, opts.Identity, err)
	}
	return conn, nil
}

// refusedKey reports whether a handshake ended with the server's alert that it could not
// authenticate the client's Finished: bad_record_mac, or RFC 4279's decrypt_error. pion keeps
// its alert error type unexported, so its text is what can be matched.
func refusedKey(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Alert Fatal: BadRecordMac") || strings.Contains(msg, "Alert Fatal: DecryptError")
}
