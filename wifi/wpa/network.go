package wpa

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// Values of Network.Security.
const (
	SecurityOpen     = "open"      // no encryption (key_mgmt NONE)
	SecurityWPA2     = "wpa2"      // WPA2-Personal (WPA-PSK)
	SecurityWPA3     = "wpa3"      // WPA3-Personal only (SAE, management frame protection required)
	SecurityWPA2WPA3 = "wpa2/wpa3" // transition mode: either, MFP optional
)

// A Network is one WiFi network for Configure.
//
// Its String, GoString and Format methods and its slog value never show the
// key, whatever the verb; only whether one is set.
type Network struct {
	// SSID is the network name, 1 to 32 bytes of any value.
	SSID string
	// PSK is the key: a passphrase of 8 to 63 printable ASCII characters or,
	// for WPA2 only, a 64-hex-digit pre-shared key. Empty for an open
	// network.
	PSK string
	// Security is one of the Security constants. Empty means SecurityWPA2
	// when PSK is set and SecurityOpen when it is not.
	Security string
	// Hidden makes wpa_supplicant probe for the SSID (scan_ssid=1), needed
	// for networks that do not broadcast it.
	Hidden bool
	// Priority orders networks: wpa_supplicant prefers higher values. It
	// must not be negative.
	Priority int
}

// EffectiveSecurity is Security with the default applied.
func (n Network) EffectiveSecurity() string {
	switch {
	case n.Security != "":
		return n.Security
	case n.PSK != "":
		return SecurityWPA2
	}
	return SecurityOpen
}

// Validate checks the network as Configure would. Its error names the SSID
// and the rule, never the key.
func (n Network) Validate() error {
	_, err := n.settings()
	return err
}

// A setting is one SET_NETWORK variable and its encoded value.
type setting struct{ name, value string }

// settings returns the SET_NETWORK variables for n, in the order they are
// sent.
func (n Network) settings() ([]setting, error) {
	fail := func(format string, args ...any) ([]setting, error) {
		return nil, fmt.Errorf("wpa: network %q: %s", n.SSID, fmt.Sprintf(format, args...))
	}
	if len(n.SSID) == 0 || len(n.SSID) > 32 {
		return fail("SSID must be 1 to 32 bytes, not %d", len(n.SSID))
	}
	if n.Priority < 0 {
		return fail("priority %d is negative", n.Priority)
	}
	// The SSID as hex, unquoted, carries any bytes.
	s := []setting{{"ssid", hexString(n.SSID)}}
	sec := n.EffectiveSecurity()
	switch sec {
	case SecurityOpen:
		if n.PSK != "" {
			return fail("an open network takes no key")
		}
		s = append(s, setting{"key_mgmt", "NONE"})
	case SecurityWPA2:
		switch {
		case isHexKey(n.PSK):
			s = append(s, setting{"key_mgmt", "WPA-PSK"}, setting{"psk", n.PSK})
		case isPassphrase(n.PSK):
			s = append(s, setting{"key_mgmt", "WPA-PSK"}, setting{"psk", `"` + n.PSK + `"`})
		default:
			return fail("the WPA2 key must be 8 to 63 printable ASCII characters or 64 hex digits")
		}
	case SecurityWPA3, SecurityWPA2WPA3:
		// SAE needs the password itself; a 64-hex-digit PSK is a hash of it
		// and can not be used. The limit of 63 keeps one rule for both
		// modes.
		if !isPassphrase(n.PSK) {
			return fail("the %s key must be 8 to 63 printable ASCII characters", sec)
		}
		q := `"` + n.PSK + `"`
		if sec == SecurityWPA3 {
			s = append(s, setting{"key_mgmt", "SAE"}, setting{"sae_password", q}, setting{"ieee80211w", "2"})
		} else {
			s = append(s, setting{"key_mgmt", "WPA-PSK SAE"}, setting{"psk", q}, setting{"sae_password", q}, setting{"ieee80211w", "1"})
		}
	default:
		return fail("security %q is not one of open, wpa2, wpa3, wpa2/wpa3", n.Security)
	}
	if n.Hidden {
		s = append(s, setting{"scan_ssid", "1"})
	}
	if n.Priority != 0 {
		s = append(s, setting{"priority", strconv.Itoa(n.Priority)})
	}
	return s, nil
}

// isPassphrase reports whether k is a WPA passphrase: 8 to 63 characters
// from space to tilde. wpa_supplicant takes the text between the first and
// the last double quote, so quotes inside need no escaping.
func isPassphrase(k string) bool {
	if len(k) < 8 || len(k) > 63 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// isHexKey reports whether k is a raw 256-bit PSK in hex.
func isHexKey(k string) bool {
	if len(k) != 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if hexVal(k[i]) < 0 {
			return false
		}
	}
	return true
}

func hexString(s string) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, digits[s[i]>>4], digits[s[i]&15])
	}
	return string(b)
}

// String describes the network without its key, for example
// `"home" (wpa2, hidden, priority 2, key set)`.
func (n Network) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q (%s", n.SSID, n.EffectiveSecurity())
	if n.Hidden {
		b.WriteString(", hidden")
	}
	if n.Priority != 0 {
		fmt.Fprintf(&b, ", priority %d", n.Priority)
	}
	if n.PSK != "" {
		b.WriteString(", key set")
	}
	b.WriteString(")")
	return b.String()
}

// GoString is like String in Go syntax, with the key shown as "***".
func (n Network) GoString() string {
	psk := `""`
	if n.PSK != "" {
		psk = `"***"`
	}
	return fmt.Sprintf("wpa.Network{SSID: %q, PSK: %s, Security: %q, Hidden: %t, Priority: %d}",
		n.SSID, psk, n.Security, n.Hidden, n.Priority)
}

// Format makes every fmt verb, not only %v and %s, print String (GoString
// for %#v), so that %d or %x of a Network can not print its key.
func (n Network) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, n.GoString())
	case verb == 'q':
		io.WriteString(f, strconv.Quote(n.String()))
	default:
		io.WriteString(f, n.String())
	}
}

// LogValue makes slog log String, not the fields.
func (n Network) LogValue() slog.Value { return slog.StringValue(n.String()) }
