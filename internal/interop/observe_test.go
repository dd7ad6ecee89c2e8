package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/syncbuf"
)

// TestObserve registers libcoap's client as an observer of resource1 and
// checks that it is notified of three PUTs made by another client, in order.
func TestObserve(t *testing.T) {
	t.Parallel()
	s := startServer(t, seedConfig("  observe: {min_interval: 0s, con_every: 2}\n"))
	out := startObserver(t, 6, s.URL("resource1"))

	// The first answer (the registration) carries Observe and the value.
	waitFor(t, out, func(o string) bool {
		for _, p := range parsePDUs(o) {
			if _, ok := p.Opt("Observe"); ok && p.Code == "2.05" && p.Payload == "default_value" {
				return true
			}
		}
		return false
	}, 5*time.Second, "the observe registration answer")

	values := []string{"first-value", "second-value", "third-value"}
	for _, v := range values {
		r := coapClient(t, "-m", "put", "-e", v, "-t", "text/plain", s.URL("resource1"))
		check(t, r, "2.04", nil, nil)
	}
	waitFor(t, out, func(o string) bool { return strings.Contains(o, "'"+values[2]+"'") }, 5*time.Second, "the last notification")

	var got []string
	var seqs []string
	for _, p := range parsePDUs(out.String()) {
		if p.IsResponse() && p.Code == "2.05" {
			if seq, ok := p.Opt("Observe"); ok {
				got = append(got, p.Payload)
				seqs = append(seqs, seq)
			}
		}
	}
	want := append([]string{"default_value"}, values...)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("observer saw %q, want %q\n%s", got, want, out.String())
	}
	for i := 1; i < len(seqs); i++ {
		a, _ := strconv.Atoi(seqs[i-1])
		b, _ := strconv.Atoi(seqs[i])
		if b <= a {
			t.Errorf("notification %d has Observe %s after %s, want it increasing", i, seqs[i], seqs[i-1])
		}
	}
	// A CON notification (con_every: 2) must have been acknowledged by
	// libcoap, and the observer keeps receiving: one more change.
	r := coapClient(t, "-m", "post", "-e", "fourth-value", s.URL("resource1"))
	check(t, r, "2.04", nil, nil)
	waitFor(t, out, func(o string) bool { return strings.Contains(o, "'fourth-value'") }, 5*time.Second, "a fourth notification")

	t.Run("notifications larger than a block", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "observed")
		bin := needTool(t, "coap-client-notls", "libcoap3-bin")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		obs := exec.CommandContext(ctx, bin, "-v", "6", "-B", "10", "-s", "5", "-o", out, "-m", "get", s.URL("resource1"))
		var trace syncbuf.Buffer
		obs.Stdout, obs.Stderr = &trace, &trace
		if err := obs.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		defer func() { cancel(); _ = obs.Wait() }()
		readOut := func() string { b, _ := os.ReadFile(out); return string(b) }
		waitFor(t, stringerFunc(readOut), func(o string) bool { return o == "fourth-value" }, 5*time.Second, "the registration answer in "+out)
		want := "fourth-value"
		for _, c := range []string{"A", "B"} {
			v := strings.Repeat(c, 1500)
			f := filepath.Join(dir, c)
			if err := os.WriteFile(f, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
			check(t, coapClient(t, "-m", "put", "-f", f, "-t", "text/plain", s.URL("resource1")), "2.04", nil, nil)
			want += v
			waitFor(t, stringerFunc(readOut), func(o string) bool { return o == want }, 5*time.Second,
				"the whole "+c+" value in the observer's output")
		}
	})

	// DELETE is not allowed on resource1; observe resource2 for a 4.04 on DELETE.
	t.Run("DELETE notifies 4.04", func(t *testing.T) {
		buf := startObserver(t, 4, s.URL("resource2"))
		waitFor(t, buf, func(o string) bool { return strings.Contains(o, "c:2.05") }, 5*time.Second, "the registration answer")
		check(t, coapClient(t, "-m", "delete", s.URL("resource2")), "2.02", nil, nil)
		waitFor(t, buf, func(o string) bool {
			for _, p := range parsePDUs(o) {
				if p.Code == "4.04" {
					return true
				}
			}
			return false
		}, 5*time.Second, "a 4.04 notification after DELETE")
	})
}

// startObserver runs coap-client-notls -s secs -m get url until the test
// ends, and returns what it prints. Its stdout is made line-buffered with
// stdbuf when there is one: coap-client flushes its trace only after a
// payload, so a bodyless answer would otherwise show only when it exits.
func startObserver(t *testing.T, secs int, url string) *syncbuf.Buffer {
	t.Helper()
	bin := needTool(t, "coap-client-notls", "libcoap3-bin")
	argv := []string{bin, "-v", "6", "-B", strconv.Itoa(secs + 5), "-s", strconv.Itoa(secs), "-m", "get", url}
	if sb, err := exec.LookPath("stdbuf"); err == nil {
		argv = append([]string{sb, "-oL"}, argv...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+15)*time.Second)
	obs := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out := &syncbuf.Buffer{}
	obs.Stdout, obs.Stderr = out, out
	if err := obs.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = obs.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return out
}

// stringerFunc makes a func usable with waitFor.
type stringerFunc func() string

func (f stringerFunc) String() string { return f() }

// waitFor polls buf until ok holds, failing after timeout.
func waitFor(t *testing.T, buf interface{ String() string }, ok func(string) bool, timeout time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok(buf.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v; output:\n%s", what, timeout, tail(buf.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
