package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/spoof"
)

// TestDTLSFlood is the flood of issue 13: 100,000 DTLS ClientHellos from 100,000 forged sources
// in 127.0.0.0/8 at 20,000 a second. During it an admin's handshake and GET succeed, because a
// forged hello gets a cookie and nothing else; the log gets a line or two, RSS stays flat, and
// afterwards no session is left.
func TestDTLSFlood(t *testing.T) {
	needRoot(t, "the DTLS flood test", "for a raw socket that forges source addresses")
	port := freePort(t)
	s := startServer(t, seedConfig(fmt.Sprintf(`  dtls:
    listen: ["127.0.0.1:%d"]
    keys: {alice: alicekey}
`, port)))
	s.waitLog(regexp.MustCompile(`msg="listening for DTLS"`), 5*time.Second)
	url := fmt.Sprintf("coaps://127.0.0.1:%d/resource1", port)
	if r := pigwCoAP(t, nil, "get", url, "--identity", "alice", "--psk", "alicekey"); r.Code != 0 {
		t.Fatalf("before the flood: %s", r)
	}
	rssBefore := vmRSS(t, s.Pid())
	logBefore := strings.Count(s.Log(), "\n")

	const rate, count = 20000, 100000
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	flood := make(chan spoof.Result, 1)
	go func() {
		res, err := spoof.Send(ctx, spoof.Flood{
			To: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), Payload: spoof.DTLSClientHello(),
			Rate: rate, Count: count, Sources: count,
		})
		if err != nil {
			t.Errorf("flood: %v", err)
		}
		flood <- res
	}()
	time.Sleep(time.Second)
	during := pigwCoAP(t, nil, "get", url, "--identity", "alice", "--psk", "alicekey", "--timeout", "10s")
	res := <-flood
	if during.Code != 0 || strings.TrimSpace(during.Stdout) != "default_value" {
		t.Errorf("the admin's GET during the flood: %s", during)
	}
	t.Logf("flood: %d hellos in %v (%.0f/s); the admin's handshake and GET during it took %v",
		res.Sent, res.Elapsed.Round(time.Millisecond), res.Rate(), during.Took.Round(time.Millisecond))
	if res.Sent != count {
		t.Errorf("the flood sent %d hellos, want %d", res.Sent, count)
	}

	// Wait for the server to drain its socket: the cookie counter stops moving.
	var counters map[string]uint64
	for last, deadline := uint64(0), time.Now().Add(10*time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		counters = getJSON[map[string]uint64](t, s.URL("sys/counters"))
		if counters["dtls_hello_verify"] == last && last > 0 {
			break
		}
		last = counters["dtls_hello_verify"]
	}
	rssAfter := vmRSS(t, s.Pid())
	lines := strings.Split(s.Log(), "\n")[logBefore:]
	t.Logf("counters %v; RSS %d → %d kB; %d log lines during the flood", counters, rssBefore, rssAfter, len(lines)-1)
	if v := counters["dtls_hello_verify"]; v < count*9/10 {
		t.Errorf("dtls_hello_verify = %d, want about %d (the flood did not reach the server?)", v, count)
	}
	if counters["dtls_refused"] != 0 || counters["dtls_handshake_failed"] != 0 {
		t.Errorf("forged hellos took or tried sessions: %v", counters)
	}
	if len(lines) > 36 {
		t.Errorf("%d log lines during the flood, want a few dozen at most:\n%s", len(lines), strings.Join(lines[:36], "\n"))
	}
	if rssAfter > rssBefore+32<<10 {
		t.Errorf("RSS %d kB after the flood, %d kB before: the flood left state", rssAfter, rssBefore)
	}
	info := getJSON[map[string]any](t, s.URL("sys/info"))
	if n, ok := info["dtls_sessions"].(float64); !ok || n != 0 {
		t.Errorf("/sys/info dtls_sessions = %v after the flood and the admin's session, want 0", info["dtls_sessions"])
	}
}

// getJSON GETs url with pigw coap get and decodes the JSON answer.
func getJSON[T any](t *testing.T, url string) T {
	t.Helper()
	var v T
	r := pigwCoAP(t, nil, "get", url)
	if r.Code != 0 {
		t.Fatalf("GET %s: %s", url, r)
	}
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, r.Stdout)
	}
	return v
}
