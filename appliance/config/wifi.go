package config

// Wifi is the WiFi client: the networks the appliance joins, and how.
type Wifi struct {
	// Interface is the WiFi interface's Linux name, with the rules of
	// network.interfaces[].name, and not a pattern. An entry of
	// network.interfaces with this name (or a pattern that matches it) sets
	// up the WiFi link's addresses, such as {name: wlan0, dhcp: true}; it
	// may not have up: false while there are networks. Default: "wlan0",
	// which "" also means.
	Interface string `yaml:"interface"`
	// Country is the regulatory domain, which decides the channels and
	// powers allowed: two letters of ISO 3166-1 alpha-2, such as "DE" or
	// "US", or "00" for the world domain (the channels allowed everywhere).
	// Lower case is accepted in the file and upper case stored. Default:
	// "00", which "" also means.
	Country string `yaml:"country"`
	// Backend is how networks are joined: "wpa_supplicant", which runs
	// wpa_supplicant and can do every kind of security; "nl80211", which
	// asks the kernel's driver directly: open networks, and WPA2 with a
	// driver that does the handshake itself, such as the Raspberry Pi's
	// brcmfmac, but no WPA3, not even wpa2/wpa3; or "auto", which uses
	// wpa_supplicant when the image has it and nl80211 otherwise. Lower
	// case is stored; any case is accepted in the file. Default: "auto",
	// which "" also means.
	Backend string `yaml:"backend"`
	// Networks are the networks to join: of those in reach, one with the
	// highest priority. SSIDs are unique. Default: none, and WiFi is off
	// (see Enabled).
	Networks []WifiNetwork `yaml:"networks"`
}

// WifiNetwork is a WiFi network to join.
type WifiNetwork struct {
	// SSID is the network's name: 1..32 bytes, taken byte for byte.
	// Required.
	SSID string `yaml:"ssid"`
	// PSK is the network's key: a passphrase of 8..63 printable ASCII
	// characters (' ' to '~'), or a raw key of 64 hex digits (see RawKey),
	// which works with security wpa2 only (WPA3's SAE needs the
	// passphrase). Unlike other keys, it is taken as written
	// in the file: "0x" is no prefix here, but part of a passphrase.
	// Required unless security is open; not allowed when it is. Errors never
	// show it. Default: none.
	PSK Secret `yaml:"psk"`
	// Security is what the network asks of its clients: "wpa2" (WPA2
	// Personal), "wpa3" (WPA3 Personal, SAE), "wpa2/wpa3" (transition mode:
	// either, the strongest the network offers) or "open" (no key). wpa3
	// and wpa2/wpa3 need a passphrase and a backend other than nl80211.
	// Lower case is stored; any case is accepted in the file. Default:
	// "wpa2" with a psk, "open" without.
	Security string `yaml:"security"`
	// Hidden means the network does not broadcast its SSID, so that it is
	// probed for by name. Default: false.
	Hidden bool `yaml:"hidden"`
	// Priority ranks the networks in reach: one with the highest is
	// joined; among equals the backend chooses, by signal and security.
	// -1000..1000, default 0.
	Priority int `yaml:"priority"`
}

// The values of WifiNetwork.Security.
const (
	WifiWPA2     = "wpa2"
	WifiWPA3     = "wpa3"
	WifiWPA2WPA3 = "wpa2/wpa3"
	WifiOpen     = "open"
)

// The values of Wifi.Backend.
const (
	WifiBackendAuto          = "auto"
	WifiBackendWPASupplicant = "wpa_supplicant"
	WifiBackendNL80211       = "nl80211"
)

// Defaults and rules of the wifi section.
const (
	defaultWifiInterface = "wlan0"
	worldCountry         = "00" // the world regulatory domain
	maxSSID              = 32   // bytes in an SSID (IEEE 802.11)
	minPassphrase        = 8    // characters in a WPA passphrase
	maxPassphrase        = 63
	rawKeyDigits         = 64 // hex digits of a raw 256-bit WPA key
	maxWifiPriority      = 1000
)

// defaultWifi returns the wifi section of a file that has none.
func defaultWifi() Wifi {
	return Wifi{Interface: defaultWifiInterface, Country: worldCountry, Backend: WifiBackendAuto}
}

// Enabled reports whether WiFi is on: whether there are networks to join.
func (w Wifi) Enabled() bool { return len(w.Networks) > 0 }

// RawKey reports whether PSK is a raw key, 64 hex digits, rather than a
// passphrase. The key is then the 32 bytes the digits give, to be used as
// they are, where a passphrase is first hashed with the SSID.
func (n WifiNetwork) RawKey() bool {
	return len(n.PSK) == rawKeyDigits && isHex(n.PSK)
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
