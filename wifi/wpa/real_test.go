package wpa

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/syncbuf"
)

// The real-daemon test runs wpa_supplicant 2.10 with "-D none" on the
// loopback interface of a new network namespace. That driver has no radio:
// scans fail, nothing associates, but the control interface, the network
// list and the events are wpa_supplicant's own. The test binary re-executes
// itself inside the namespace (CLONE_NEWNET, root only) so that the default
// abstract client addresses, which are per network namespace, reach the
// daemon. Association, keys and WrongKey are left to the QEMU hwsim tests.
const inNetnsEnv = "PIGW_WPA_TEST_IN_NETNS"

// unavailable skips the test, or fails it under CI=true, where the
// environment is expected to provide what it needs ("make test-deps").
func unavailable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

func findSupplicant() string {
	if p, err := exec.LookPath("wpa_supplicant"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/wpa_supplicant", "/sbin/wpa_supplicant"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func TestRealDaemon(t *testing.T) {
	bin := findSupplicant()
	if bin == "" {
		unavailable(t, "wpa_supplicant is not installed (apt-get install -y wpasupplicant)")
	}
	if os.Getenv(inNetnsEnv) == "" {
		if os.Geteuid() != 0 {
			unavailable(t, "needs root to create a network namespace")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRealDaemon$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), inNetnsEnv+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
		out, err := cmd.CombinedOutput()
		t.Logf("in a new network namespace:\n%s", out)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if !bytes.Contains(out, []byte("--- PASS: TestRealDaemon")) {
			t.Fatal("the test did not run in the namespace")
		}
		return
	}

	dir := t.TempDir()
	ctrlDir := filepath.Join(dir, "ctrl")
	conf := filepath.Join(dir, "wpa_supplicant.conf")
	if err := os.WriteFile(conf, []byte("ctrl_interface="+ctrlDir+"\nupdate_config=0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	top := t // daemons live until the end of the whole test
	d := startDaemon(top, bin, conf, ctrlDir)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Dialer{PingInterval: 200 * time.Millisecond, Logf: t.Logf}.Dial(ctx, ctrlDir, "lo")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	t.Run("ping and status", func(t *testing.T) {
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != "DISCONNECTED" && st.State != "INACTIVE" && st.State != "SCANNING" {
			t.Errorf("state %q", st.State)
		}
		if st.NetworkID != -1 || st.Address == "" {
			t.Errorf("status %+v", st)
		}
	})

	t.Run("file sockets", func(t *testing.T) {
		local := t.TempDir()
		fc, err := Dialer{LocalDir: local}.Dial(ctx, ctrlDir, "lo")
		if err != nil {
			t.Fatal(err)
		}
		if err := fc.Ping(ctx); err != nil {
			t.Error(err)
		}
		fc.Close()
		if files, _ := os.ReadDir(local); len(files) != 0 {
			t.Errorf("Close left %v", files)
		}
	})

	t.Run("country", func(t *testing.T) {
		if err := c.SetCountry(ctx, "de"); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Request(ctx, "GET country"); err != nil || got != "DE" {
			t.Errorf("GET country = %q, %v", got, err)
		}
	})

	nets := []Network{
		{SSID: "pigw home", PSK: `pass "word" 1`},
		{SSID: "café \"☕\"\t", Security: SecurityOpen, Hidden: true, Priority: 3},
		{SSID: "wpa3", PSK: "secret12", Security: SecurityWPA3},
		{SSID: "mixed", PSK: "secret12", Security: SecurityWPA2WPA3, Priority: 1},
		{SSID: "\x00\xff", PSK: strings.Repeat("5a", 32)},
	}
	t.Run("configure", func(t *testing.T) {
		drain(c)
		if err := c.Configure(ctx, nets); err != nil {
			t.Fatal(err)
		}
		list, err := c.ListNetworks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(nets) {
			t.Fatalf("LIST_NETWORKS has %d networks, want %d: %+v", len(list), len(nets), list)
		}
		for i, n := range list {
			if n.ID != i || n.SSID != nets[i].SSID || strings.Contains(n.Flags, "DISABLED") {
				t.Errorf("network %d: %+v, want SSID %q enabled", i, n, nets[i].SSID)
			}
		}
		for _, tc := range []struct {
			id        int
			name, val string
		}{
			{0, "key_mgmt", "WPA-PSK"},
			{0, "psk", "*"}, // wpa_supplicant never returns a key
			{1, "key_mgmt", "NONE"},
			{1, "scan_ssid", "1"},
			{1, "priority", "3"},
			{2, "key_mgmt", "SAE"},
			{2, "ieee80211w", "2"},
			{3, "key_mgmt", "WPA-PSK SAE"},
			{3, "ieee80211w", "1"},
			{4, "ssid", "00ff"},
			{4, "psk", "*"},
		} {
			got, err := c.Request(ctx, "GET_NETWORK "+strconv.Itoa(tc.id)+" "+tc.name)
			if err != nil || got != tc.val {
				t.Errorf("GET_NETWORK %d %s = %q, %v; want %q", tc.id, tc.name, got, err, tc.val)
			}
		}
		var added []string
		for len(added) < len(nets) {
			added = append(added, nextEvent(t, c, 5*time.Second, EventNetworkAdded).Text)
		}
		if want := []string{"0", "1", "2", "3", "4"}; !slices.Equal(added, want) {
			t.Errorf("NETWORK-ADDED events %q, want %q", added, want)
		}
		// Configure again: the old networks go first.
		if err := c.Configure(ctx, nets[:1]); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, c, 5*time.Second, EventNetworkRemoved)
		if list, err := c.ListNetworks(ctx); err != nil || len(list) != 1 {
			t.Errorf("after the second Configure: %+v, %v", list, err)
		}
	})

	t.Run("refusals mask the key", func(t *testing.T) {
		_, err := c.Request(ctx, `SET_NETWORK 0 psk "short"`)
		var ce *CommandError
		if !errors.As(err, &ce) || ce.Reply != "FAIL" || strings.Contains(err.Error(), "short") ||
			!strings.Contains(err.Error(), "SET_NETWORK 0 psk ***") {
			t.Errorf("err = %v", err)
		}
		if _, err := c.Request(ctx, "NO_SUCH_COMMAND"); !errors.Is(err, ErrUnknownCommand) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("scan fails without a radio", func(t *testing.T) {
		drain(c)
		if err := c.Scan(ctx); err != nil && !errors.Is(err, ErrFailed) {
			t.Fatal(err)
		}
		bss, err := c.ScanResults(ctx)
		if err != nil || len(bss) != 0 {
			t.Errorf("ScanResults = %+v, %v", bss, err)
		}
	})

	t.Run("restart", func(t *testing.T) {
		drain(c)
		if err := c.Terminate(ctx); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, c, 5*time.Second, EventTerminating)
		nextEvent(t, c, 5*time.Second, EventDetached)
		d.wait(t)
		d = startDaemon(top, bin, conf, ctrlDir)
		nextEvent(t, c, 10*time.Second, EventAttached)
		// The command socket follows, and so do events.
		if _, err := c.AddNetwork(ctx); err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, c, 5*time.Second, EventNetworkAdded); ev.Text != "0" {
			t.Errorf("after restart: %v", ev)
		}
	})
}

// drain discards queued events.
func drain(c *Conn) {
	for {
		select {
		case <-c.Events():
		default:
			return
		}
	}
}

// daemon is a wpa_supplicant process.
type daemon struct {
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
}

// startDaemon starts wpa_supplicant on lo with no driver and waits for its
// control socket; the test's cleanup stops it.
func startDaemon(t *testing.T, bin, conf, ctrlDir string) *daemon {
	t.Helper()
	d := &daemon{out: &syncbuf.Buffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(bin, "-D", "none", "-i", "lo", "-c", conf)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(5 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("wpa_supplicant output:\n%s", d.out)
		}
	})
	sock := filepath.Join(ctrlDir, "lo")
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			return d
		}
		select {
		case <-d.done:
			t.Fatalf("wpa_supplicant exited: %v\n%s", d.cmd.ProcessState, d.out)
		default:
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no control socket %s after 10s\n%s", sock, d.out)
		}
	}
}

// wait waits for the process to exit by itself.
func (d *daemon) wait(t *testing.T) {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		t.Fatal("wpa_supplicant did not exit")
	}
}
