package wifi

import (
	"context"
	"errors"
	"fmt"
	"github.com/pigw/pigw/internal/wait"
	"log/slog"
	"time"

	mdwifi "github.com/mdlayher/wifi"
)

// radio is what the nl80211 backend needs of github.com/mdlayher/wifi's client.
type radio interface {
	Interfaces() ([]*mdwifi.Interface, error)
	Scan(ctx context.Context, ifi *mdwifi.Interface) error
	AccessPoints(ifi *mdwifi.Interface) ([]*mdwifi.BSS, error)
	BSS(ifi *mdwifi.Interface) (*mdwifi.BSS, error)
	Connect(ifi *mdwifi.Interface, ssid string) error
	ConnectWPAPSK(ifi *mdwifi.Interface, ssid, psk string) error
	Disconnect(ifi *mdwifi.Interface) error
	StationInfo(ifi *mdwifi.Interface) ([]*mdwifi.StationInfo, error)
	SetRegulatoryRegion(region string, hint mdwifi.RegulatoryHint) error
	Close() error
}

// NL80211 joins networks through the kernel's nl80211 interface: open networks, and WPA2-PSK
// where the driver does the 4-way handshake itself.
type NL80211 struct {
	Log *slog.Logger
	// Timing, shorter in tests. MinBackoff and MaxBackoff bound the wait after a failed
	// join; ScanInterval is the wait before scanning again while no configured network is
	// in range. That one does not grow: an access point can appear at any moment (a router
	// that boots slower than the Pi after a power cut), and a scan can miss one that is
	// there (its probe response comes after the radio left the channel), which a growing
	// wait would turn into minutes without WiFi.
	AssociateTimeout, PollInterval, MinBackoff, MaxBackoff, ScanInterval time.Duration
	// AuthFailures is how many failed associations with a secured network count as a
	// refused key (the driver does not say more).
	AuthFailures int
	Country      string // regulatory domain set before scanning; "" leaves the kernel's
	dial         func() (radio, error)
	linkUp       func(name string) error
}

// NewNL80211 returns the backend with real timings.
func NewNL80211(log *slog.Logger) *NL80211 {
	return &NL80211{Log: log, AssociateTimeout: 15 * time.Second, PollInterval: 2 * time.Second, MinBackoff: time.Second,
		MaxBackoff: 5 * time.Minute, ScanInterval: 5 * time.Second, AuthFailures: 3, dial: func() (radio, error) { return mdwifi.New() }, linkUp: linkUp}
}

// Name is "nl80211".
func (b *NL80211) Name() string { return "nl80211" }

// Run keeps iface joined to the best network of nets until ctx ends.
func (b *NL80211) Run(ctx context.Context, iface string, nets []Network, report func(State)) error {
	for _, n := range nets {
		if n.Security == WPA3 || n.Security == WPA2WPA3 {
			return fmt.Errorf("network %s: WPA3 needs the wpa_supplicant backend", n)
		}
	}
	r, err := b.dial()
	if err != nil {
		return fmt.Errorf("nl80211: %w", err)
	}
	defer r.Close()
	if b.Country != "" {
		if err := r.SetRegulatoryRegion(b.Country, mdwifi.RegulatoryHintUser); err != nil {
			b.Log.Warn("regulatory domain not set", "country", b.Country, "err", err)
		}
	}
	st := State{Backend: b.Name(), Interface: iface}
	set := func(state, errText string) {
		st.State, st.LastError = state, errText
		if state != StateConnected {
			st.SSID, st.BSSID, st.Frequency, st.Signal = "", "", 0, 0
		}
		report(st)
	}
	failures := map[string]int{}
	backoff := b.MinBackoff
	for ctx.Err() == nil {
		ifi, err := findInterface(r, iface)
		if err != nil {
			set(StateNoInterface, err.Error())
			if !wait.Sleep(ctx, b.PollInterval) {
				break
			}
			continue
		}
		if b.linkUp != nil {
			if err := b.linkUp(iface); err != nil {
				set(StateError, err.Error())
			}
		}
		if st.State != StateNotInRange { // scanning again while out of range is still out of range
			set(StateScanning, st.LastError)
		}
		if err := r.Scan(ctx, ifi); err != nil && ctx.Err() == nil {
			b.Log.Debug("scan", "err", err)
		}
		aps, _ := r.AccessPoints(ifi)
		skip := map[string]bool{}
		for ssid, n := range failures {
			skip[ssid] = n >= b.AuthFailures
		}
		n, ok := choose(nets, bssOf(aps), skip)
		if !ok && !allRefused(failures, nets, b.AuthFailures) {
			set(StateNotInRange, fmt.Sprintf("none of the %d configured networks is in range", len(nets)))
			if !wait.Sleep(ctx, b.ScanInterval) {
				break
			}
			continue
		}
		if !ok {
			set(StateAuthFailed, fmt.Sprintf("every network refused the key %d times; wrong key? retrying in %s", b.AuthFailures, backoff))
			clear(failures) // try again after the back-off, slowly
		} else if err := b.join(ctx, r, ifi, n); err != nil {
			failures[n.SSID]++
			msg := fmt.Sprintf("%s: %v", n.SSID, err)
			if n.Security != Open && failures[n.SSID] >= b.AuthFailures {
				set(StateAuthFailed, fmt.Sprintf("authentication with %q failed %d times: wrong key?", n.SSID, failures[n.SSID]))
			} else {
				set(StateDisconnected, msg)
			}
			if errors.Is(err, mdwifi.ErrNotSupported) {
				return fmt.Errorf("%s: the driver cannot do the WPA2 handshake itself: use the wpa_supplicant backend", n.SSID)
			}
		} else {
			failures, backoff = map[string]int{}, b.MinBackoff
			st.SSID = n.SSID
			b.connected(ctx, r, ifi, &st, report)
			if ctx.Err() == nil {
				set(StateDisconnected, "lost the access point; reconnecting")
			}
			continue
		}
		if !wait.Sleep(ctx, backoff) {
			break
		}
		backoff = min(2*backoff, b.MaxBackoff)
	}
	return nil
}

// join asks the kernel to connect and waits for the association.
func (b *NL80211) join(ctx context.Context, r radio, ifi *mdwifi.Interface, n Network) error {
	var err error
	if n.Security == Open {
		err = r.Connect(ifi, n.SSID)
	} else {
		err = r.ConnectWPAPSK(ifi, n.SSID, n.PSK)
	}
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	deadline := time.Now().Add(b.AssociateTimeout)
	for time.Now().Before(deadline) {
		if bss, err := r.BSS(ifi); err == nil && bss.Status == mdwifi.BSSStatusAssociated && bss.SSID == n.SSID {
			return nil
		}
		if !wait.Sleep(ctx, b.PollInterval/8) {
			return ctx.Err()
		}
	}
	_ = r.Disconnect(ifi)
	return fmt.Errorf("not associated within %s", b.AssociateTimeout)
}

// connected reports the link and watches it until it is lost or ctx ends.
func (b *NL80211) connected(ctx context.Context, r radio, ifi *mdwifi.Interface, st *State, report func(State)) {
	for {
		bss, err := r.BSS(ifi)
		if err != nil || bss.Status != mdwifi.BSSStatusAssociated || bss.SSID != st.SSID {
			return
		}
		now := State{Backend: st.Backend, Interface: st.Interface, State: StateConnected, SSID: bss.SSID, BSSID: bss.BSSID.String(), Frequency: bss.Frequency}
		if infos, err := r.StationInfo(ifi); err == nil && len(infos) > 0 {
			now.Signal = infos[0].Signal
		}
		if now.State != st.State || now.BSSID != st.BSSID || now.Frequency != st.Frequency || abs(now.Signal-st.Signal) >= 5 {
			*st = now
			report(now)
		}
		if !wait.Sleep(ctx, b.PollInterval) {
			_ = r.Disconnect(ifi)
			return
		}
	}
}

// Scan lists the access points in range.
func (b *NL80211) Scan(ctx context.Context, iface string) ([]BSS, error) {
	r, err := b.dial()
	if err != nil {
		return nil, fmt.Errorf("nl80211: %w", err)
	}
	defer r.Close()
	ifi, err := findInterface(r, iface)
	if err != nil {
		return nil, err
	}
	if err := r.Scan(ctx, ifi); err != nil {
		return nil, fmt.Errorf("scan on %s: %w", iface, err)
	}
	aps, err := r.AccessPoints(ifi)
	if err != nil {
		return nil, fmt.Errorf("scan results on %s: %w", iface, err)
	}
	return bssOf(aps), nil
}

func findInterface(r radio, name string) (*mdwifi.Interface, error) {
	ifis, err := r.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list WiFi interfaces: %w", err)
	}
	for _, ifi := range ifis {
		if ifi.Name == name {
			return ifi, nil
		}
	}
	return nil, fmt.Errorf("no WiFi interface %s (%d others)", name, len(ifis))
}

func bssOf(aps []*mdwifi.BSS) []BSS {
	out := make([]BSS, 0, len(aps))
	for _, a := range aps {
		out = append(out, BSS{SSID: a.SSID, BSSID: a.BSSID.String(), Frequency: a.Frequency, Signal: int(a.Signal / 100)})
	}
	return out
}

func allRefused(failures map[string]int, nets []Network, limit int) bool {
	for _, n := range nets {
		if failures[n.SSID] < limit {
			return false
		}
	}
	return len(nets) > 0
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
