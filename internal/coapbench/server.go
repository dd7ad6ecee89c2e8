//go:build linux

package coapbench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BenchPayload is the 40-byte value of the benchmark resource.
const BenchPayload = "0123456789012345678901234567890123456789"

// BenchPath is the path of the benchmark resource on both servers.
const BenchPath = "bench"

// Server is a server under test: Start runs it as a child process listening
// on addr, with dir as its scratch directory, and returns once it serves
// BenchPath with BenchPayload.
type Server struct {
	Name  string
	Start func(ctx context.Context, dir string, addr netip.AddrPort) (*Process, error)
}

// Process is a running server under test.
type Process struct {
	Name string
	Addr netip.AddrPort
	Log  string // file holding the child's stdout and stderr

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	once    sync.Once
}

// Pid returns the child's process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the child has exited, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Stop terminates the child: SIGTERM, then SIGKILL after 3 s. It is safe to
// call more than once.
func (p *Process) Stop() {
	p.once.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// startProcess starts name with args, output to dir/<label>.log. The child is
// killed when ctx is done and when this process dies (Pdeathsig).
func startProcess(ctx context.Context, label, dir string, addr netip.AddrPort, name string, args ...string) (*Process, error) {
	logPath := filepath.Join(dir, label+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 3 * time.Second
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	logf.Close()
	p := &Process{Name: label, Addr: addr, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitServing polls GET BenchPath until it returns 2.05 with BenchPayload's
// length, the child exits or limit passes.
func waitServing(ctx context.Context, p *Process, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("%s exited during start-up (%v)\n--- output of %s ---\n%s", p.Name, err, p.Log, tail(p.Log))
		}
		code, payload, err := Exchange(ctx, p.Addr, codeGET, BenchPath, nil, 100*time.Millisecond)
		switch {
		case err != nil:
			last = err
		case code != codeContent || len(payload) != len(BenchPayload):
			last = fmt.Errorf("GET /%s: %s with %d bytes, want 2.05 with %d bytes", BenchPath, CodeString(code), len(payload), len(BenchPayload))
		default:
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not serving /%s after %v: %v\n--- output of %s ---\n%s", p.Name, BenchPath, limit, last, p.Log, tail(p.Log))
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Libcoap is libcoap's coap-server-notls with a dynamic resource BenchPath
// created by one PUT of BenchPayload.
func Libcoap() Server {
	return libcoapWith("libcoap", "coap-server-notls")
}

// libcoapWith is libcoap's server bin with args added, its log named after label, and the
// dynamic resource BenchPath.
func libcoapWith(label, bin string, args ...string) Server {
	return Server{Name: "libcoap", Start: func(ctx context.Context, dir string, addr netip.AddrPort) (*Process, error) {
		p, err := startProcess(ctx, label, dir, addr, bin,
			append([]string{"-A", addr.Addr().String(), "-p", strconv.Itoa(int(addr.Port())), "-d", "10"}, args...)...)
		if err != nil {
			return nil, err
		}
		if err := putUntilCreated(ctx, p); err != nil {
			p.Stop()
			return nil, err
		}
		if err := waitServing(ctx, p, 5*time.Second); err != nil {
			p.Stop()
			return nil, err
		}
		return p, nil
	}}
}

func putUntilCreated(ctx context.Context, p *Process) error {
	deadline := time.Now().Add(5 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("%s exited during start-up (%v)\n--- output of %s ---\n%s", p.Name, err, p.Log, tail(p.Log))
		}
		code, _, err := Exchange(ctx, p.Addr, codePUT, BenchPath, []byte(BenchPayload), 100*time.Millisecond)
		if err == nil && code>>5 == 2 {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("PUT /%s: %s", BenchPath, CodeString(code))
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s: cannot create /%s: %v\n--- output of %s ---\n%s", p.Name, BenchPath, last, p.Log, tail(p.Log))
}

// PigwConfig is the configuration `pigw run` gets, for addr.
func PigwConfig(addr netip.AddrPort) string {
	return fmt.Sprintf(`coap:
  listen: ["%s"]
  resources:
    - uri: %s
      media_type: text/plain
      value: "%s"
      methods: [GET]
`, addr, BenchPath, BenchPayload)
}

// Pigw is `pigw run` of the binary bin with PigwConfig and a fresh state
// directory.
func Pigw(bin string) Server {
	return pigwWith(bin, "pigw", PigwConfig)
}

// pigwWith is `pigw run` of bin with the configuration config(addr) and more flags, its files
// and log named after label.
func pigwWith(bin, label string, config func(netip.AddrPort) string, more ...string) Server {
	return Server{Name: "pigw", Start: func(ctx context.Context, dir string, addr netip.AddrPort) (*Process, error) {
		cfg := filepath.Join(dir, label+".yaml")
		state := filepath.Join(dir, label+"-state")
		// No status page: servers under test run side by side, and the page would take
		// 127.0.0.1:8080 for each.
		if err := os.WriteFile(cfg, []byte(config(addr)+"web: {listen: []}\n"), 0o644); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(state, 0o755); err != nil {
			return nil, err
		}
		p, err := startProcess(ctx, label, dir, addr, bin, append([]string{"run", "--config", cfg, "--state-dir", state}, more...)...)
		if err != nil {
			return nil, err
		}
		if err := waitServing(ctx, p, 10*time.Second); err != nil {
			p.Stop()
			return nil, err
		}
		return p, nil
	}}
}

// BuildPigw builds ./cmd/pigw of the module this package belongs to into
// dir/pigw and returns the binary's path.
func BuildPigw(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not in a module")
	}
	bin := filepath.Join(dir, "pigw")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/pigw")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("`go build ./cmd/pigw` in %s failed (%v): %s", cmd.Dir, err, bytes.TrimSpace(out))
	}
	return bin, nil
}

// FreeUDPPort returns a loopback UDP address with a port that was free a
// moment ago.
func FreeUDPPort() (netip.AddrPort, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		return netip.AddrPort{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort(), nil
}

// RSS returns the resident set size (VmRSS) and its peak (VmHWM) of process
// pid, in bytes, from /proc/<pid>/status. Both are -1 when unavailable.
func RSS(pid int) (current, peak int64) {
	current, peak = -1, -1
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v) // "1234 kB"
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			current = n << 10
		} else {
			peak = n << 10
		}
	}
	return
}

// SampleRSS samples VmRSS of pid every interval until the returned function
// is called, which returns the largest sample.
func SampleRSS(pid int, interval time.Duration) (stop func() int64) {
	done := make(chan struct{})
	result := make(chan int64, 1)
	go func() {
		var peak int64 = -1
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if cur, _ := RSS(pid); cur > peak {
				peak = cur
			}
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	var peak int64
	return func() int64 {
		once.Do(func() {
			close(done)
			peak = <-result
		})
		return peak
	}
}
