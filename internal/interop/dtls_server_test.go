package interop

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// coapsClient runs libcoap's coap-client-openssl with a PSK identity and key.
func coapsClient(t *testing.T, identity, key string, args ...string) *coapRun {
	t.Helper()
	bin := needTool(t, "coap-client-openssl", "libcoap3-bin")
	full := append([]string{"-v", "6", "-B", "5", "-u", identity, "-k", key}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("coap-client-openssl %s: no end within 30 s", strings.Join(full, " "))
	}
	r := &coapRun{Args: full, Stdout: stdout.String(), Stderr: stderr.String()}
	r.PDUs = parsePDUs(r.Stdout)
	return r
}

// TestDTLSServer drives pigw's DTLS PSK endpoint with libcoap's OpenSSL client: the shared
// PSK, per-identity keys, and wrong keys that fail the handshake before any handler runs.
func TestDTLSServer(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	s := startServer(t, seedConfig(fmt.Sprintf(`  dtls:
    listen: ["127.0.0.1:%d", "[::1]:%d"]
    psk: secretPSK
    hint: pigw
    keys: {alice: alicekey, sensor7: "0x0a1b2c3d"}
`, port, port)))
	s.waitLog(regexp.MustCompile(`msg="listening for DTLS" addr=127\.0\.0\.1:`), 5*time.Second)
	url := func(host, path string) string { return fmt.Sprintf("coaps://%s:%d/%s", host, port, path) }

	tests := []struct {
		name, identity, key, method, path, payload, host string
		code                                             string // "" means no answer at all
	}{
		{"per-identity key", "alice", "alicekey", "get", "resource1", "", "127.0.0.1", "2.05"},
		{"per-identity key over IPv6", "alice", "alicekey", "get", "resource1", "", "[::1]", "2.05"},
		{"shared PSK for any other identity", "bob", "secretPSK", "get", "resource1", "", "127.0.0.1", "2.05"},
		{"binary key written in hex", "sensor7", "\x0a\x1b\x2c\x3d", "get", "resource1", "", "127.0.0.1", "2.05"},
		{"PUT creates over DTLS", "alice", "alicekey", "put", "made/secure", "v1", "127.0.0.1", "2.01"},
		{"wrong key for a listed identity", "alice", "secretPSK", "put", "made/evil", "x", "127.0.0.1", ""},
		{"wrong shared key", "mallory", "guess", "put", "made/evil2", "x", "127.0.0.1", ""},
	}
	for _, tt := range tests {
		args := []string{"-m", tt.method}
		if tt.payload != "" {
			args = append(args, "-e", tt.payload)
		}
		r := coapsClient(t, tt.identity, tt.key, append(args, url(tt.host, tt.path))...)
		rs := r.Responses()
		if tt.code == "" {
			if len(rs) > 0 {
				t.Errorf("%s: answered %s, want a failed handshake", tt.name, rs[0].Line)
			}
			continue
		}
		if len(rs) == 0 || rs[len(rs)-1].Code != tt.code {
			t.Errorf("%s: want %s, got %v\n%s\n%s", tt.name, tt.code, rs, r.Stdout, r.Stderr)
		}
	}
	// The failed handshakes reached no handler: nothing was created.
	r := coapsClient(t, "alice", "alicekey", "-m", "get", url("127.0.0.1", "made/evil"))
	check(t, r, "4.04", nil, nil)
	s.waitLog(regexp.MustCompile(`msg="New resource has been created!" uri=made/secure`), 5*time.Second) // logged after the answer
	if strings.Count(s.Log(), "New resource has been created!") != 1 {
		t.Errorf("resources created: %d, want 1 (made/secure)", strings.Count(s.Log(), "New resource has been created!"))
	}
	// The client's Finished under a wrong key does not authenticate: the server ends the
	// handshake at once with a bad_record_mac alert, counted and logged.
	s.waitLog(regexp.MustCompile(`msg="DTLS handshakes failed"`), 20*time.Second)
	for _, secret := range []string{"secretPSK", "alicekey", "0a1b2c3d", "guess"} {
		if strings.Contains(s.Log(), secret) {
			t.Errorf("the log shows a key (%q)", secret)
		}
	}
	// Plain CoAP on the other port still works, and does not answer DTLS.
	check(t, coapClient(t, "-m", "get", s.URL("resource1")), "2.05", ptr("default_value"), nil)
}
