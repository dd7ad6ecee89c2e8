package wifi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/pigw/pigw/internal/wait"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pigw/pigw/wifi/wpa"
)

// Supplicant joins networks by running wpa_supplicant and driving it over its control socket.
type Supplicant struct {
	bin, country string
	log          *slog.Logger
	CtrlDir      string // default /run/wpa_supplicant
	// Track and Untrack, when set, tell PID 1's reaper that the process is ours to wait for.
	Track, Untrack func(pid int)

	mu   sync.Mutex
	conn *wpa.Conn // while running, for Scan
}

// NewSupplicant returns the backend for the wpa_supplicant binary at bin.
func NewSupplicant(bin, country string, log *slog.Logger) *Supplicant {
	return &Supplicant{bin: bin, country: country, log: log, CtrlDir: "/run/wpa_supplicant"}
}

// Name is "wpa_supplicant".
func (s *Supplicant) Name() string { return "wpa_supplicant" }

// Run starts wpa_supplicant on iface, configures nets and follows its events until ctx ends
// or wpa_supplicant exits (an error: the supervisor starts it again).
func (s *Supplicant) Run(ctx context.Context, iface string, nets []Network, report func(State)) error {
	st := State{}
	set := func(state, detail string) {
		st.State, st.LastError = state, detail
		if state != StateConnected {
			st.SSID, st.BSSID, st.Frequency, st.Signal, st.KeyMgmt = "", "", 0, 0, ""
		}
		report(st)
	}
	for { // wpa_supplicant exits at once without its interface: wait for the driver
		if _, err := net.InterfaceByName(iface); err == nil {
			break
		}
		set(StateNoInterface, "no interface "+iface+" (driver or firmware not loaded yet)")
		if !wait.Sleep(ctx, 2*time.Second) {
			return nil
		}
	}
	set(StateStarting, "")
	conf, err := s.writeConf()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "-i", iface, "-D", "nl80211,wext", "-c", conf)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	if s.Track != nil && s.Untrack != nil {
		s.Track(cmd.Process.Pid)
		defer s.Untrack(cmd.Process.Pid)
	}
	exited := make(chan error, 1)
	go func() {
		s.logOutput(out)
		exited <- cmd.Wait()
	}()
	c, err := s.dial(ctx, iface, exited)
	if err != nil {
		return err
	}
	defer c.Close()
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.conn = nil; s.mu.Unlock() }()
	if s.country != "" {
		if err := c.SetCountry(ctx, s.country); err != nil {
			s.log.Warn("regulatory domain not set", "country", s.country, "err", err)
		}
	}
	if err := c.Configure(ctx, toWPA(nets)); err != nil {
		return fmt.Errorf("configure wpa_supplicant: %w", err)
	}
	set(StateScanning, "")
	poll := time.NewTicker(10 * time.Second)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-exited:
			return fmt.Errorf("wpa_supplicant exited: %v", err)
		case <-poll.C:
			if st.State == StateConnected {
				if sig, ok := signal(ctx, c); ok && abs(sig-st.Signal) >= 5 {
					st.Signal = sig
					report(st)
				}
			}
		case ev := <-c.Events():
			s.event(ctx, c, ev, &st, set, report)
		}
	}
}

// event turns one wpa_supplicant event into a state.
func (s *Supplicant) event(ctx context.Context, c *wpa.Conn, ev wpa.Event, st *State, set func(string, string), report func(State)) {
	switch {
	case ev.WrongKey():
		set(StateAuthFailed, fmt.Sprintf("authentication with %q failed: wrong key? (%s)", ev.Fields["ssid"], ev.Name))
	case ev.Name == "CTRL-EVENT-SSID-TEMP-DISABLED" && ev.Fields["reason"] == "CONN_FAILED" && atLeast(ev.Fields["auth_failures"], 3):
		// WPA3 (SAE) reports a wrong password this way, not as WRONG_KEY.
		set(StateAuthFailed, fmt.Sprintf("connection to %q failed %s times: wrong key or WPA3 password?", ev.Fields["ssid"], ev.Fields["auth_failures"]))
	case ev.Name == "CTRL-EVENT-CONNECTED":
		status, err := c.Status(ctx)
		if err != nil {
			set(StateConnected, "")
			return
		}
		st.State, st.LastError = StateConnected, ""
		st.SSID, st.BSSID, st.Frequency, st.KeyMgmt = status.SSID, status.BSSID, status.Freq, status.KeyMgmt
		st.Signal, _ = signal(ctx, c)
		report(*st)
	case ev.Name == "CTRL-EVENT-DISCONNECTED":
		if st.State != StateAuthFailed {
			set(StateDisconnected, "disconnected, reason "+ev.Fields["reason"]+"; wpa_supplicant reconnects")
		}
	case ev.Name == "CTRL-EVENT-NETWORK-NOT-FOUND":
		if st.State != StateAuthFailed {
			set(StateNotInRange, "no configured network in range")
		}
	case ev.Name == "CTRL-EVENT-SCAN-STARTED":
		if st.State != StateConnected && st.State != StateAuthFailed && st.State != StateNotInRange {
			set(StateScanning, st.LastError)
		}
	}
}

func atLeast(v string, n int) bool {
	i, err := strconv.Atoi(v)
	return err == nil && i >= n
}

// signal reads the RSSI of the current link.
func signal(ctx context.Context, c *wpa.Conn) (int, bool) {
	r, err := c.Request(ctx, "SIGNAL_POLL")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(r, "\n") {
		if v, ok := strings.CutPrefix(l, "RSSI="); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil
		}
	}
	return 0, false
}

// dial waits for wpa_supplicant's control socket.
func (s *Supplicant) dial(ctx context.Context, iface string, exited <-chan error) (*wpa.Conn, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := wpa.Dial(ctx, s.CtrlDir, iface)
		if err == nil {
			return c, nil
		}
		select {
		case werr := <-exited:
			return nil, fmt.Errorf("wpa_supplicant exited at start: %v", werr)
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("wpa_supplicant's control socket for %s: %w", iface, err)
		}
		if !wait.Sleep(ctx, 100*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
}

// writeConf writes the minimal configuration file; networks come over the control socket, so
// no key is ever written to disk.
func (s *Supplicant) writeConf() (string, error) {
	if err := os.MkdirAll(s.CtrlDir, 0o750); err != nil {
		return "", fmt.Errorf("wpa_supplicant control directory: %w", err)
	}
	conf := filepath.Join(filepath.Dir(s.CtrlDir), "pigw-wpa_supplicant.conf")
	body := "ctrl_interface=" + s.CtrlDir + "\nupdate_config=0\n"
	if s.country != "" {
		body += "country=" + s.country + "\n"
	}
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", conf, err)
	}
	return conf, nil
}

func (s *Supplicant) logOutput(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		s.log.Debug("wpa_supplicant", "line", sc.Text())
	}
}

// Scan asks the running wpa_supplicant for the access points in range.
func (s *Supplicant) Scan(ctx context.Context, _ string) ([]BSS, error) {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c == nil {
		return nil, errors.New("wpa_supplicant is not running")
	}
	_, _ = c.Request(ctx, "SCAN") // FAIL-BUSY while connecting: the last results still serve
	if !wait.Sleep(ctx, 3*time.Second) {
		return nil, ctx.Err()
	}
	res, err := c.ScanResults(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]BSS, 0, len(res))
	for _, b := range res {
		out = append(out, BSS{SSID: b.SSID, BSSID: b.BSSID, Frequency: b.Freq, Signal: b.Signal, Security: securityOf(b.Flags)})
	}
	return out, nil
}

func securityOf(flags string) string {
	switch {
	case strings.Contains(flags, "SAE") && strings.Contains(flags, "PSK"):
		return WPA2WPA3
	case strings.Contains(flags, "SAE"):
		return WPA3
	case strings.Contains(flags, "WPA"):
		return WPA2
	}
	return Open
}

func toWPA(nets []Network) []wpa.Network {
	out := make([]wpa.Network, 0, len(nets))
	for _, n := range nets {
		out = append(out, wpa.Network{SSID: n.SSID, PSK: n.PSK, Security: n.Security, Hidden: n.Hidden, Priority: n.Priority})
	}
	return out
}
