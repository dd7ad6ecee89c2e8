package wifi

import "testing"

func TestChoose(t *testing.T) {
	nets := []Network{
		{SSID: "home", Priority: 10, Security: WPA2},
		{SSID: "phone", Priority: 0, Security: WPA2},
		{SSID: "attic", Priority: 10, Security: WPA2},
		{SSID: "lab", Priority: 20, Hidden: true, Security: WPA3},
	}
	tests := []struct {
		name    string
		inRange []BSS
		skip    map[string]bool
		want    string
	}{
		{"nothing in range but the hidden one is tried", nil, nil, "lab"},
		{"priority wins", []BSS{{SSID: "phone", Signal: -30}, {SSID: "home", Signal: -80}}, map[string]bool{"lab": true}, "home"},
		{"equal priority: stronger signal", []BSS{{SSID: "home", Signal: -80}, {SSID: "attic", Signal: -50}}, map[string]bool{"lab": true}, "attic"},
		{"skipped ones are left", []BSS{{SSID: "home", Signal: -50}, {SSID: "phone", Signal: -50}}, map[string]bool{"lab": true, "home": true}, "phone"},
		{"none", []BSS{{SSID: "other"}}, map[string]bool{"lab": true}, ""},
	}
	for _, tt := range tests {
		n, ok := choose(nets, tt.inRange, tt.skip)
		if got := n.SSID; (ok && got != tt.want) || (!ok && tt.want != "") {
			t.Errorf("%s: %q %v, want %q", tt.name, got, ok, tt.want)
		}
	}
	if s := (Network{SSID: "home", PSK: "secret-key", Security: WPA2}).String(); s != `"home" (wpa2, priority 0)` {
		t.Errorf("String %q", s)
	}
}
