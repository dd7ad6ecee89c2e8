package wpa

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSupplicant imitates wpa_supplicant's control socket for one interface:
// it answers commands, records them, keeps ATTACHed monitors and can push
// events to them and "restart" (remove and re-create its socket, forgetting
// its monitors, as a new wpa_supplicant process would).
type fakeSupplicant struct {
	dir, path string

	mu       sync.Mutex
	conn     *net.UnixConn
	served   chan struct{} // closed when the current serve loop returns
	monitors map[string]*net.UnixAddr
	received []string
	nextID   int
	// replies overrides the reply to an exact command.
	replies map[string]string
	// handle, when set, is asked first; ok=false falls through.
	handle func(f *fakeSupplicant, cmd string) (reply string, ok bool)
	// silent commands get no reply; delayed ones get theirs late.
	silent  map[string]bool
	delayed map[string]time.Duration
}

// newFake starts a fake for iface "wlan0" in dir.
func newFake(dir string) (*fakeSupplicant, error) {
	f := &fakeSupplicant{
		dir:      dir,
		path:     filepath.Join(dir, "wlan0"),
		monitors: map[string]*net.UnixAddr{},
		replies:  map[string]string{},
		silent:   map[string]bool{},
		delayed:  map[string]time.Duration{},
	}
	if err := f.listen(); err != nil {
		return nil, err
	}
	return f, nil
}

// startFake starts a fake in a temporary directory, stopped at the end of
// the test.
func startFake(t *testing.T) *fakeSupplicant {
	t.Helper()
	f, err := newFake(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.stop)
	return f
}

func (f *fakeSupplicant) listen() error {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: f.path, Net: "unixgram"})
	if err != nil {
		return err
	}
	served := make(chan struct{})
	f.mu.Lock()
	f.conn, f.served = conn, served
	f.mu.Unlock()
	go f.serve(conn, served)
	return nil
}

func (f *fakeSupplicant) serve(conn *net.UnixConn, served chan struct{}) {
	defer close(served)
	buf := make([]byte, 4096)
	for {
		n, from, err := conn.ReadFromUnix(buf)
		if err != nil {
			return
		}
		if from == nil || from.Name == "" {
			continue // unbound client: nowhere to reply, as in wpa_supplicant
		}
		cmd := string(buf[:n])
		reply, send, delay := f.answer(cmd, from)
		switch {
		case !send:
		case delay > 0:
			time.AfterFunc(delay, func() { conn.WriteToUnix([]byte(reply), from) })
		default:
			conn.WriteToUnix([]byte(reply), from)
		}
	}
}

func (f *fakeSupplicant) answer(cmd string, from *net.UnixAddr) (reply string, send bool, delay time.Duration) {
	f.mu.Lock()
	f.received = append(f.received, cmd)
	handle := f.handle
	if f.silent[cmd] {
		f.mu.Unlock()
		return "", false, 0
	}
	delay = f.delayed[cmd]
	f.mu.Unlock()
	if handle != nil {
		if r, ok := handle(f, cmd); ok {
			return r, true, delay
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.replies[cmd]; ok {
		return r, true, delay
	}
	switch {
	case cmd == "PING":
		return "PONG\n", true, delay
	case cmd == "ATTACH":
		f.monitors[from.Name] = from
		return "OK\n", true, delay
	case cmd == "DETACH":
		delete(f.monitors, from.Name)
		return "OK\n", true, delay
	case cmd == "ADD_NETWORK":
		id := f.nextID
		f.nextID++
		return strconv.Itoa(id) + "\n", true, delay
	case cmd == "REMOVE_NETWORK all":
		f.nextID = 0
		return "OK\n", true, delay
	case strings.HasPrefix(cmd, "SET_NETWORK "), strings.HasPrefix(cmd, "ENABLE_NETWORK "),
		strings.HasPrefix(cmd, "DISABLE_NETWORK "), strings.HasPrefix(cmd, "SELECT_NETWORK "),
		strings.HasPrefix(cmd, "SET country "),
		cmd == "RECONNECT", cmd == "DISCONNECT", cmd == "REASSOCIATE", cmd == "SCAN", cmd == "TERMINATE":
		return "OK\n", true, delay
	}
	return "UNKNOWN COMMAND\n", true, delay
}

// push sends an event to every attached monitor.
func (f *fakeSupplicant) push(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, m := range f.monitors {
		if _, err := f.conn.WriteToUnix([]byte(msg), m); err != nil {
			delete(f.monitors, name) // wpa_supplicant gives up after 10 failures
		}
	}
}

// numMonitors is the number of attached monitors.
func (f *fakeSupplicant) numMonitors() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.monitors)
}

// commands returns what was received, leaving out the monitor's PINGs and
// ATTACHes unless all is set.
func (f *fakeSupplicant) commands(all bool) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.received {
		if all || (c != "PING" && c != "ATTACH") {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeSupplicant) resetReceived() {
	f.mu.Lock()
	f.received = nil
	f.mu.Unlock()
}

func (f *fakeSupplicant) set(fn func(f *fakeSupplicant)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// shut closes the socket and removes its file, as an exiting wpa_supplicant
// does.
func (f *fakeSupplicant) shut() {
	f.mu.Lock()
	conn, served := f.conn, f.served
	f.monitors = map[string]*net.UnixAddr{}
	f.mu.Unlock()
	conn.Close()
	<-served
	if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		panic(err)
	}
}

// restart shuts the socket and creates a new one at the same path.
func (f *fakeSupplicant) restart() error {
	f.shut()
	return f.listen()
}

func (f *fakeSupplicant) stop() {
	f.mu.Lock()
	conn, served := f.conn, f.served
	f.mu.Unlock()
	conn.Close()
	<-served
}
