package wifi

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	mdwifi "github.com/mdlayher/wifi"
)

// fakeRadio is an AP world: which SSIDs are on the air, which key each wants, and whether the
// interface exists.
type fakeRadio struct {
	mu        sync.Mutex
	iface     bool
	aps       map[string]string // SSID → key ("" for open)
	offload   bool
	assoc     string // SSID associated with
	connects  int
	disappear chan struct{} // closed: the associated AP goes away once
	misses    int           // scans that find nothing although the APs are there
}

func (f *fakeRadio) Interfaces() ([]*mdwifi.Interface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.iface {
		return nil, nil
	}
	return []*mdwifi.Interface{{Name: "wlan0", Index: 3}}, nil
}
func (f *fakeRadio) Scan(context.Context, *mdwifi.Interface) error { return nil }
func (f *fakeRadio) AccessPoints(*mdwifi.Interface) ([]*mdwifi.BSS, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.misses > 0 {
		f.misses--
		return nil, nil
	}
	var out []*mdwifi.BSS
	for ssid := range f.aps {
		out = append(out, &mdwifi.BSS{SSID: ssid, BSSID: net.HardwareAddr{2, 0, 0, 0, 1, 0}, Frequency: 2437, Signal: -4000})
	}
	return out, nil
}
func (f *fakeRadio) BSS(*mdwifi.Interface) (*mdwifi.BSS, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.disappear:
		f.assoc, f.disappear = "", make(chan struct{}) // gone once; back on the air at once
	default:
	}
	if f.assoc == "" {
		return &mdwifi.BSS{Status: mdwifi.BSSStatusNotAssociated}, nil
	}
	return &mdwifi.BSS{SSID: f.assoc, BSSID: net.HardwareAddr{2, 0, 0, 0, 1, 0}, Frequency: 2437, Status: mdwifi.BSSStatusAssociated}, nil
}
func (f *fakeRadio) Connect(_ *mdwifi.Interface, ssid string) error { return f.connect(ssid, "") }
func (f *fakeRadio) ConnectWPAPSK(_ *mdwifi.Interface, ssid, psk string) error {
	if !f.offload {
		return mdwifi.ErrNotSupported
	}
	return f.connect(ssid, psk)
}
func (f *fakeRadio) connect(ssid, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connects++
	if want, ok := f.aps[ssid]; ok && want == key {
		f.assoc = ssid
	}
	return nil
}
func (f *fakeRadio) Disconnect(*mdwifi.Interface) error {
	f.mu.Lock()
	f.assoc = ""
	f.mu.Unlock()
	return nil
}
func (f *fakeRadio) StationInfo(*mdwifi.Interface) ([]*mdwifi.StationInfo, error) {
	return []*mdwifi.StationInfo{{Signal: -40}}, nil
}
func (f *fakeRadio) Close() error                                            { return nil }
func (f *fakeRadio) SetRegulatoryRegion(string, mdwifi.RegulatoryHint) error { return nil }

func testBackend(f *fakeRadio) *NL80211 {
	return &NL80211{Log: slog.New(slog.DiscardHandler), AssociateTimeout: 50 * time.Millisecond, PollInterval: 10 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, ScanInterval: 5 * time.Millisecond, AuthFailures: 3, dial: func() (radio, error) { return f, nil }}
}

// states runs the backend until cond holds on the reported states, and returns them.
func states(t *testing.T, b *NL80211, nets []Network, cond func([]State) bool) ([]State, error) {
	t.Helper()
	var mu sync.Mutex
	var seen []State
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- b.Run(ctx, "wlan0", nets, func(s State) {
			mu.Lock()
			seen = append(seen, s)
			if cond(seen) {
				cancel()
			}
			mu.Unlock()
		})
	}()
	err := <-done
	mu.Lock()
	defer mu.Unlock()
	if ctx.Err() == context.DeadlineExceeded {
		t.Fatalf("condition never held; states: %v", names(seen))
	}
	return seen, err
}

func names(ss []State) string {
	var n []string
	for _, s := range ss {
		n = append(n, s.State)
	}
	return strings.Join(n, " ")
}

func count(ss []State, state string) int {
	n := 0
	for _, s := range ss {
		if s.State == state {
			n++
		}
	}
	return n
}

func TestNL80211JoinsAndReconnects(t *testing.T) {
	f := &fakeRadio{iface: true, offload: true, aps: map[string]string{"cafe": ""}, disappear: make(chan struct{})}
	gone := false
	seen, err := states(t, testBackend(f), []Network{{SSID: "cafe", Security: Open}}, func(ss []State) bool {
		if count(ss, StateConnected) == 1 && !gone {
			gone = true
			close(f.disappear) // the AP goes away
		}
		return count(ss, StateConnected) >= 2
	})
	if err != nil {
		t.Fatal(err)
	}
	last := seen[len(seen)-1]
	if last.SSID != "cafe" || last.BSSID != "02:00:00:00:01:00" || last.Frequency != 2437 || last.Signal != -40 || last.Backend != "nl80211" {
		t.Errorf("connected state %+v", last)
	}
	if !strings.Contains(names(seen), "connected disconnected") {
		t.Errorf("no disconnection reported: %s", names(seen))
	}
}

func TestNL80211WrongKey(t *testing.T) {
	f := &fakeRadio{iface: true, offload: true, aps: map[string]string{"home": "right-key"}}
	seen, err := states(t, testBackend(f), []Network{{SSID: "home", PSK: "wrong-key", Security: WPA2}}, func(ss []State) bool {
		return count(ss, StateAuthFailed) >= 2
	})
	if err != nil {
		t.Fatal(err)
	}
	var af State
	for _, s := range seen {
		if s.State == StateAuthFailed {
			af = s
		}
	}
	if !strings.Contains(af.LastError, "wrong key?") || strings.Contains(af.LastError, "wrong-key") {
		t.Errorf("auth-failed state %+v", af)
	}
	// Refused keys are retried, but not in a tight loop: a few attempts per back-off.
	if f.connects > 20 {
		t.Errorf("%d connection attempts: a crash loop", f.connects)
	}
}

func TestNL80211NoOffload(t *testing.T) {
	f := &fakeRadio{iface: true, aps: map[string]string{"home": "k"}}
	_, err := states(t, testBackend(f), []Network{{SSID: "home", PSK: "k", Security: WPA2}}, func([]State) bool { return false })
	if err == nil || !strings.Contains(err.Error(), "use the wpa_supplicant backend") {
		t.Errorf("without offload: %v", err)
	}
	if err := testBackend(f).Run(context.Background(), "wlan0", []Network{{SSID: "x", Security: WPA3, PSK: "k"}}, func(State) {}); err == nil || !strings.Contains(err.Error(), "WPA3 needs") {
		t.Errorf("WPA3: %v", err)
	}
}

func TestNL80211WaitsForInterface(t *testing.T) {
	f := &fakeRadio{aps: map[string]string{"cafe": ""}}
	seen, err := states(t, testBackend(f), []Network{{SSID: "cafe", Security: Open}}, func(ss []State) bool {
		if count(ss, StateNoInterface) == 2 {
			f.mu.Lock()
			f.iface = true // the driver came up (firmware loaded)
			f.mu.Unlock()
		}
		return count(ss, StateConnected) == 1
	})
	if err != nil || !strings.HasPrefix(names(seen), "no-interface no-interface") {
		t.Errorf("%v %s", err, names(seen))
	}
}

// Scans that miss the access point (on hwsim under load, one in two at boot) are repeated at
// a steady interval: a back-off growing with each miss (5 ms doubling to an hour here) would
// wait 20 s after the twelfth. The repeats stay "not-in-range", so the log does not get a
// pair of lines per scan.
func TestNL80211RescansSteadily(t *testing.T) {
	f := &fakeRadio{iface: true, aps: map[string]string{"cafe": ""}, misses: 12}
	b := testBackend(f)
	b.MaxBackoff = time.Hour
	seen, err := states(t, b, []Network{{SSID: "cafe", Security: Open}}, func(ss []State) bool {
		return count(ss, StateConnected) == 1
	})
	if err != nil {
		t.Fatal(err)
	}
	if count(seen, StateScanning) != 1 || count(seen, StateNotInRange) != 12 {
		t.Errorf("states %s: want scanning once, then not-in-range for each of the 12 missed scans", names(seen))
	}
}
