package wpa

import (
	"fmt"
	"strconv"
	"strings"
)

// Names of events the WiFi state machine acts on. wpa_supplicant sends many
// more; Event.Name holds whatever came.
const (
	EventConnected        = "CTRL-EVENT-CONNECTED"
	EventDisconnected     = "CTRL-EVENT-DISCONNECTED"
	EventSSIDTempDisabled = "CTRL-EVENT-SSID-TEMP-DISABLED"
	EventSSIDReenabled    = "CTRL-EVENT-SSID-REENABLED"
	EventScanResults      = "CTRL-EVENT-SCAN-RESULTS"
	EventScanFailed       = "CTRL-EVENT-SCAN-FAILED"
	EventNetworkNotFound  = "CTRL-EVENT-NETWORK-NOT-FOUND"
	EventNetworkAdded     = "CTRL-EVENT-NETWORK-ADDED"
	EventNetworkRemoved   = "CTRL-EVENT-NETWORK-REMOVED"
	EventAuthReject       = "CTRL-EVENT-AUTH-REJECT"
	EventAssocReject      = "CTRL-EVENT-ASSOC-REJECT"
	EventRegdomChange     = "CTRL-EVENT-REGDOM-CHANGE"
	EventTerminating      = "CTRL-EVENT-TERMINATING"

	// EventDetached is synthesised by this package (Level -1) when the
	// event monitor is lost, for example because wpa_supplicant exited.
	// Text says why.
	EventDetached = "PIGW-WPA-DETACHED"
	// EventAttached is synthesised (Level -1) when the monitor is attached
	// again. Events may have been lost in between: read Status.
	EventAttached = "PIGW-WPA-ATTACHED"
)

// An Event is one unsolicited message from wpa_supplicant, such as
//
//	<3>CTRL-EVENT-DISCONNECTED bssid=02:00:00:00:01:00 reason=3 locally_generated=1
type Event struct {
	// Level is wpa_supplicant's message priority (2 debug, 3 info,
	// 4 warning, 5 error), or -1 for an event this package made up.
	Level int
	// Name is the first word, such as "CTRL-EVENT-CONNECTED" or, for the
	// older free-text messages, "WPA:" or "Trying".
	Name string
	// Text is the rest of the message after Name.
	Text string
	// Fields holds the key=value words of Text, with brackets removed and
	// quoted values decoded ("ssid" is then the raw SSID). For
	// CTRL-EVENT-CONNECTED, whose BSSID is not a key=value word, "bssid" is
	// filled in from "Connection to <bssid> completed". Never nil.
	Fields map[string]string
}

// String returns the event as wpa_supplicant sent it, without the interface
// prefix of the global control socket.
func (e Event) String() string {
	s := e.Name
	if e.Text != "" {
		s += " " + e.Text
	}
	if e.Level < 0 {
		return s
	}
	return "<" + strconv.Itoa(e.Level) + ">" + s
}

// WrongKey reports whether the event says that the configured key was
// rejected. It is true only for
//
//	CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="x" auth_failures=1 duration=10 reason=WRONG_KEY
//
// which wpa_supplicant sends after "WPA: 4-Way Handshake failed - pre-shared
// key may be incorrect": a PSK network lost its connection in the 4-way
// handshake other than by a local IE mismatch. That is wpa_supplicant's own
// judgement, made with more state than the event carries, and it already
// covers the AP's deauthentication at the handshake timeout.
//
// A bare CTRL-EVENT-DISCONNECTED is not classified: reason=15 (4-way
// handshake timeout) also follows lost frames on a weak link, and reason=2
// (previous authentication no longer valid) is sent by APs for many things.
// Treating them as a wrong key would make a flaky link look like a
// configuration error. A wrong SAE (WPA3) password fails in the SAE exchange
// before any 4-way handshake, and wpa_supplicant 2.10 reports it as
// reason=CONN_FAILED or an authentication reject, not WRONG_KEY; the state
// machine should count repeated failures for SAE networks instead.
func (e Event) WrongKey() bool {
	return e.Name == EventSSIDTempDisabled && e.Fields["reason"] == "WRONG_KEY"
}

// isEvent reports whether a datagram is an unsolicited message rather than a
// reply: events start with "<level>", or on the global control socket with
// "IFNAME=<iface> <level>".
func isEvent(msg string) bool {
	return strings.HasPrefix(msg, "<") || strings.HasPrefix(msg, "IFNAME=")
}

// ParseEvent parses one unsolicited message. It accepts anything; a message
// without a "<level>" prefix (a number 0 to 65535) gets Level 0.
func ParseEvent(msg string) Event {
	msg = strings.TrimRight(msg, "\n")
	if rest, ok := strings.CutPrefix(msg, "IFNAME="); ok {
		if _, after, ok := strings.Cut(rest, " "); ok {
			msg = after
		}
	}
	ev := Event{Fields: map[string]string{}}
	if strings.HasPrefix(msg, "<") {
		// Digits only: a level such as -1 would pass for an event made up here.
		if end := strings.IndexByte(msg, '>'); end > 0 {
			if n, err := strconv.ParseUint(msg[1:end], 10, 16); err == nil {
				ev.Level = int(n)
				msg = msg[end+1:]
			}
		}
	}
	ev.Name = msg
	if i := strings.IndexAny(msg, " \n"); i >= 0 {
		ev.Name, ev.Text = msg[:i], strings.TrimSpace(msg[i+1:])
	}
	for _, w := range splitWords(ev.Text) {
		w = strings.TrimPrefix(w, "[")
		k, v, ok := strings.Cut(w, "=")
		if !ok || !isFieldKey(k) {
			continue
		}
		if strings.HasPrefix(v, `"`) {
			v = unescape(strings.TrimSuffix(strings.TrimSuffix(v[1:], "]"), `"`))
		} else {
			v = strings.TrimSuffix(v, "]")
		}
		ev.Fields[k] = v
	}
	if ev.Name == EventConnected {
		var bssid string
		if _, err := fmt.Sscanf(ev.Text, "- Connection to %s completed", &bssid); err == nil {
			if _, ok := ev.Fields["bssid"]; !ok {
				ev.Fields["bssid"] = bssid
			}
		}
	}
	return ev
}

// splitWords splits s at spaces outside double quotes, honouring
// backslash escapes inside quotes.
func splitWords(s string) []string {
	var words []string
	start, quoted := -1, false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quoted && ch == '\\':
			i++
		case ch == '"':
			quoted = !quoted
		case ch == ' ' && !quoted:
			if start >= 0 {
				words = append(words, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}

func isFieldKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
