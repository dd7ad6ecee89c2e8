package vmtest

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// startStation boots the WiFi lab with testdata/stainit as /pigw: it joins the AP with
// wpa_supplicant on the station interface, takes a DHCP lease and pings the AP.
func startStation(t *testing.T, lab Lab, cmdline string) *VM {
	t.Helper()
	o := WiFiLabOptions(t, Options{
		Init:    GuestProgram(t, "./internal/vmtest/testdata/stainit"),
		Cmdline: cmdline,
	}, lab)
	return Start(t, o)
}

func mustWait(t *testing.T, vm *VM, re string, timeout time.Duration) string {
	t.Helper()
	m, err := vm.WaitConsole(regexp.MustCompile(re), timeout)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// uptimeOf returns the uptime=D a console line reports.
func uptimeOf(line string) string {
	if _, v, ok := strings.Cut(line, "uptime="); ok {
		return strings.Fields(v)[0]
	}
	return "?"
}

// TestWiFiLabWPA2 joins the lab's WPA2-PSK network: association on the console with the SSID,
// the AP's view of it, a lease from dnsmasq and a ping of the AP.
func TestWiFiLabWPA2(t *testing.T) {
	t.Parallel()
	vm := startStation(t, Lab{SSID: "lab-wpa2", PSK: "labpassphrase"}, "")
	ready := mustWait(t, vm, WiFiLabReady.String(), 2*time.Minute)
	readyAt := vm.Since()
	if !strings.Contains(ready, "ssid=lab-wpa2 security=wpa2-psk dhcp=dnsmasq") {
		t.Errorf("ready line %q", ready)
	}
	assoc := mustWait(t, vm, `stainit: associated ssid=lab-wpa2 [^\n]*`, time.Minute)
	assocAt := vm.Since()
	mustWait(t, vm, `stainit: link: Connected to [0-9a-f:]+`, 10*time.Second)
	mustWait(t, vm, `stainit: link: SSID: lab-wpa2\n`, 10*time.Second)
	mustWait(t, vm, `ap: hostapd: wlan0: AP-STA-CONNECTED`, 10*time.Second)
	lease := mustWait(t, vm, `stainit: dhcp bound ip=192\.168\.77\.\d+ lease=120 router=192\.168\.77\.1\n`, 30*time.Second)
	mustWait(t, vm, `stainit: ping 192\.168\.77\.1 ok`, 30*time.Second)
	t.Logf("ap ready: guest uptime %s, %v after Start; associated: uptime %s, %v after Start; %s",
		uptimeOf(ready), readyAt.Round(time.Millisecond), uptimeOf(assoc), assocAt.Round(time.Millisecond), strings.TrimSpace(lease))
}

// TestWiFiLabOpen joins an open network, with the station renamed wlan0 as on a Pi and a
// 30-second lease from udhcpd.
func TestWiFiLabOpen(t *testing.T) {
	t.Parallel()
	vm := startStation(t, Lab{SSID: "lab-open", Lease: 30 * time.Second, StationIface: "wlan0"}, "")
	ready := mustWait(t, vm, WiFiLabReady.String(), 2*time.Minute)
	if !strings.Contains(ready, "ssid=lab-open security=open dhcp=udhcpd lease=30s") || !strings.Contains(ready, "station=wlan0") {
		t.Errorf("ready line %q", ready)
	}
	assoc := mustWait(t, vm, `stainit: associated ssid=lab-open [^\n]*`, time.Minute)
	mustWait(t, vm, `stainit: link: SSID: lab-open\n`, 10*time.Second)
	mustWait(t, vm, `stainit: dhcp bound ip=192\.168\.77\.\d+ lease=30 `, 30*time.Second)
	mustWait(t, vm, `stainit: ping 192\.168\.77\.1 ok`, 30*time.Second)
	t.Logf("ap ready: uptime %s; associated: uptime %s", uptimeOf(ready), uptimeOf(assoc))
}

// TestWiFiLabWrongPSK: with the wrong passphrase the 4-way handshake fails and the station
// never completes a connection.
func TestWiFiLabWrongPSK(t *testing.T) {
	t.Parallel()
	vm := startStation(t, Lab{SSID: "lab-wpa2", PSK: "rightpassphrase"}, "stapsk=wrongpassphrase")
	mustWait(t, vm, WiFiLabReady.String(), 2*time.Minute)
	readyAt := vm.Since()
	mustWait(t, vm, `sta: wpa_supplicant: [^\n]*(WRONG_KEY|4-Way Handshake failed)`, time.Minute)
	mustWait(t, vm, `ap: hostapd: wlan0: AP-STA-POSSIBLE-PSK-MISMATCH`, 10*time.Second)
	// No connection within 20 s of the AP being ready.
	rest := max(20*time.Second-(vm.Since()-readyAt), time.Second)
	if m, err := vm.WaitConsole(regexp.MustCompile(`stainit: associated|CTRL-EVENT-CONNECTED`), rest); err == nil {
		t.Fatalf("the station connected with the wrong passphrase: %q", m)
	}
}

// TestWiFiLabSchedule: apstop/aprestart take the AP away and bring it back, and the station
// connects again; dhcpstop stops the DHCP server.
func TestWiFiLabSchedule(t *testing.T) {
	t.Parallel()
	vm := startStation(t, Lab{SSID: "lab-sched", PSK: "schedpassphrase", APStop: 12 * time.Second, APRestart: 2 * time.Second,
		DHCPStop: 20 * time.Second}, "")
	mustWait(t, vm, WiFiLabReady.String(), 2*time.Minute)
	mustWait(t, vm, `stainit: ping 192\.168\.77\.1 ok`, time.Minute)
	mustWait(t, vm, `ap: stopping hostapd \(apstop=12s\)`, time.Minute)
	mustWait(t, vm, `stainit: disconnected`, 30*time.Second)
	mustWait(t, vm, `ap: starting hostapd again \(aprestart=2s\)`, 30*time.Second)
	mustWait(t, vm, `(?s)starting hostapd again.*AP-ENABLED.*stainit: associated ssid=lab-sched`, time.Minute)
	mustWait(t, vm, `ap: dnsmasq stopped`, time.Minute)
}

// TestLabCmdline: the lab's security knob reaches apinit only for WPA3, and nonsense is refused
// with the field's name.
func TestLabCmdline(t *testing.T) {
	for _, tc := range []struct {
		lab  Lab
		want string // in the words, or in the error
		ok   bool
	}{
		{Lab{SSID: "s", PSK: "passphrase", Security: "wpa3"}, "apssid=s appsk=passphrase apsec=wpa3", true},
		{Lab{SSID: "s", PSK: "passphrase", Security: "wpa2"}, "apssid=s appsk=passphrase", true},
		{Lab{SSID: "s", PSK: "passphrase"}, "apssid=s appsk=passphrase", true},
		{Lab{SSID: "s", Security: "wpa3"}, "Lab.Security wpa3: needs a PSK", false},
		{Lab{SSID: "s", PSK: "passphrase", Security: "wep"}, `Lab.Security "wep": want wpa2 or wpa3`, false},
	} {
		words, err := tc.lab.Cmdline()
		switch {
		case tc.ok && (err != nil || !strings.HasPrefix(words, tc.want) || strings.Contains(strings.TrimPrefix(words, tc.want), "apsec")):
			t.Errorf("%+v: %q %v, want %q", tc.lab, words, err, tc.want)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want %q", tc.lab, err, tc.want)
		}
	}
}
