package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/syncbuf"
)

// The tests in this file run "pigw coap ..." (the binary TestMain built)
// against libcoap's example servers, and check its output, its exit status
// and, from the servers' traces, what it sent.

// cliRun is one run of pigw coap.
type cliRun struct {
	Args           []string
	Stdout, Stderr string
	Code           int
	Took           time.Duration
}

func (r cliRun) String() string {
	return fmt.Sprintf("pigw %s: exit %d after %v\nstdout: %q\nstderr: %q",
		strings.Join(r.Args, " "), r.Code, r.Took.Round(time.Millisecond), tail(r.Stdout, 2000), tail(r.Stderr, 2000))
}

// pigwCoAP runs pigw coap args with stdin (nil: empty) and a 60 s deadline.
func pigwCoAP(t *testing.T, stdin []byte, args ...string) cliRun {
	t.Helper()
	return pigwCoAPPrefix(t, nil, stdin, args...)
}

// pigwCoAPPrefix is pigwCoAP under a command prefix, such as ip netns exec NAME.
func pigwCoAPPrefix(t *testing.T, prefix []string, stdin []byte, args ...string) cliRun {
	t.Helper()
	return pigwCommand(t, prefix, stdin, append([]string{"coap"}, args...)...)
}

// pigwCommand runs pigw with args (under prefix) to its end, within 60 s.
func pigwCommand(t *testing.T, prefix []string, stdin []byte, full ...string) cliRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append(append(append([]string{}, prefix...), pigwBin), full...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = bytes.NewReader(stdin)
	// The race runtime sleeps 1 s before exiting, for reports from other
	// goroutines; 100 ms is enough for a command line that has finished.
	cmd.Env = append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=100"))
	start := time.Now()
	err := cmd.Run()
	r := cliRun{Args: full, Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("pigw %s: no end within 60 s\n%s", strings.Join(full, " "), r)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("pigw %s: %v", strings.Join(full, " "), err)
	}
	for _, bad := range []string{"panic", "DATA RACE"} {
		if strings.Contains(r.Stderr, bad) {
			t.Errorf("pigw %s: stderr contains %q:\n%s", strings.Join(full, " "), bad, r.Stderr)
		}
	}
	return r
}

// wantExit fails the test unless r exited with code and stderr holds every
// one of substrs.
func wantExit(t *testing.T, r cliRun, code int, substrs ...string) {
	t.Helper()
	if r.Code != code {
		t.Errorf("exit %d, want %d\n%s", r.Code, code, r)
	}
	for _, s := range substrs {
		if !strings.Contains(r.Stderr, s) {
			t.Errorf("stderr lacks %q\n%s", s, r)
		}
	}
}

var verboseLine = regexp.MustCompile(`(?m)^(\d\.\d\d) .*? (CON|NON|ACK|RST) MID=(\d+) token=([0-9a-f]*) `)

// verboseHeader reads the code, type, MID (as libcoap prints it) and token
// of the first response -v printed.
func verboseHeader(t *testing.T, r cliRun) (code, typ, mid, token string) {
	t.Helper()
	m := verboseLine.FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("-v printed no line like \"2.05 Content ACK MID=123 token=cafe\"\n%s", r)
	}
	n, _ := strconv.Atoi(m[3])
	return m[1], m[2], fmt.Sprintf("%04x", n), m[4]
}

// received is every request libcoap received with code for path (its
// Uri-Path options joined with /; "" for /), waiting up to 2 s for one that
// matches accept (nil: any).
func (s *libcoapServer) received(t *testing.T, code, path string, accept func(pdu) bool) []pdu {
	t.Helper()
	var found []pdu
	ok := s.eventually(func() bool {
		found = found[:0]
		good := false
		for _, p := range s.Received() {
			var segs []string
			for _, o := range p.Options {
				if v, ok := strings.CutPrefix(o, "Uri-Path:"); ok {
					segs = append(segs, v)
				}
			}
			if p.Code == code && strings.Join(segs, "/") == path {
				found = append(found, p)
				good = good || accept == nil || accept(p)
			}
		}
		return good
	})
	if !ok {
		t.Fatalf("libcoap received no such %s for %q; it received:\n%s", code, path, pduLines(s.Received()))
	}
	return found
}

// lastReceived is the last request libcoap received with code for path.
func (s *libcoapServer) lastReceived(t *testing.T, code, path string) pdu {
	t.Helper()
	rs := s.received(t, code, path, nil)
	return rs[len(rs)-1]
}

func hasOpt(p pdu, o string) bool {
	for _, have := range p.Options {
		if have == o {
			return true
		}
	}
	return false
}

// TestCLIRequests runs pigw coap get/put/... against coap-server-notls.
func TestCLIRequests(t *testing.T) {
	t.Parallel()
	srv := startLibcoap(t, "coap-server-notls", "-d", "50")
	dir := t.TempDir()
	U := srv.URL

	t.Run("get", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "get", U(""))
		wantExit(t, r, 0)
		if !strings.HasPrefix(r.Stdout, libcoapIndex) || !strings.HasSuffix(r.Stdout, "others\n\n") {
			t.Errorf("stdout is not libcoap's index, exactly\n%s", r)
		}
		if r.Stderr != "" {
			t.Errorf("stderr not empty without -v\n%s", r)
		}
	})
	t.Run("get -v", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "get", "-v", U("time"))
		wantExit(t, r, 0, "2.05 Content", "MaxAge: 1")
		code, typ, mid, tok := verboseHeader(t, r)
		if code != "2.05" || typ != "ACK" || tok == "" {
			t.Errorf("-v: code %s type %s token %q, want 2.05 ACK and the token\n%s", code, typ, tok, r)
		}
		got := srv.lastReceived(t, "GET", "time")
		if got.MID != mid || got.Token != tok {
			t.Errorf("-v printed MID %s token %s; libcoap received %s", mid, tok, got.Line)
		}
		if strings.Contains(r.Stdout, "MID=") || len(strings.TrimSpace(r.Stdout)) == 0 {
			t.Errorf("stdout should hold only the payload (the time)\n%s", r)
		}
	})
	t.Run("get separate response", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "get", "-v", U("async?1"))
		wantExit(t, r, 0)
		if r.Stdout != "done" {
			t.Errorf("stdout %q, want done\n%s", r.Stdout, r)
		}
		if _, typ, _, _ := verboseHeader(t, r); typ != "CON" {
			t.Errorf("-v type %s, want the separate response's CON\n%s", typ, r)
		}
	})
	t.Run("query and percent-encoding", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "get", U("hello%20world/x?k=v&flag"))
		wantExit(t, r, 1, "4.04")
		got := srv.lastReceived(t, "GET", "hello world/x")
		for _, o := range []string{"Uri-Query:k=v", "Uri-Query:flag"} {
			if !hasOpt(got, o) {
				t.Errorf("libcoap received %s, want %s", got.Line, o)
			}
		}
	})
	t.Run("percent-encoded reserved characters", func(t *testing.T) {
		t.Parallel()
		// RFC 7252 §6.4: the URL is split at / and & first, then each
		// segment is percent-decoded: %2F stays inside its segment, %26
		// inside its query, and + is not a space.
		r := pigwCoAP(t, nil, "get", U("pct/a%2Fb?x=%26y&c+d"))
		wantExit(t, r, 1, "4.04")
		var got pdu
		srv.eventually(func() bool {
			for _, p := range srv.Received() {
				if v, _ := p.Opt("Uri-Path"); v == "pct" && p.Code == "GET" {
					got = p
					return true
				}
			}
			return false
		})
		want := []string{"Uri-Path:pct", "Uri-Path:a/b", "Uri-Query:x=&y", "Uri-Query:c+d"}
		if strings.Join(got.Options, ", ") != strings.Join(want, ", ") {
			t.Errorf("pigw coap get 'coap://127.0.0.1:PORT/pct/a%%2Fb?x=%%26y&c+d' sends options [%s], want [%s]",
				strings.Join(got.Options, ", "), strings.Join(want, ", "))
		}
	})
	t.Run("4.04", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "get", U("no/such/thing"))
		wantExit(t, r, 1, "4.04")
		if r.Stdout != "" {
			t.Errorf("a 4.04's diagnostic payload went to stdout\n%s", r)
		}
	})
	t.Run("4.05 of FETCH", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "fetch", "-e", "x", U(""))
		wantExit(t, r, 1, "4.05", "Method Not Allowed")
		srv.lastReceived(t, "FETCH", "")
	})
	t.Run("RST", func(t *testing.T) {
		t.Parallel()
		// A Content-Format of 5 bytes is malformed: libcoap answers RST.
		r := pigwCoAP(t, nil, "get", "-O", "12,0x0102030405", U(""))
		wantExit(t, r, 1, "RST")
	})
	t.Run("observe on a resource that does not notify", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "observe", "--count", "2", "--timeout", "5s", U(""))
		wantExit(t, r, 0)
		if !strings.HasPrefix(r.Stdout, libcoapIndex) {
			t.Errorf("stdout %q, want the index once\n%s", r.Stdout, r)
		}
	})
	t.Run("observe 4.04", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "observe", "--timeout", "5s", U("no/such"))
		wantExit(t, r, 1, "4.04")
	})

	// What put sends is read back with get; each case its own resource.
	body := randomBody(99, 5000)
	bodyFile := filepath.Join(dir, "body.bin")
	textFile := filepath.Join(dir, "text.txt")
	if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(textFile, []byte("from a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	puts := []struct {
		name  string
		args  []string
		stdin []byte
		want  []byte   // what get returns afterwards
		opts  []string // options libcoap must have received with the PUT
		typ   string   // the PUT's type as libcoap saw it (default CON)
		token string   // the PUT's token as libcoap saw it
	}{
		{name: "text", args: []string{"-e", "hello"}, want: []byte("hello")},
		{name: "file", args: []string{"-e", "@" + textFile}, want: []byte("from a file\n")},
		{name: "stdin", args: []string{"-e", "-"}, stdin: []byte("from stdin"), want: []byte("from stdin")},
		{name: "json name", args: []string{"-e", `{"a":1}`, "-t", "application/json"}, want: []byte(`{"a":1}`),
			opts: []string{"Content-Format:application/json"}},
		{name: "json number", args: []string{"-e", `{"a":2}`, "-t", "50"}, want: []byte(`{"a":2}`),
			opts: []string{"Content-Format:application/json"}},
		{name: "accept", args: []string{"-e", "x", "-A", "text/plain"}, want: []byte("x"), opts: []string{"Accept:text/plain"}},
		{name: "accept number", args: []string{"-e", "x", "-A", "60"}, want: []byte("x"), opts: []string{"Accept:application/cbor"}},
		{name: "text token", args: []string{"-e", "t", "-T", "cafe"}, want: []byte("t"), token: "63616665"},
		{name: "hex token", args: []string{"-e", "t", "-T", "0xcafe"}, want: []byte("t"), token: "cafe"},
		{name: "NON", args: []string{"-e", "n", "-N"}, want: []byte("n"), typ: "NON"},
		{name: "extra option", args: []string{"-e", "o", "-O", "2048,0x01"}, want: []byte("o"), opts: []string{`2048:\x01`}},
		{name: "block 64", args: []string{"-e", "@" + bodyFile, "-b", "64"}, want: body, opts: []string{"Block1:0/M/64"}},
		{name: "block default", args: []string{"-e", "@" + bodyFile}, want: body, opts: []string{"Block1:0/M/1024"}},
	}
	for i, tc := range puts {
		t.Run("put "+tc.name, func(t *testing.T) {
			t.Parallel()
			path := fmt.Sprintf("cli/%d", i)
			r := pigwCoAP(t, tc.stdin, append([]string{"put", U(path)}, tc.args...)...)
			wantExit(t, r, 0)
			put := srv.lastReceived(t, "PUT", path)
			if len(tc.want) > 1024 {
				// Check the first block, which has Size1.
				put = srv.received(t, "PUT", path, func(p pdu) bool {
					v, _ := p.Opt("Block1")
					return strings.HasPrefix(v, "0/")
				})[0]
				if v, _ := put.Opt("Size1"); v != "5000" {
					t.Errorf("libcoap received %s first, want Size1:5000", put.Line)
				}
			}
			for _, o := range tc.opts {
				if !hasOpt(put, o) {
					t.Errorf("libcoap received %s, want option %s", put.Line, o)
				}
			}
			if typ := cmpOr(tc.typ, "CON"); put.Type != typ {
				t.Errorf("libcoap received %s, want a %s", put.Line, typ)
			}
			if tc.token != "" && put.Token != tc.token {
				t.Errorf("libcoap received token {%s}, want {%s}", put.Token, tc.token)
			}
			gets := [][]string{{"get", U(path)}}
			if len(tc.want) > 1024 {
				gets = append(gets, []string{"get", "-b", "64", U(path)}, []string{"get", "-b", "16", U(path)})
			}
			for _, g := range gets {
				r := pigwCoAP(t, nil, g...)
				wantExit(t, r, 0)
				if !bytes.Equal([]byte(r.Stdout), tc.want) {
					t.Errorf("pigw coap %s: %d bytes on stdout, want the %d put (%.40q)", strings.Join(g, " "), len(r.Stdout), len(tc.want), tc.want)
				}
			}
		})
	}

	t.Run("no options", func(t *testing.T) {
		t.Parallel()
		// The path does not go out: libcoap answers for /.
		r := pigwCoAP(t, nil, "get", "--no-options", "-T", "0x0badcafe", U("time"))
		wantExit(t, r, 0)
		if !strings.HasPrefix(r.Stdout, libcoapIndex) {
			t.Errorf("stdout %.60q, want the index of /\n%s", r.Stdout, r)
		}
		var got pdu
		srv.eventually(func() bool {
			for _, p := range srv.Received() {
				if p.Token == "0badcafe" {
					got = p
					return true
				}
			}
			return false
		})
		if got.Line == "" || len(got.Options) != 0 {
			t.Errorf("libcoap received %q, want a GET without options", got.Line)
		}
	})
	t.Run("observe --count 2", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "observe", "--count", "2", U("time"))
		wantExit(t, r, 0)
		lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
		if len(lines) != 2 || lines[0] == "" || lines[1] == "" {
			t.Errorf("stdout has %d lines, want 2 times\n%s", len(lines), r)
		}
		if r.Took > 10*time.Second {
			t.Errorf("took %v for two notifications a second apart", r.Took)
		}
	})
	t.Run("silent port times out", func(t *testing.T) {
		t.Parallel()
		silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		r := pigwCoAP(t, nil, "get", "--timeout", "1s", fmt.Sprintf("coap://%s/x", silent.LocalAddr()))
		wantExit(t, r, 3)
		if !strings.Contains(strings.ToLower(r.Stderr), "timeout") && !strings.Contains(strings.ToLower(r.Stderr), "no response") {
			t.Errorf("stderr does not say it timed out\n%s", r)
		}
		if r.Took > 5*time.Second {
			t.Errorf("--timeout 1s took %v", r.Took)
		}
	})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestCLIDTLS runs pigw coap against coap-server-openssl with a PSK.
func TestCLIDTLS(t *testing.T) {
	t.Parallel()
	const key, hint = "cli-interop-secret", "pigw-hint"
	srv := startLibcoap(t, "coap-server-openssl", "-k", key, "-h", hint)
	keyFile := filepath.Join(t.TempDir(), "psk")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const wrong = "cli-wrong-key-5678"
	wrongFile := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrongFile, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	hexKey := fmt.Sprintf("0x%x", key)

	tests := []struct {
		name string
		args []string
		code int
	}{
		{"psk", []string{"--identity", "cli-id", "--psk", key}, 0},
		{"psk hex", []string{"--identity", "cli-id", "--psk", hexKey}, 0},
		{"psk-file", []string{"--identity", "cli-id", "--psk-file", keyFile}, 0},
		// libcoap drops the Finished it cannot decrypt: the handshake
		// fails by running out of time, which is exit 3.
		{"wrong psk", []string{"--identity", "cli-id", "--psk", wrong, "--timeout", "3s"}, 3},
		{"wrong psk-file", []string{"--identity", "cli-id", "--psk-file", wrongFile, "--timeout", "3s"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := pigwCoAP(t, nil, append([]string{"get", "-v", srv.SecureURL("")}, tc.args...)...)
			wantExit(t, r, tc.code)
			if tc.code == 0 && !strings.HasPrefix(r.Stdout, libcoapIndex) {
				t.Errorf("stdout %.60q, want libcoap's index", r.Stdout)
			}
			for _, secret := range []string{key, wrong, fmt.Sprintf("%x", key), fmt.Sprintf("%x", wrong)} {
				if strings.Contains(r.Stdout+r.Stderr, secret) {
					t.Errorf("the output shows a key (%s)\n%s", secret, r)
				}
			}
		})
	}
	t.Run("identity reaches the server", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "get", srv.SecureURL(""), "--identity", "cli-identity-2", "--psk", key)
		wantExit(t, r, 0)
		if !srv.traceHas("got psk_identity: 'cli-identity-2'") {
			t.Errorf("libcoap's trace does not show the identity cli-identity-2")
		}
	})
	t.Run("silent coaps peer times out", func(t *testing.T) {
		t.Parallel()
		silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		r := pigwCoAP(t, nil, "get", "--timeout", "1s", "--identity", "x", "--psk", key, fmt.Sprintf("coaps://%s/", silent.LocalAddr()))
		if r.Code != 3 || r.Took > 5*time.Second {
			t.Errorf("pigw coap get --timeout 1s --identity x --psk K coaps://127.0.0.1:SILENT/ exits %d after %v, "+
				"want exit 3 (timeout) after about 1 s\n%s",
				r.Code, r.Took.Round(100*time.Millisecond), r)
		}
	})
}

// TestCLIUsage checks that bad command lines exit 2 with a message naming
// the value and the rule, and send nothing.
func TestCLIUsage(t *testing.T) {
	t.Parallel()
	// Any traffic would go to this socket, which must stay silent.
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	U := fmt.Sprintf("coap://%s/x", sink.LocalAddr())
	S := fmt.Sprintf("coaps://%s/x", sink.LocalAddr())
	tests := []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"no command", []string{}, []string{"Usage:"}},
		{"unknown command", []string{"gte", U}, []string{`"gte"`}},
		{"http URL", []string{"get", "http://x"}, []string{`"http://x"`, "coap:// or coaps://"}},
		{"no host", []string{"get", "coap://"}, []string{`"coap://"`, "no host"}},
		{"port out of range", []string{"get", "coap://127.0.0.1:99999/"}, []string{`"99999"`, "1..65535"}},
		{"port 0", []string{"get", "coap://127.0.0.1:0/"}, []string{`"0"`, "1..65535"}},
		{"fragment", []string{"get", "coap://127.0.0.1/#frag"}, []string{"#frag", "fragment"}},
		{"no URL", []string{"get"}, []string{"one URL", "got 0"}},
		{"two URLs", []string{"get", U, U}, []string{"one URL", "got 2"}},
		{"unknown format", []string{"put", "-e", "x", "-t", "text/foo", U}, []string{`"text/foo"`, "0..65535"}},
		{"accept out of range", []string{"get", "-A", "70000", U}, []string{`"70000"`, "0..65535"}},
		{"token of 9 bytes", []string{"get", "-T", "123456789", U}, []string{`"123456789"`, "9 bytes", "8"}},
		{"hex token of 9 bytes", []string{"get", "-T", "0x010203040506070809", U}, []string{"9 bytes", "8"}},
		{"bad hex token", []string{"get", "-T", "0xZZ", U}, []string{`"0xZZ"`, "hex"}},
		{"block 100", []string{"get", "-b", "100", U}, []string{"100", "16, 32, 64, 128, 256, 512 or 1024"}},
		{"block 2048", []string{"get", "-b", "2048", U}, []string{"2048", "16, 32, 64, 128, 256, 512 or 1024"}},
		{"coaps without psk", []string{"get", S}, []string{"coaps://", "--psk"}},
		{"coaps without identity", []string{"get", "--psk", "k", S}, []string{"coaps://", "--identity"}},
		{"psk with coap", []string{"get", "--identity", "i", "--psk", "k", U}, []string{"--psk", "coaps://"}},
		{"psk and psk-file", []string{"get", "--identity", "i", "--psk", "k", "--psk-file", "/dev/null", S}, []string{"--psk-file", "not both"}},
		{"missing psk-file", []string{"get", "--identity", "i", "--psk-file", "/no/such/psk", S}, []string{"/no/such/psk"}},
		{"missing payload file", []string{"put", "-e", "@/no/such/file", U}, []string{"/no/such/file", "no such file"}},
		{"bad option number", []string{"get", "-O", "x,1", U}, []string{`"x,1"`, "NUMBER,VALUE"}},
		{"option number too big", []string{"get", "-O", "65536,1", U}, []string{`"65536,1"`, "0..65535"}},
		{"zero timeout", []string{"get", "--timeout", "0s", U}, []string{"--timeout", "more than 0"}},
		{"negative count", []string{"observe", "--count", "-1", U}, []string{"--count -1"}},
		{"unknown flag", []string{"get", "--bogus", U}, []string{"bogus"}},
	}
	var wg sync.WaitGroup
	runs := make([]cliRun, len(tests))
	for i, tc := range tests {
		wg.Go(func() { runs[i] = pigwCoAP(t, nil, tc.args...) })
	}
	wg.Wait()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantExit(t, runs[i], 2, tc.want...)
			if runs[i].Stdout != "" {
				t.Errorf("stdout not empty on a usage error\n%s", runs[i])
			}
		})
	}
	_ = sink.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := sink.Read(make([]byte, 2048)); err == nil {
		t.Errorf("a usage error still sent a datagram of %d bytes", n)
	}
}

// TestCLIObserveInterrupt stops pigw coap observe with SIGINT: it exits 0
// and deregisters.
func TestCLIObserveInterrupt(t *testing.T) {
	t.Parallel()
	srv := startLibcoap(t, "coap-server-notls")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, pigwBin, "coap", "observe", srv.URL("time"))
	cmd.Env = append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=100"))
	stdout, stderr := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(stdout.String(), "\n") < 2 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("fewer than 2 lines within 10 s: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("observe after SIGINT: %v, want exit 0; stderr %q", err, stderr.String())
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("observe still running 5 s after SIGINT")
	}
	srv.received(t, "GET", "time", func(p pdu) bool { v, _ := p.Opt("Observe"); return v == "1" })
}

// TestCLIMisc covers a server on IPv6 and a separate response that comes
// after --timeout.
func TestCLIMisc(t *testing.T) {
	t.Parallel()
	srv := startLibcoap(t, "coap-server-notls")
	t.Run("separate response too late", func(t *testing.T) {
		t.Parallel()
		r := pigwCoAP(t, nil, "get", "--timeout", "1s", srv.URL("async?4"))
		wantExit(t, r, 3)
		if r.Took > 4*time.Second {
			t.Errorf("--timeout 1s took %v", r.Took)
		}
	})
	t.Run("IPv6", func(t *testing.T) {
		t.Parallel()
		bin := needTool(t, "coap-server-notls", "libcoap3-bin")
		var s6 *libcoapServer
		var err error
		for range 5 {
			port := freePort(t)
			if s6, err = launchLibcoap(t, nil, bin, []string{"-A", "::1", "-p", strconv.Itoa(port), "-v", "7"}, "::1", port); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		r := pigwCoAP(t, nil, "get", "-v", s6.URL("time"))
		wantExit(t, r, 0, "2.05")
		s6.lastReceived(t, "GET", "time")
	})
}
