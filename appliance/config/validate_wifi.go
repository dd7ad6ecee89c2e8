package config

import (
	"fmt"
	"strings"
)

// passphraseRule is what a WiFi psk must be, for error messages.
const passphraseRule = "a passphrase is 8..63 printable ASCII characters, or 64 hex digits"

// wifi checks the wifi section and fills in its defaults. ifaces are the
// interfaces of the network section, checked already, at ifPath.
func (v *validator) wifi(w *Wifi, path string, ifaces []Interface, ifPath string) {
	ifOK := true
	switch msg := checkIfName(w.Interface); {
	case w.Interface == "":
		w.Interface = defaultWifiInterface
	case msg != "":
		v.fail(path+".interface", false, "%s", msg)
		ifOK = false
	case (Interface{Name: w.Interface}).IsPattern():
		v.fail(path+".interface", false, "%q is a pattern; give the WiFi link's own name, such as wlan0", w.Interface)
		ifOK = false
	}

	switch c := strings.ToUpper(w.Country); {
	case c == "":
		w.Country = worldCountry
	case c == worldCountry || len(c) == 2 && isUpper(c[0]) && isUpper(c[1]):
		w.Country = c
	default:
		v.fail(path+".country", false, "%q is not a country code (two letters of ISO 3166-1 alpha-2, such as DE or US; or 00 for the world)", w.Country)
	}

	switch b := strings.ToLower(w.Backend); b {
	case "":
		w.Backend = WifiBackendAuto
	case WifiBackendAuto, WifiBackendWPASupplicant, WifiBackendNL80211:
		w.Backend = b
	default:
		v.fail(path+".backend", false, "%q is not a backend (auto, wpa_supplicant or nl80211)", w.Backend)
	}

	first := map[string]int{} // network index by SSID
	for i := range w.Networks {
		n := &w.Networks[i]
		p := fmt.Sprintf("%s.networks[%d]", path, i)
		if !v.wifiNetwork(n, p, w.Backend, path+".backend") {
			continue
		}
		if j, dup := first[n.SSID]; dup {
			prev := fmt.Sprintf("%s.networks[%d]", path, j)
			v.fail(p+".ssid", false, "%q is already used by %s%s", n.SSID, prev, v.where(prev+".ssid", p+".ssid"))
			continue
		}
		first[n.SSID] = i
	}

	// An entry of network.interfaces for the WiFi interface (its name, or
	// the first pattern that matches it) sets up its addresses, which is
	// fine; but it may not take the link down.
	if !w.Enabled() || !ifOK {
		return
	}
	if i := (Network{Interfaces: ifaces}).EntryFor(w.Interface); i >= 0 {
		if it := ifaces[i]; it.Up != nil && !*it.Up {
			p := fmt.Sprintf("%s[%d].up", ifPath, i)
			v.fail(p, false, "false, but %s joins the networks of %s.networks%s and needs to be up; remove up: false or the networks",
				w.Interface, path, v.where(path+".networks", p))
		}
	}
}

// wifiNetwork checks one WiFi network, to be joined with backend (valid or
// not, written at backendPath), fills in its security and reports whether
// its SSID is valid.
func (v *validator) wifiNetwork(n *WifiNetwork, path, backend, backendPath string) (ssidOK bool) {
	switch l := len(n.SSID); {
	case l == 0:
		v.fail(path+".ssid", false, "missing (give the network's name, 1..%d bytes)", maxSSID)
	case l > maxSSID:
		v.fail(path+".ssid", false, "%q is %d bytes long, more than %d", n.SSID, l, maxSSID)
	default:
		ssidOK = true
	}

	sec := strings.ToLower(n.Security)
	switch sec {
	case "":
		sec = WifiOpen
		if n.PSK != nil {
			sec = WifiWPA2
		}
		n.Security = sec
	case WifiWPA2, WifiWPA3, WifiWPA2WPA3, WifiOpen:
		n.Security = sec
	default:
		v.fail(path+".security", false, "%q is not a security (wpa2, wpa3, wpa2/wpa3 or open)", n.Security)
		sec = ""
	}

	psk := path + ".psk"
	switch {
	case sec == "": // unknown: the psk is checked by itself
		if n.PSK != nil {
			v.passphrase(n.PSK, psk)
		}
	case sec == WifiOpen:
		if n.PSK != nil {
			v.fail(psk, false, "not allowed with security open (remove psk, or give security wpa2, wpa3 or wpa2/wpa3)")
		}
	case n.PSK == nil:
		v.fail(psk, false, "missing (security %s needs a psk: %s)", sec, passphraseRule)
	case v.passphrase(n.PSK, psk) && sec != WifiWPA2 && n.RawKey():
		v.fail(psk, false, "is 64 hex digits, a raw key, which only WPA2 can use; security %s needs the passphrase", sec)
	}

	if (sec == WifiWPA3 || sec == WifiWPA2WPA3) && backend == WifiBackendNL80211 {
		v.fail(path+".security", false, "%q: WPA3 needs the wpa_supplicant backend, but backend is nl80211%s", n.Security, v.where(backendPath, path+".security"))
	}

	if n.Priority < -maxWifiPriority || n.Priority > maxWifiPriority {
		v.fail(path+".priority", false, "%d is out of range (%d..%d)", n.Priority, -maxWifiPriority, maxWifiPriority)
	}
	return ssidOK
}

// passphrase checks a WiFi psk without showing it, and reports whether it
// is valid.
func (v *validator) passphrase(k Secret, path string) bool {
	if msg := checkPassphrase(k); msg != "" {
		v.fail(path, false, "%s", msg)
		return false
	}
	return true
}

// checkPassphrase says what is wrong with a WiFi psk, giving its length but
// not its text, or returns "".
func checkPassphrase(k Secret) string {
	n := len(k)
	for _, c := range k {
		if c < ' ' || c > '~' {
			return fmt.Sprintf("is %s, not all printable ASCII; %s", count(n, "byte"), passphraseRule)
		}
	}
	switch {
	case n == 0:
		return "empty; " + passphraseRule
	case n == rawKeyDigits && !isHex(k):
		return fmt.Sprintf("is %d characters, not all hex digits; %s", n, passphraseRule)
	case n < minPassphrase || n > maxPassphrase && n != rawKeyDigits:
		return fmt.Sprintf("is %s; %s", count(n, "character"), passphraseRule)
	}
	return ""
}

// count returns "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
