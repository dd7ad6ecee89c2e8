// Package wifi joins the appliance to a WiFi network in station mode and keeps it joined:
// it picks the best configured network in range, reconnects with back-off when the access
// point goes away, tells a wrong key apart from a network out of reach, and reports its state
// for the /sys/wifi resource.
//
// Two backends do the joining. wpa_supplicant, when the image has it, handles every security
// mode with any driver. Without it, nl80211 asks the kernel directly: open networks, and
// WPA2-PSK where the driver does the 4-way handshake itself (brcmfmac, on every WiFi Pi), so
// a minimal image still joins a home network.
package wifi

import (
	"fmt"
	"time"
)

// Security modes of a network.
const (
	Open     = "open"
	WPA2     = "wpa2"
	WPA3     = "wpa3"
	WPA2WPA3 = "wpa2/wpa3"
)

// Network is one network the appliance may join.
type Network struct {
	SSID     string
	PSK      string // passphrase or 64 hex digits; never printed
	Security string // Open, WPA2, WPA3 or WPA2WPA3
	Hidden   bool
	Priority int // higher first
}

// String names the network without its key.
func (n Network) String() string {
	return fmt.Sprintf("%q (%s, priority %d)", n.SSID, n.Security, n.Priority)
}

// States a backend reports.
const (
	StateStarting     = "starting"
	StateNoInterface  = "no-interface"
	StateScanning     = "scanning"
	StateConnecting   = "connecting"
	StateConnected    = "connected"
	StateDisconnected = "disconnected"
	StateAuthFailed   = "auth-failed" // the key was refused: retried slowly, not in a loop
	StateNotInRange   = "not-in-range"
	StateError        = "error"
)

// State is the WiFi link as /sys/wifi shows it.
type State struct {
	Backend   string `json:"backend"`
	Interface string `json:"interface"`
	State     string `json:"state"`
	SSID      string `json:"ssid,omitempty"`
	BSSID     string `json:"bssid,omitempty"`
	Frequency int    `json:"frequency_mhz,omitempty"`
	Signal    int    `json:"signal_dbm,omitempty"`
	// KeyMgmt is the link's key management as wpa_supplicant names it (WPA2-PSK, SAE for
	// WPA3, NONE); the nl80211 backend leaves it empty.
	KeyMgmt   string    `json:"key_mgmt,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	Since     time.Time `json:"since"`
}

// BSS is an access point seen in a scan.
type BSS struct {
	SSID      string `json:"ssid"`
	BSSID     string `json:"bssid"`
	Frequency int    `json:"frequency_mhz"`
	Signal    int    `json:"signal_dbm"`
	Security  string `json:"security,omitempty"`
}

// choose picks the network to join among those in range: the highest priority, then the
// strongest signal; hidden networks do not show their SSID in a scan and are tried after.
func choose(nets []Network, inRange []BSS, skip map[string]bool) (Network, bool) {
	best, bestSignal, found := Network{}, -1000, false
	for _, n := range nets {
		if skip[n.SSID] {
			continue
		}
		signal, seen := -1000, false
		for _, b := range inRange {
			if b.SSID == n.SSID && b.Signal >= signal {
				signal, seen = b.Signal, true
			}
		}
		if !seen && !n.Hidden {
			continue
		}
		if !seen {
			signal = -999 // a hidden one: after every network seen at the same priority
		}
		if !found || n.Priority > best.Priority || (n.Priority == best.Priority && signal > bestSignal) {
			best, bestSignal, found = n, signal, true
		}
	}
	return best, found
}
