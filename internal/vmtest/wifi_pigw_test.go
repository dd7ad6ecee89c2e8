package vmtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
)

// These tests boot pigw in the WiFi lab: mac80211_hwsim radios, hostapd and a DHCP server in
// the guest's "ap" namespace, pigw's station on wlan0. The host talks to pigw over the wired
// link (eth0, forwarded by QEMU); the lab's probe GETs from the AP side over the WiFi.

const labPSK = "lab-passphrase"

// bootWiFi boots pigw in a lab with the given wifi section.
func bootWiFi(t *testing.T, wifiYAML string, lab Lab) *VM {
	t.Helper()
	perm, bootDisk := disks(t, wifiYAML)
	lab.StationIface, lab.Probe = "wlan0", "resource1"
	return Start(t, WiFiLabOptions(t, Options{
		Init: pigwBinary(t), Files: map[string][]byte{"/etc/pigw.yaml": []byte(etcConfig)}, Modules: pigwModules,
		PermDisk: perm, BootDisk: bootDisk, ForwardUDP: []int{5683, 5684},
	}, lab))
}

func wifiState(t *testing.T, s *coap.Session) map[string]any {
	t.Helper()
	r := until(t, s, coap.NewRequest(coap.GET, "sys/wifi"), 30*time.Second)
	var st map[string]any
	_ = json.Unmarshal(r.Payload, &st)
	return st
}

// pigwLogShows reports whether one of pigw's log lines holds s (the kernel command line, which
// carries the lab's own key, is not pigw's).
func pigwLogShows(vm *VM, s string) bool {
	for _, l := range strings.Split(vm.Console(), "\n") {
		if strings.Contains(l, "level=") && strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, vm *VM, re string, timeout time.Duration) string {
	t.Helper()
	line, err := vm.WaitConsole(regexp.MustCompile(re), timeout)
	if err != nil {
		t.Fatalf("no %s within %s: %v", re, timeout, err)
	}
	return strings.TrimSpace(line)
}

// joined checks the WiFi link end to end: associated, the lease applied, and the AP side's
// CoAP GET of the appliance's WiFi address answered.
func joined(t *testing.T, vm *VM, backend, ssid string) {
	t.Helper()
	start := vm.Since()
	waitFor(t, vm, `msg="wifi connected" ssid=`+ssid, 90*time.Second)
	t.Logf("connected %s after boot", vm.Since().Round(100*time.Millisecond))
	waitFor(t, vm, `msg="DHCP lease" link=wlan0 address=`+regexp.QuoteMeta(WiFiLabStationAddr)+`/24 router=192\.168\.77\.1`, 60*time.Second)
	waitFor(t, vm, `ap: probe 2\.05 default_value`, 60*time.Second)
	t.Logf("answered over WiFi %s after the first wait began", (vm.Since() - start).Round(100*time.Millisecond))
	st := wifiState(t, session(t, vm, false))
	if st["backend"] != backend || st["state"] != "connected" || st["ssid"] != ssid || st["bssid"] == "" || st["frequency_mhz"] != 2437.0 {
		t.Errorf("/sys/wifi %v", st)
	}
	if pigwLogShows(vm, labPSK) {
		t.Error("pigw's log shows the key")
	}
}

func TestPigwWiFiWPA2Supplicant(t *testing.T) {
	vm := bootWiFi(t, fmt.Sprintf("wifi:\n  backend: wpa_supplicant\n  country: DE\n  networks:\n    - {ssid: pigw-lab, psk: %s}\n", labPSK),
		Lab{SSID: "pigw-lab", PSK: labPSK})
	joined(t, vm, "wpa_supplicant", "pigw-lab")
	// The first GET starts a scan and answers at once; a later one has the results.
	s := session(t, vm, false)
	var r coap.Response
	for range 30 {
		r = until(t, s, coap.NewRequest(coap.GET, "sys/wifi/scan"), 10*time.Second)
		if strings.Contains(string(r.Payload), `"ssid":"pigw-lab"`) {
			break
		}
		time.Sleep(time.Second)
	}
	if r.Code != coap.Content || !strings.Contains(string(r.Payload), `"ssid":"pigw-lab"`) || !strings.Contains(string(r.Payload), `"security":"wpa2"`) {
		t.Errorf("/sys/wifi/scan: %s %s", r.Code, r.Payload)
	}
}

func TestPigwWiFiOpenNL80211(t *testing.T) {
	vm := bootWiFi(t, "wifi:\n  backend: nl80211\n  networks:\n    - {ssid: pigw-open}\n", Lab{SSID: "pigw-open"})
	joined(t, vm, "nl80211", "pigw-open")
}

// TestPigwWiFiWrongKey: the refused key shows in /sys/wifi as auth-failed, and the subsystem
// does not crash-loop.
func TestPigwWiFiWrongKey(t *testing.T) {
	vm := bootWiFi(t, "wifi:\n  backend: wpa_supplicant\n  networks:\n    - {ssid: pigw-lab, psk: not-the-passphrase}\n",
		Lab{SSID: "pigw-lab", PSK: labPSK})
	s := session(t, vm, false)
	deadline := time.Now().Add(90 * time.Second)
	var st map[string]any
	for time.Now().Before(deadline) {
		if st = wifiState(t, s); st["state"] == "auth-failed" {
			break
		}
		time.Sleep(time.Second)
	}
	if st["state"] != "auth-failed" || !strings.Contains(fmt.Sprint(st["last_error"]), "wrong key") {
		t.Fatalf("/sys/wifi %v", st)
	}
	r := until(t, s, coap.NewRequest(coap.GET, "sys/subsystems/wifi"), 10*time.Second)
	var sub map[string]any
	_ = json.Unmarshal(r.Payload, &sub)
	if sub["state"] != "running" || sub["restarts"] != 0.0 {
		t.Errorf("wifi subsystem %v: want running, no restarts", sub)
	}
	if pigwLogShows(vm, "not-the-passphrase") {
		t.Error("pigw's log shows the key")
	}
}

// TestPigwWiFiReconnect: hostapd goes away and comes back; pigw joins again and gets its
// address back.
func TestPigwWiFiReconnect(t *testing.T) {
	vm := bootWiFi(t, fmt.Sprintf("wifi:\n  networks:\n    - {ssid: pigw-lab, psk: %s}\n", labPSK),
		Lab{SSID: "pigw-lab", PSK: labPSK, APStop: 25 * time.Second, APRestart: 5 * time.Second})
	joined(t, vm, "wpa_supplicant", "pigw-lab")
	waitFor(t, vm, `ap: hostapd stopped`, 60*time.Second)
	waitFor(t, vm, `msg="wifi disconnected"`, 30*time.Second)
	waitFor(t, vm, `ap: starting hostapd again`, 30*time.Second)
	before := strings.Count(vm.Console(), `msg="wifi connected"`)
	deadline := time.Now().Add(90 * time.Second)
	for strings.Count(vm.Console(), `msg="wifi connected"`) <= before && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	if strings.Count(vm.Console(), `msg="wifi connected"`) <= before {
		t.Fatal("not connected again after hostapd came back")
	}
	probes := strings.Count(vm.Console(), "ap: probe 2.05")
	deadline = time.Now().Add(60 * time.Second)
	for strings.Count(vm.Console(), "ap: probe 2.05") <= probes && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	if strings.Count(vm.Console(), "ap: probe 2.05") <= probes {
		t.Error("not answering over WiFi after the reconnection")
	}
}

// TestPigwWiFiDHCPServerGone: the DHCP server stops; the address stays (the probe is still
// answered) until the lease expires, and only then is it removed.
func TestPigwWiFiDHCPServerGone(t *testing.T) {
	vm := bootWiFi(t, fmt.Sprintf("wifi:\n  networks:\n    - {ssid: pigw-lab, psk: %s}\n", labPSK),
		Lab{SSID: "pigw-lab", PSK: labPSK, Lease: 40 * time.Second, DHCPServer: "udhcpd", DHCPStop: 15 * time.Second})
	joined(t, vm, "wpa_supplicant", "pigw-lab")
	waitFor(t, vm, `ap: udhcpd stopped`, 60*time.Second)
	stopped := time.Now()
	probes := strings.Count(vm.Console(), "ap: probe 2.05")
	time.Sleep(8 * time.Second)
	if strings.Count(vm.Console(), "ap: probe 2.05") <= probes {
		t.Error("the address went away with the DHCP server, before the lease ended")
	}
	waitFor(t, vm, `msg="DHCP lease ended: address removed" link=wlan0`, 90*time.Second)
	t.Logf("lease ended %s after the server stopped", time.Since(stopped).Round(time.Second))
	if strings.Contains(vm.Console()[:strings.Index(vm.Console(), "ap: udhcpd stopped")], "DHCP lease ended") {
		t.Error("the lease ended before the server stopped")
	}
}
