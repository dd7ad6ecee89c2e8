package vmtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
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
	if st["backend"] != backend || st["state"] != "connected" || st["ssid"] != ssid || st["bssid"] != WiFiLabAPBSSID || st["frequency_mhz"] != 2437.0 {
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

// TestPigwWiFiWrongKey: the refused key shows in /sys/wifi as auth-failed, by the WRONG_KEY path
// (not the CONN_FAILED one, whose message also says "wrong key"), and pigw leaves the retries to
// wpa_supplicant, which waits longer after each refusal: watched for 40 s, the state stays
// auth-failed, the subsystem never restarts, wpa_supplicant is never started again (that would
// forget its waits), and the AP sees a few association attempts, not a loop.
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
	const wrongKey = `authentication with "pigw-lab" failed: wrong key? (CTRL-EVENT-SSID-TEMP-DISABLED)`
	if st["state"] != "auth-failed" || st["last_error"] != wrongKey {
		t.Fatalf("/sys/wifi %v: want auth-failed with %q", st, wrongKey)
	}
	const assoc = "IEEE 802.11: associated"
	before := strings.Count(vm.Console(), assoc)
	const watch = 40 * time.Second
	samples := 0
	for end := time.Now().Add(watch); time.Now().Before(end); time.Sleep(2 * time.Second) {
		r := until(t, s, coap.NewRequest(coap.GET, "sys/subsystems/wifi"), 10*time.Second)
		var sub map[string]any
		_ = json.Unmarshal(r.Payload, &sub)
		if sub["state"] != "running" || sub["restarts"] != 0.0 {
			t.Fatalf("wifi subsystem %v after %d samples: want running, no restarts", sub, samples)
		}
		if st := wifiState(t, s); st["state"] != "auth-failed" || st["last_error"] != wrongKey {
			t.Fatalf("/sys/wifi %v after %d samples: want auth-failed with %q throughout", st, samples, wrongKey)
		}
		samples++
	}
	attempts := strings.Count(vm.Console(), assoc) - before
	t.Logf("%d samples over %s; associations seen by the AP: %d before the first refusal showed, %d during the watch", samples, watch, before, attempts)
	if n := strings.Count(vm.Console(), `msg="wifi starting"`); n != 1 {
		t.Errorf("the wifi backend started %d times: wpa_supplicant was started again", n)
	}
	// wpa_supplicant waits 10 s after the first refusal and 20 s after the second: two
	// attempts in 40 s. A refusal answered by enabling the network again is one attempt
	// every few seconds.
	if attempts > 3 {
		t.Errorf("%d association attempts in %s after the key was refused: a loop", attempts, watch)
	}
	if pigwLogShows(vm, "not-the-passphrase") {
		t.Error("pigw's log shows the key")
	}
}

// TestPigwWiFiReconnect: hostapd goes away and comes back; pigw joins again and gets its
// address back.
func TestPigwWiFiReconnect(t *testing.T) {
	vm := bootWiFi(t, fmt.Sprintf("wifi:\n  networks:\n    - {ssid: pigw-lab, psk: %s}\n", labPSK),
		Lab{SSID: "pigw-lab", PSK: labPSK, APStop: 15 * time.Second, APRestart: 5 * time.Second})
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

// TestPigwWiFiDHCPServerGone: the DHCP server (udhcpd, 40 s leases) stops 5 s after it
// acknowledged the station's lease, before the renewal at T1 (20 s). pigw renews at T1,
// rebinds at T2 (35 s), keeps the address all along, and removes it when the lease ends, not
// before (pigw's own log gives the lease's expiry and the removal's time, both by the guest's
// clock); after that the address is gone.
func TestPigwWiFiDHCPServerGone(t *testing.T) {
	vm := bootWiFi(t, fmt.Sprintf("wifi:\n  networks:\n    - {ssid: pigw-lab, psk: %s}\n", labPSK),
		Lab{SSID: "pigw-lab", PSK: labPSK, Lease: 40 * time.Second, DHCPServer: "udhcpd", DHCPStop: 5 * time.Second})
	joined(t, vm, "wpa_supplicant", "pigw-lab")
	lease := waitFor(t, vm, `msg="DHCP lease" link=wlan0 address=\S+ router=\S+ expires=\S+`, time.Second)
	waitFor(t, vm, `ap: udhcpd stopped`, 60*time.Second)
	c := vm.Console()
	if acks := strings.Count(c[:strings.Index(c, "ap: udhcpd stopped")], "udhcpd: sending ACK to "); acks != 1 {
		t.Fatalf("the server acknowledged %d leases before it stopped: want the first one only, whose expiry pigw logged", acks)
	}
	expires, err := time.Parse(time.RFC3339, fieldOf(lease, "expires"))
	if err != nil {
		t.Fatalf("%s: %v", lease, err)
	}

	// /sys/network until the removal: the DHCP client's state and whether wlan0 has the address.
	s := session(t, vm, false)
	type sample struct {
		state string
		addr  bool
	}
	var samples []sample
	removed := regexp.MustCompile(`time=(\S+) level=WARN msg="DHCP lease ended: address removed" link=wlan0`)
	for deadline := time.Now().Add(90 * time.Second); removed.FindString(vm.Console()) == "" && time.Now().Before(deadline); time.Sleep(time.Second) {
		r := until(t, s, coap.NewRequest(coap.GET, "sys/network"), 10*time.Second)
		var links []struct {
			Name      string
			Addresses []string
			DHCP      string
		}
		if err := json.Unmarshal(r.Payload, &links); err != nil {
			t.Fatalf("/sys/network %q: %v", r.Payload, err)
		}
		for _, l := range links {
			if l.Name == "wlan0" {
				samples = append(samples, sample{l.DHCP, slices.Contains(l.Addresses, WiFiLabStationAddr+"/24")})
			}
		}
	}
	m := removed.FindStringSubmatch(vm.Console())
	if m == nil {
		t.Fatalf("no removal within 90 s; /sys/network samples %+v", samples)
	}
	at, err := time.Parse(time.RFC3339Nano, m[1])
	if err != nil {
		t.Fatal(err)
	}
	var runs []string // "bound×15 (with the address)", ...
	for i := 0; i < len(samples); {
		j := i
		for j < len(samples) && samples[j] == samples[i] {
			j++
		}
		with := "with"
		if !samples[i].addr {
			with = "without"
		}
		runs = append(runs, fmt.Sprintf("%s×%d %s the address", samples[i].state, j-i, with))
		i = j
	}
	t.Logf("lease expires %s; address removed %s (%+.1fs); /sys/network each second: %s",
		expires.Format(time.TimeOnly), at.Format("15:04:05.000"), at.Sub(expires).Seconds(), strings.Join(runs, ", "))
	// The log's expiry is cut to the second: the lease ends within the second after it.
	if at.Before(expires) || at.After(expires.Add(5*time.Second)) {
		t.Errorf("address removed at %s, the lease ends at %s: want it kept until then and removed then", m[1], expires.Format(time.RFC3339))
	}
	seen := map[string]bool{}
	for i, sm := range samples {
		seen[sm.state] = true
		// The last sample before the removal may fall between the address's removal and the
		// client's leaving rebinding, a few milliseconds.
		last := i == len(samples)-1 || samples[i+1].state != sm.state
		if (sm.state == "bound" || sm.state == "renewing" || (sm.state == "rebinding" && !last)) && !sm.addr {
			t.Errorf("sample %d: DHCP %s without the address: %+v", i, sm.state, samples)
		}
	}
	if !seen["renewing"] || !seen["rebinding"] {
		t.Errorf("/sys/network never showed renewing and rebinding (T1, T2) while the server was gone: %+v", samples)
	}

	// The probe from the AP side was answered until the removal, and is not after it.
	c = vm.Console()
	between := c[strings.Index(c, "ap: udhcpd stopped"):strings.Index(c, m[0])]
	if n := strings.Count(between, "ap: probe no answer"); n > 0 || !strings.Contains(between, "ap: probe 2.05") {
		t.Errorf("between the server's stop and the lease's end %d probes went unanswered, %d answered: want all answered",
			n, strings.Count(between, "ap: probe 2.05"))
	}
	waitFor(t, vm, regexp.QuoteMeta(m[0])+`(?s:.*)ap: probe no answer`, 30*time.Second)
}

// fieldOf returns the value of key=value in a log line, or "".
func fieldOf(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}
