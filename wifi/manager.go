package wifi

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"time"
)

// Backend joins networks on one interface and keeps it joined until ctx ends, reporting every
// change. An error means it cannot work at all (the supervisor restarts the manager).
type Backend interface {
	Name() string
	Run(ctx context.Context, iface string, nets []Network, report func(State)) error
}

// Scanner lists the access points in range, for /sys/wifi/scan.
type Scanner interface {
	Scan(ctx context.Context, iface string) ([]BSS, error)
}

// Config is the wifi section.
type Config struct {
	Interface string // default wlan0
	Country   string // regulatory domain, "00" for the world
	Backend   string // "auto", "wpa_supplicant" or "nl80211"
	Networks  []Network
	Logger    *slog.Logger
	OnState   func(State) // every change, for /sys/wifi
	// Track and Untrack tell PID 1's reaper which processes are ours (wpa_supplicant).
	Track, Untrack func(pid int)
}

// Manager is the WiFi subsystem.
type Manager struct {
	cfg     Config
	backend Backend
	chosen  string // why this backend, for the log

	mu    sync.Mutex
	state State
}

// NewManager picks the backend: wpa_supplicant when asked, or with "auto" when the binary is
// there; nl80211 otherwise.
func NewManager(cfg Config) (*Manager, error) {
	if cfg.Interface == "" {
		cfg.Interface = "wlan0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var b Backend
	chosen := "configured"
	switch cfg.Backend {
	case "", "auto":
		if path, err := exec.LookPath("wpa_supplicant"); err == nil {
			b = NewSupplicant(path, cfg.Country, cfg.Logger)
			chosen = "auto: " + path + " is there"
		} else {
			b = NewNL80211(cfg.Logger)
			chosen = "auto: no wpa_supplicant in PATH (open networks, and WPA2-PSK where the driver does the handshake)"
		}
	case "wpa_supplicant":
		path, err := exec.LookPath("wpa_supplicant")
		if err != nil {
			return nil, fmt.Errorf("wifi backend wpa_supplicant: the binary is not in the image: %w", err)
		}
		b = NewSupplicant(path, cfg.Country, cfg.Logger)
		chosen = "configured: " + path
	case "nl80211":
		b = NewNL80211(cfg.Logger)
	default:
		return nil, fmt.Errorf("wifi backend %q: must be auto, wpa_supplicant or nl80211", cfg.Backend)
	}
	switch b := b.(type) {
	case *NL80211:
		b.Country = cfg.Country
	case *Supplicant:
		b.Track, b.Untrack = cfg.Track, cfg.Untrack
	}
	m := &Manager{cfg: cfg, backend: b, chosen: chosen}
	m.state = State{Backend: b.Name(), Interface: cfg.Interface, State: StateStarting, Since: time.Now().UTC()}
	return m, nil
}

// Name is the subsystem's name.
func (m *Manager) Name() string { return "wifi" }

// Run keeps the interface joined until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	if len(m.cfg.Networks) == 0 {
		m.report(State{State: "disabled", LastError: "no networks configured"})
		<-ctx.Done()
		return nil
	}
	m.cfg.Logger.Info("wifi starting", "backend", m.backend.Name(), "interface", m.cfg.Interface, "networks", len(m.cfg.Networks), "chosen", m.chosen)
	err := m.backend.Run(ctx, m.cfg.Interface, m.cfg.Networks, m.report)
	if err != nil {
		m.report(State{State: StateError, LastError: err.Error()})
	}
	return err
}

// report records a backend's state, logs transitions and passes them on.
func (m *Manager) report(s State) {
	s.Backend, s.Interface = m.backend.Name(), m.cfg.Interface
	m.mu.Lock()
	prev := m.state
	if s.State != prev.State {
		s.Since = time.Now().UTC()
	} else {
		s.Since = prev.Since
	}
	m.state = s
	m.mu.Unlock()
	if s.State != prev.State || s.SSID != prev.SSID || s.LastError != prev.LastError {
		switch s.State {
		case StateConnected:
			m.cfg.Logger.Info("wifi connected", "ssid", s.SSID, "bssid", s.BSSID, "frequency_mhz", s.Frequency, "signal_dbm", s.Signal, "key_mgmt", s.KeyMgmt)
		case StateAuthFailed, StateError:
			m.cfg.Logger.Error("wifi "+s.State, "err", s.LastError)
		default:
			m.cfg.Logger.Info("wifi "+s.State, "detail", s.LastError)
		}
	}
	if m.cfg.OnState != nil {
		m.cfg.OnState(s)
	}
}

// State is the current state.
func (m *Manager) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

// Scan lists the access points in range, when the backend can.
func (m *Manager) Scan(ctx context.Context) ([]BSS, error) {
	s, ok := m.backend.(Scanner)
	if !ok {
		return nil, fmt.Errorf("the %s backend cannot scan", m.backend.Name())
	}
	return s.Scan(ctx, m.cfg.Interface)
}
