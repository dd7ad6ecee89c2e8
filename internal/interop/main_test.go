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
	"syscall"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/syncbuf"
)

// pigwBin is the pigw binary built by TestMain, with the race detector.
var pigwBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		fmt.Fprintf(os.Stderr, "interop: cannot find the module root (go env GOMOD: %q, %v)\n", gomod, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "pigw-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	pigwBin = filepath.Join(dir, "pigw")
	build := exec.Command("go", "build", "-race", "-o", pigwBin, "./cmd/pigw")
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: go build -race ./cmd/pigw: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// needTool skips the test when a command it needs is missing, except on CI
// (CI=true), where it fails: there the Makefile's test-deps installs it.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s not found (apt-get install %s, or make test-deps)", name, pkg)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// needRoot skips a test that needs root for why (such as "for ip netns"), except on CI
// (CI=true), where it fails: CI runs the tests as root.
func needRoot(t *testing.T, test, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s needs root (%s) and CI=true: run the tests as root", test, why)
	}
	t.Skipf("%s needs root, %s", test, why)
}

// seedResources is the resources part of the tutorial's server example.
const seedResources = `  resources:
    - uri: resource1
      media_type: text/plain
      value: default_value
      attributes: {title: resource1, ct: "0"}
      methods: [GET, POST, PUT]
    - uri: resource2
      media_type: application/xml
      etag: true
      methods: [GET, POST, PUT, DELETE]
`

// seedConfig is the seed example with extra (indented coap keys) added; the
// listen line is filled in by startServer.
func seedConfig(extra string) string {
	return `coap:
  listen: LISTEN
  service_discovery: false
  dynamic_resources: true
  new_resource_details: {media_type: text/plain, max_age: 100, etag: true}
` + extra + seedResources
}

// server is a pigw process under test.
type server struct {
	t        *testing.T
	port     int
	listen   []string // the addresses it listens on, as in the config
	config   string   // config file path
	stateDir string
	prefix   []string // command before the binary, such as ip netns exec NAME
	args     []string // more flags of pigw run

	mu      sync.Mutex
	cmd     *exec.Cmd
	stderr  *syncbuf.Buffer
	done    chan struct{}
	waitErr error
	retired bool     // this run's log is in logs
	logs    []string // stderr of finished runs, for the panic check
}

// startServer writes cfg (with LISTEN replaced by 127.0.0.1:PORT and
// [::1]:PORT on a free port) and a fresh state directory, starts pigw and
// waits until it listens. Cleanup stops it with SIGTERM and checks that it
// exits 0 within 5 s and never panicked or raced.
func startServer(t *testing.T, cfg string) *server {
	t.Helper()
	return startServerOn(t, cfg, nil, nil)
}

// startServerOn is startServer listening on listen (nil: a free loopback
// port), run under a command prefix such as ip netns exec NAME.
func startServerOn(t *testing.T, cfg string, listen, prefix []string) *server {
	t.Helper()
	return startServerArgs(t, cfg, listen, prefix, nil)
}

// startServerArgs is startServerOn with more flags for pigw run.
func startServerArgs(t *testing.T, cfg string, listen, prefix, more []string) *server {
	t.Helper()
	dir := t.TempDir()
	var lastErr error
	for range 5 {
		s := &server{
			t:        t,
			listen:   listen,
			prefix:   prefix,
			config:   filepath.Join(dir, "pigw.yaml"),
			stateDir: filepath.Join(dir, "state"),
			args:     more,
		}
		if listen == nil {
			s.port = freePort(t)
			s.listen = []string{fmt.Sprintf("127.0.0.1:%d", s.port), fmt.Sprintf("[::1]:%d", s.port)}
		}
		s.writeConfig(cfg)
		if lastErr = s.launch(); lastErr == nil {
			t.Cleanup(s.cleanup)
			return s
		}
		if listen != nil || !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("start pigw: %v", lastErr)
	return nil
}

// withoutWeb turns the status page off in cfg unless cfg has a web section: tests that run
// at once must not all take its default address, 127.0.0.1:8080.
func withoutWeb(cfg string) string {
	if strings.HasPrefix(cfg, "web:") || strings.Contains(cfg, "\nweb:") {
		return cfg
	}
	return strings.TrimRight(cfg, "\n") + "\nweb: {listen: []}\n"
}

func (s *server) writeConfig(cfg string) {
	s.t.Helper()
	quoted := make([]string, len(s.listen))
	for i, a := range s.listen {
		quoted[i] = strconv.Quote(a)
	}
	cfg = strings.Replace(cfg, "LISTEN", "["+strings.Join(quoted, ", ")+"]", 1)
	cfg = withoutWeb(cfg)
	if err := os.WriteFile(s.config, []byte(cfg), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// freePort returns a UDP port free on both 127.0.0.1 and ::1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		c6, err := net.ListenPacket("udp6", fmt.Sprintf("[::1]:%d", port))
		if err != nil {
			continue
		}
		c6.Close()
		return port
	}
	t.Fatal("no free UDP port on 127.0.0.1 and ::1")
	return 0
}

// launch starts the process and waits for msg=listening on every address.
func (s *server) launch() error {
	args := append([]string{}, s.prefix...)
	args = append(args, pigwBin, "run", "--config", s.config, "--state-dir", s.stateDir)
	args = append(args, s.args...)
	cmd := exec.Command(args[0], args[1:]...)
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	cmd.Stdout = stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.stderr, s.done, s.waitErr, s.retired = cmd, stderr, done, nil, false
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.waitErr = err
		s.mu.Unlock()
		close(done)
	}()
	deadline := time.After(20 * time.Second)
	for {
		log := stderr.String()
		ready := true
		for _, a := range s.listen {
			if !strings.Contains(log, "msg=listening addr="+a+"\n") {
				ready = false
			}
		}
		if ready {
			return nil
		}
		select {
		case <-done:
			s.retire()
			return fmt.Errorf("pigw exited before listening: %v\n%s", s.waitErr, log)
		case <-deadline:
			_ = cmd.Process.Kill()
			<-done
			s.retire()
			return fmt.Errorf("pigw not listening on %v after 20 s:\n%s", s.listen, log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// retire keeps the log of an exited run for the final checks.
func (s *server) retire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stderr != nil && !s.retired {
		s.logs = append(s.logs, s.stderr.String())
		s.retired = true
	}
}

// Log is the stderr of the current (or last) run.
func (s *server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// Pid is the process ID of the current run.
func (s *server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

func (s *server) running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and checks that pigw exits 0 within 5 s.
func (s *server) Stop() {
	s.t.Helper()
	if !s.running() {
		s.mu.Lock()
		unexpected := !s.retired
		s.mu.Unlock()
		if unexpected {
			s.retire()
			s.t.Errorf("pigw exited by itself (%v); log:\n%s", s.waitErr, tail(s.Log(), 8000))
		}
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		s.retire()
		s.t.Errorf("pigw did not exit within 5 s of SIGTERM; log:\n%s", s.Log())
		return
	}
	s.retire()
	s.mu.Lock()
	err := s.waitErr
	s.mu.Unlock()
	if err != nil {
		s.t.Errorf("pigw exited with %v after SIGTERM, want status 0; log:\n%s", err, s.Log())
	}
	if !strings.Contains(s.Log(), `msg="pigw stopped"`) {
		s.t.Errorf("no \"pigw stopped\" line after SIGTERM; log:\n%s", s.Log())
	}
}

// Kill sends SIGKILL and waits for the process to go.
func (s *server) Kill() {
	if !s.running() {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.retire()
}

// Restart stops pigw (if running) and starts it again with the same config
// and state directory.
func (s *server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.launch(); err != nil {
		s.t.Fatalf("restart pigw: %v", err)
	}
}

func (s *server) cleanup() {
	s.Stop()
	s.mu.Lock()
	logs := strings.Join(s.logs, "\n--- restart ---\n")
	s.mu.Unlock()
	for _, bad := range []string{"panic", "DATA RACE"} {
		if strings.Contains(logs, bad) {
			s.t.Errorf("pigw's stderr contains %q:\n%s", bad, logs)
		}
	}
	if s.t.Failed() {
		s.t.Logf("pigw log:\n%s", tail(logs, 8000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// waitLog waits up to timeout for the log to match re, and returns the match.
func (s *server) waitLog(re *regexp.Regexp, timeout time.Duration) []string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(s.Log()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no log line matching %s within %v; log:\n%s", re, timeout, tail(s.Log(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// URL is coap://127.0.0.1:PORT/path.
func (s *server) URL(path string) string {
	return fmt.Sprintf("coap://127.0.0.1:%d/%s", s.port, path)
}

// URL6 is coap://[::1]:PORT/path.
func (s *server) URL6(path string) string {
	return fmt.Sprintf("coap://[::1]:%d/%s", s.port, path)
}

// vmRSS reads VmRSS of pid in kB.
func vmRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// ---- coap-client-notls ----

// pdu is one message as coap-client prints it at -v 6:
//
//	v:1 t:ACK c:2.05 i:438c {01} [ Content-Format:text/plain ] :: 'default_value'
type pdu struct {
	Type, Code, MID, Token string
	Options                []string // "Name:value"
	Payload                string   // as printed between quotes, text payloads only
	HasPayload             bool
	Line                   string
}

var pduLine = regexp.MustCompile(`v:1 t:(\w+) c:(\S+) i:([0-9a-f]+) \{([0-9a-f]*)\} \[ (.*?) ?\](?: :: '(.*)')?`)

// Opt returns the value of option name, as coap-client prints it.
func (p pdu) Opt(name string) (string, bool) {
	for _, o := range p.Options {
		if v, ok := strings.CutPrefix(o, name+":"); ok {
			return v, true
		}
	}
	return "", false
}

func (p pdu) IsResponse() bool { return len(p.Code) == 4 && p.Code[1] == '.' }

// coapRun is one run of coap-client-notls.
type coapRun struct {
	Args           []string
	Stdout, Stderr string
	PDUs           []pdu
}

// Responses are the responses it printed, in order.
func (r *coapRun) Responses() []pdu {
	var rs []pdu
	for _, p := range r.PDUs {
		if p.IsResponse() {
			rs = append(rs, p)
		}
	}
	return rs
}

// Requests are the requests it printed, in order.
func (r *coapRun) Requests() []pdu {
	var rs []pdu
	for _, p := range r.PDUs {
		if !p.IsResponse() && p.Code != "0.00" {
			rs = append(rs, p)
		}
	}
	return rs
}

// Last is the last response; the test fails if there is none.
func (r *coapRun) Last(t *testing.T) pdu {
	t.Helper()
	rs := r.Responses()
	if len(rs) == 0 {
		t.Fatalf("coap-client %s: no response\nstdout:\n%s\nstderr:\n%s", strings.Join(r.Args, " "), tail(r.Stdout, 3000), r.Stderr)
	}
	return rs[len(rs)-1]
}

func parsePDUs(out string) []pdu {
	var ps []pdu
	for _, line := range strings.Split(out, "\n") {
		m := pduLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		p := pdu{Type: m[1], Code: m[2], MID: m[3], Token: m[4], Line: line}
		if m[5] != "" {
			p.Options = strings.Split(m[5], ", ")
		}
		if strings.Contains(line, "] :: '") {
			p.HasPayload = true
			p.Payload = m[6]
		}
		ps = append(ps, p)
	}
	return ps
}

// coapClient runs coap-client-notls -v 6 with args (and -B 5 unless args set
// -B), within a deadline, and parses what it printed.
func coapClient(t *testing.T, args ...string) *coapRun {
	t.Helper()
	return coapClientPrefix(t, nil, args...)
}

// coapClientPrefix is coapClient run under a command prefix, such as
// ip netns exec NAME.
func coapClientPrefix(t *testing.T, prefix []string, args ...string) *coapRun {
	t.Helper()
	bin := needTool(t, "coap-client-notls", "libcoap3-bin")
	full := []string{"-v", "6"}
	hasB := false
	for _, a := range args {
		hasB = hasB || a == "-B"
	}
	if !hasB {
		full = append(full, "-B", "5")
	}
	full = append(full, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append(append(append([]string{}, prefix...), bin), full...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &coapRun{Args: full, Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("coap-client %s: no end within 30 s\n%s", strings.Join(full, " "), r.Stdout)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("coap-client %s: %v", strings.Join(full, " "), err)
	}
	r.PDUs = parsePDUs(r.Stdout)
	return r
}

// check asserts the code, options and payload of the last response of a
// coap-client run. wantOpts maps an option name to its printed value; ""
// as a value means the option must be absent.
func check(t *testing.T, r *coapRun, code string, payload *string, wantOpts map[string]string) pdu {
	t.Helper()
	p := r.Last(t)
	cmdline := strings.Join(r.Args, " ")
	if p.Code != code {
		t.Errorf("coap-client %s: code %s, want %s\n%s", cmdline, p.Code, code, p.Line)
	}
	if payload != nil {
		if p.Payload != *payload {
			t.Errorf("coap-client %s: payload %q, want %q\n%s", cmdline, p.Payload, *payload, p.Line)
		}
	}
	for name, want := range wantOpts {
		got, ok := p.Opt(name)
		switch {
		case want == "" && ok:
			t.Errorf("coap-client %s: option %s:%s present, want none\n%s", cmdline, name, got, p.Line)
		case want != "" && got != want:
			t.Errorf("coap-client %s: option %s = %q (present %v), want %q\n%s", cmdline, name, got, ok, want, p.Line)
		}
	}
	return p
}

func ptr(s string) *string { return &s }
