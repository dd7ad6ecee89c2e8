package appliance

import (
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pigw/pigw/appliance/web"
	"github.com/pigw/pigw/wifi"
)

// The status page's view of the sensors, sessions and WiFi: copies taken under each part's
// lock.

// status is each sensor's last sample, in the config's order, and why it fails when it does.
func (sr *sensorResources) status() []web.Sensor {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	out := make([]web.Sensor, 0, len(sr.names))
	for _, n := range sr.names {
		s := web.Sensor{Name: n, Readings: []web.Reading{}}
		if sm, ok := sr.samples[n]; ok {
			s.At, s.AgeSeconds = sm.Time.UTC(), time.Since(sm.Time).Seconds()
			for _, rd := range sm.Readings {
				s.Readings = append(s.Readings, web.Reading{Quantity: rd.Name, Value: rd.Value, Unit: rd.Unit})
			}
		}
		if r := sr.res[n]; r != nil {
			s.Failure = r.Failure()
		}
		out = append(out, s)
	}
	return out
}

// status is each session's connection and the last result of each of its requests, in the
// config's order.
func (ss *sessions) status() []web.Session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]web.Session, 0, len(ss.cfg))
	for _, sc := range ss.cfg {
		s := web.Session{Name: sc.Name, Peer: sc.Peer, State: ss.conn[sc.Name], Requests: []web.LastRequest{}}
		for _, rq := range sc.Requests {
			lr := web.LastRequest{Request: rq.Name, Method: rq.Method, Path: rq.Path}
			if raw, ok := ss.last[sc.Name][rq.Name]; ok {
				var r struct {
					At         time.Time `json:"at"`
					Code       string    `json:"code"`
					Payload    string    `json:"payload"`
					PayloadHex string    `json:"payload_hex"`
					RTT        float64   `json:"rtt_ms"`
					Error      string    `json:"error"`
				}
				if json.Unmarshal(raw, &r) == nil {
					lr.At, lr.Code, lr.RTTms, lr.Error = r.At, r.Code, r.RTT, r.Error
					lr.Payload, lr.Hex = r.Payload, r.PayloadHex != ""
					if lr.Hex {
						lr.Payload = r.PayloadHex
					}
					if len(lr.Payload) > web.MaxShownValue {
						lr.Payload = utf8Prefix(lr.Payload, web.MaxShownValue) + "..."
					}
				}
			}
			s.Requests = append(s.Requests, lr)
		}
		out = append(out, s)
	}
	return out
}

// wifiStatus keeps the WiFi link's last state, as the WiFi subsystem reports it.
type wifiStatus struct {
	mu sync.Mutex
	st *web.Wifi
}

func (w *wifiStatus) set(s wifi.State) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st = &web.Wifi{Interface: s.Interface, State: s.State, SSID: s.SSID, SignalDBm: s.Signal, Frequency: s.Frequency,
		LastError: s.LastError, Since: s.Since}
}

// get is the last state, or nil before the first (or with WiFi off).
func (w *wifiStatus) get() *web.Wifi {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.st == nil {
		return nil
	}
	c := *w.st
	return &c
}

// shownValue is a value as the page shows it: as text when it is UTF-8, else as hex, cut to
// web.MaxShownValue bytes (a rune is never split).
func shownValue(v []byte) (shown string, isHex, truncated bool) {
	truncated = len(v) > web.MaxShownValue
	if utf8.Valid(v) {
		return utf8Prefix(string(v), web.MaxShownValue), false, truncated
	}
	return hex.EncodeToString(v[:min(len(v), web.MaxShownValue)]), true, truncated
}

// utf8Prefix is the longest prefix of s of at most n bytes that ends at a rune's end.
func utf8Prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
