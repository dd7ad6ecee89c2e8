// Package lwm2mtest runs an LwM2M server that is not pigw's own for pigw's tests to register
// with: lwm2m-node-lib 1.4.0 from npm, behind a small Node harness (peer/harness.js) on a
// loopback UDP port. A test starts one, points a client at Addr, and reads what the server saw
// as events (register, update, deregister, expire, notify) while it sends the client the
// requests a fleet server sends (Read, Write, Execute, Discover, Write-Attributes, Observe,
// Cancel).
//
// An independent implementation keeps the tests honest: a client and a server written from the
// same reading of the specification agree on its mistakes. lwm2m-node-lib is lenient (it checks
// neither the query nor the message type), so the events carry what the client sent, for the
// test to check. It never decodes TLV or SenML: answers come back as bytes, with their code and
// Content-Format. Its bugs that touch the tests are worked around in the harness, each where
// it bites.
//
// lwm2m-node-lib is AGPL-3.0. It is a test tool run as its own process; nothing of it is in
// pigw's binary or image. make test-deps installs it with npm ci from peer/package-lock.json
// into a cache directory, which the Makefile passes to the tests as PIGW_LWM2M_PEER; without
// it the tests skip, and fail under CI=true.
//
// A test reads like this:
//
//	srv := lwm2mtest.Start(t)
//	// ... start the client with server coap://127.0.0.1:<srv.Port()> ...
//	reg, err := srv.Next(ctx, lwm2mtest.Register)
//	r, err := srv.Read(ctx, reg.Endpoint, "/3/0", lwm2mtest.TLV)
//	// r.Code == "2.05", r.Format == lwm2mtest.TLV.Number(), r.Payload: the TLV bytes
package lwm2mtest

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/syncbuf"
)

// EnvPeer names the directory where make test-deps installed lwm2m-node-lib (it holds
// node_modules/lwm2m-node-lib).
const EnvPeer = "PIGW_LWM2M_PEER"

// Version is the lwm2m-node-lib the harness is written for (peer/package.json pins it).
const Version = "1.4.0"

//go:embed peer/harness.js
var harnessJS []byte

// Server is one running harness. Its methods may be called from any goroutine.
type Server struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr syncbuf.Buffer
	host   string
	port   int

	writeMu sync.Mutex // one command line at a time on stdin

	mu     sync.Mutex
	nextID int
	calls  map[int]chan reply
	events []Event
	taken  []bool
	grew   chan struct{} // closed and replaced whenever an event arrives
	gone   chan struct{} // closed once the harness's stdout has ended
	exit   error         // why it ended, once gone is closed

	stopOnce sync.Once
}

// Start runs a harness on a port the kernel picks and waits until it listens. The harness
// stops when the test ends; if the test failed, its stderr and events are logged.
func Start(t testing.TB) *Server { t.Helper(); return StartWith(t, Options{}) }

// StartOn is Start on a given port: a server restarted on the port its clients know.
func StartOn(t testing.TB, port int) *Server { t.Helper(); return StartWith(t, Options{Port: port}) }

// Options say where the server runs.
type Options struct {
	Port int // 0: one the kernel picks
	// Host is the address it listens and sends on: 127.0.0.1 by default; another only in a
	// network namespace the test made (with Prefix), so that nothing leaves the machine.
	Host   string
	Prefix []string // a command the harness runs under, such as ip netns exec NAME
}

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	node, modules := requirePeer(t)
	script := filepath.Join(t.TempDir(), "harness.js")
	if err := os.WriteFile(script, harnessJS, 0o644); err != nil {
		t.Fatal(err)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	port := o.Port
	argv := append(append([]string{}, o.Prefix...), node, script, "--port", strconv.Itoa(port), "--host", o.Host)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(harnessEnv(os.Environ()), "NODE_PATH="+modules)
	s := &Server{t: t, cmd: cmd, host: o.Host, calls: map[int]chan reply{}, grew: make(chan struct{}), gone: make(chan struct{})}
	cmd.Stderr = &s.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the LwM2M harness: %v", err)
	}
	go s.read(stdout)
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("LwM2M harness (port %d) stderr:\n%s", s.port, s.stderr.String())
			t.Logf("LwM2M harness events:\n%s", s.eventLog())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ready, err := s.Next(ctx, Ready)
	if err != nil {
		t.Fatalf("LwM2M harness on port %d did not get ready: %v\n%s", port, err, s.stderr.String())
	}
	s.port = ready.Port
	return s
}

// requirePeer finds node and the installed lwm2m-node-lib, or skips the test (fails it under
// CI=true) with what to run.
func requirePeer(t testing.TB) (node, modules string) {
	t.Helper()
	dir := os.Getenv(EnvPeer)
	if dir == "" {
		skipOrFatal(t, EnvPeer+" is not set: make test-deps installs lwm2m-node-lib "+Version+" with npm into /var/cache/pigw-lwm2m-peer and the Makefile sets it; outside make, set it to that directory")
	}
	modules = filepath.Join(dir, "node_modules")
	b, err := os.ReadFile(filepath.Join(modules, "lwm2m-node-lib", "package.json"))
	if err != nil {
		skipOrFatal(t, fmt.Sprintf("%s=%s: no lwm2m-node-lib there (%v): run make test-deps", EnvPeer, dir, err))
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil || pkg.Version != Version {
		skipOrFatal(t, fmt.Sprintf("%s=%s: lwm2m-node-lib %q, want %s (%v): run make test-deps", EnvPeer, dir, pkg.Version, Version, err))
	}
	node, err = exec.LookPath("node")
	if err != nil {
		skipOrFatal(t, fmt.Sprintf("no node to run lwm2m-node-lib (%v): make test-deps installs Debian's nodejs", err))
	}
	return node, modules
}

func skipOrFatal(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// harnessEnv drops the LWM2M_* variables, which lwm2m-node-lib reads over its configuration
// (LWM2M_PORT, LWM2M_REGISTRY_TYPE=mongodb, ...).
func harnessEnv(env []string) []string {
	var kept []string
	for _, e := range env {
		if !strings.HasPrefix(e, "LWM2M_") && !strings.HasPrefix(e, "NODE_PATH=") {
			kept = append(kept, e)
		}
	}
	return kept
}

// Port is the UDP port the server listens on, on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Addr is the server's address as a client's configuration names it.
func (s *Server) Addr() string {
	return "coap://" + net.JoinHostPort(s.host, strconv.Itoa(s.port))
}

// PID is the harness process's id, for figures (its memory, its CPU time).
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop ends the harness: EOF on its stdin stops the server, and it is killed if it is not gone
// within 5 s. Registrations and observations are lost, as when a real server restarts empty.
// Stop may be called more than once; the test's cleanup calls it too.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.stdin.Close()
		select {
		case <-s.gone:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.gone
		}
	})
}

// read takes the harness's stdout line by line until it ends, then waits for the process.
func (s *Server) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		s.line(sc.Bytes(), time.Now())
	}
	err := s.cmd.Wait()
	if err == nil {
		err = sc.Err()
	}
	s.mu.Lock()
	s.exit = fmt.Errorf("the LwM2M harness exited (%v)", err)
	if err == nil {
		s.exit = errors.New("the LwM2M harness exited")
	}
	for id, c := range s.calls {
		c <- reply{err: s.exit}
		delete(s.calls, id)
	}
	s.mu.Unlock()
	close(s.gone)
}

// line files one line: a reply to its caller, or an event.
func (s *Server) line(b []byte, received time.Time) {
	var head struct {
		Event string `json:"event"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		s.t.Errorf("LwM2M harness printed %q: %v", b, err)
		return
	}
	if head.Event == "" { // a reply to a command; in events, "id" is the registration's
		var r reply
		if err := json.Unmarshal(b, &r); err != nil {
			s.t.Errorf("LwM2M harness printed %q: %v", b, err)
			return
		}
		s.mu.Lock()
		c := s.calls[r.ID]
		delete(s.calls, r.ID)
		s.mu.Unlock()
		if c != nil {
			c <- r
		}
		return
	}
	ev, err := parseEvent(b, received)
	if err != nil {
		s.t.Errorf("LwM2M harness printed %q: %v", b, err)
		return
	}
	if ev.Kind == HarnessError {
		s.t.Errorf("LwM2M harness: %s", ev.Error)
	}
	s.mu.Lock()
	s.events = append(s.events, ev)
	s.taken = append(s.taken, false)
	close(s.grew)
	s.grew = make(chan struct{})
	s.mu.Unlock()
}
