package interop

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/syncbuf"
)

// libcoapServer is one of libcoap's example servers (coap-server-notls or
// coap-server-openssl) run by a test as a peer for pigw's client, with its
// -v 7 trace kept: it prints every datagram it receives and sends.
type libcoapServer struct {
	t      *testing.T
	port   int // UDP; DTLS is on port+1
	addr   string
	log    *syncbuf.Buffer
	cmd    *exec.Cmd
	done   chan struct{}
	cancel context.CancelFunc
}

// libcoapServerDeadline bounds each libcoap server a test starts.
const libcoapServerDeadline = 3 * time.Minute

// startLibcoap starts bin (coap-server-notls or coap-server-openssl) on
// 127.0.0.1 and a free port, with -d 10 (PUT creates up to 10 resources)
// and args, and waits until it has made its UDP endpoint. Cleanup kills it.
func startLibcoap(t *testing.T, bin string, args ...string) *libcoapServer {
	t.Helper()
	path := needTool(t, bin, "libcoap3-bin")
	var lastLog string
	for range 5 {
		port := freePort(t)
		if strings.Contains(bin, "openssl") {
			// DTLS goes on port+1, which must be free too.
			c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port+1))
			if err != nil {
				continue
			}
			c.Close()
		}
		full := append([]string{"-A", "127.0.0.1", "-p", strconv.Itoa(port), "-d", "10", "-v", "7"}, args...)
		s, err := launchLibcoap(t, nil, path, full, "127.0.0.1", port)
		if err == nil {
			return s
		}
		lastLog = err.Error()
	}
	t.Fatalf("start %s: %s", bin, lastLog)
	return nil
}

// launchLibcoap runs argv (under prefix, such as ip netns exec NAME) and
// waits for "created UDP  endpoint ADDR:PORT" in its trace, which it prints
// at -v 7.
func launchLibcoap(t *testing.T, prefix []string, bin string, args []string, addr string, port int) (*libcoapServer, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), libcoapServerDeadline)
	argv := append(append(append([]string{}, prefix...), bin), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	log := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	s := &libcoapServer{t: t, port: port, addr: addr, log: log, cmd: cmd, done: make(chan struct{}), cancel: cancel}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	// A server with DTLS creates its DTLS endpoint (on port+1) after the UDP one: a client
	// that tried it in between got ICMP port unreachable ("connection refused").
	ready := []string{"created UDP  endpoint " + net.JoinHostPort(addr, strconv.Itoa(port))}
	if strings.Contains(filepath.Base(bin), "openssl") {
		ready = append(ready, "created DTLS endpoint "+net.JoinHostPort(addr, strconv.Itoa(port+1)))
	}
	listening := func() bool {
		out := log.String()
		return !slices.ContainsFunc(ready, func(line string) bool { return !strings.Contains(out, line) })
	}
	deadline := time.After(10 * time.Second)
	for !listening() {
		select {
		case <-s.done:
			cancel()
			return nil, fmt.Errorf("%s exited before listening:\n%s", strings.Join(argv, " "), tail(log.String(), 3000))
		case <-deadline:
			s.stop()
			return nil, fmt.Errorf("%s: no %q within 10 s:\n%s", strings.Join(argv, " "), ready, tail(log.String(), 3000))
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("%s trace:\n%s", bin, tail(log.String(), 6000))
		}
	})
	return s, nil
}

func (s *libcoapServer) stop() {
	s.cancel() // SIGKILL; libcoap's servers keep nothing worth a clean exit
	<-s.done
}

// URL is coap://127.0.0.1:PORT/path.
func (s *libcoapServer) URL(path string) string {
	return fmt.Sprintf("coap://%s/%s", net.JoinHostPort(s.addr, strconv.Itoa(s.port)), path)
}

// SecureURL is coaps://127.0.0.1:PORT+1/path.
func (s *libcoapServer) SecureURL(path string) string {
	return fmt.Sprintf("coaps://%s/%s", net.JoinHostPort(s.addr, strconv.Itoa(s.port+1)), path)
}

// Addr is 127.0.0.1:PORT, for coap.Client.NewSession.
func (s *libcoapServer) Addr() string { return net.JoinHostPort(s.addr, strconv.Itoa(s.port)) }

// DTLSAddr is 127.0.0.1:PORT+1.
func (s *libcoapServer) DTLSAddr() string { return net.JoinHostPort(s.addr, strconv.Itoa(s.port+1)) }

var libcoapDirection = regexp.MustCompile(`: (received|sent) \d+ bytes$|Observe PDU presented to app`)

// Received is every message the server received so far, in order. Its
// trace prints "received N bytes" (or "sent N bytes") before each message;
// the requests it makes up itself to build notifications are left out.
func (s *libcoapServer) Received() []pdu {
	var out []pdu
	dir := ""
	for _, line := range strings.Split(s.log.String(), "\n") {
		if m := libcoapDirection.FindStringSubmatch(line); m != nil {
			dir = m[1]
			continue
		}
		if p := parsePDUs(line); len(p) == 1 {
			if dir == "received" {
				out = append(out, p[0])
			}
			dir = ""
		}
	}
	return out
}

// ReceivedMID is the last message received with message ID mid; the test
// fails if there is none within 2 s (the trace may lag the answer).
func (s *libcoapServer) ReceivedMID(t *testing.T, mid uint16) pdu {
	t.Helper()
	want := fmt.Sprintf("%04x", mid)
	deadline := time.Now().Add(2 * time.Second)
	for {
		rs := s.Received()
		for i := len(rs) - 1; i >= 0; i-- {
			if rs[i].MID == want {
				return rs[i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("libcoap received no message with MID %s; it received:\n%s", want, pduLines(rs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pduLines(ps []pdu) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Line)
		b.WriteByte('\n')
	}
	return tail(b.String(), 4000)
}

// libcoapIndex is the start of the payload of libcoap's server at /.
const libcoapIndex = "This is a test server made with libcoap (see https://libcoap.net)\n"

// eventually polls cond for up to 2 s: the trace reaches the buffer a moment
// after libcoap wrote it, so it can lag behind the answers a client got.
func (s *libcoapServer) eventually(cond func() bool) bool {
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// traceHas waits up to 2 s for the trace to contain substr.
func (s *libcoapServer) traceHas(substr string) bool {
	return s.eventually(func() bool { return strings.Contains(s.log.String(), substr) })
}
