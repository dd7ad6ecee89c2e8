package wpa

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Captured from wpa_supplicant 2.10 (-D none on lo in a network namespace) over its control
// socket: a network whose SSID holds every kind of byte printf_encode escapes, "café ☕
// \"\\\t\x00\x1b\n\xff".
const (
	realStatus       = "wpa_state=DISCONNECTED\nip_address=127.0.0.1\naddress=00:00:00:00:00:00\nuuid=427974ee-cf6c-5278-8c94-995e2261d1dc\n"
	realListNetworks = "network id / ssid / bssid / flags\n0\tcaf\\xc3\\xa9 \\xe2\\x98\\x95 \\\"\\\\\\t\\x00\\e\\n\\xff\tany\t[CURRENT]\n1\tplain net\t02:00:00:00:01:00\t[DISABLED]\n"
	realScanResults  = "bssid / frequency / signal level / flags / ssid\n"
	realSSID         = "café ☕ \"\\\t\x00\x1b\n\xff"
)

var realEvents = []string{
	"<3>CTRL-EVENT-NETWORK-ADDED 0",
	"<3>CTRL-EVENT-SCAN-FAILED ret=-1 retry=1",
	"<3>CTRL-EVENT-SCAN-FAILED ret=-1",
	"<3>CTRL-EVENT-NETWORK-REMOVED 1",
	"<3>CTRL-EVENT-DSCP-POLICY clear_all",
	"<3>CTRL-EVENT-TERMINATING ",
	// From the WiFi lab's wpa_supplicant 2.10 (hwsim in QEMU), as the unit tests have them.
	"<3>CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]",
	"<3>CTRL-EVENT-DISCONNECTED bssid=02:00:00:00:01:00 reason=3 locally_generated=1\n",
	`<3>CTRL-EVENT-SSID-TEMP-DISABLED id=1 ssid="my \"net\" a=b" auth_failures=2 duration=20 reason=WRONG_KEY`,
	"IFNAME=wlan0 <4>CTRL-EVENT-SCAN-FAILED ret=-1 retry=1",
	"<3>WPA: 4-Way Handshake failed - pre-shared key may be incorrect",
}

// printfEncode is wpa_supplicant's printf_encode (src/utils/common.c), which writes SSIDs
// into replies and events: the inverse unescape must have.
func printfEncode(b string) string {
	var s strings.Builder
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			s.WriteString(`\"`)
		case '\\':
			s.WriteString(`\\`)
		case 0x1b:
			s.WriteString(`\e`)
		case '\n':
			s.WriteString(`\n`)
		case '\r':
			s.WriteString(`\r`)
		case '\t':
			s.WriteString(`\t`)
		default:
			if c >= 32 && c <= 126 {
				s.WriteByte(c)
			} else {
				fmt.Fprintf(&s, `\x%02x`, c)
			}
		}
	}
	return s.String()
}

func TestPrintfEncodeIsWpaSupplicants(t *testing.T) {
	if got := printfEncode(realSSID); !strings.Contains(realListNetworks, "0\t"+got+"\tany") {
		t.Errorf("printfEncode(%q) = %q, not what wpa_supplicant wrote", realSSID, got)
	}
}

// FuzzUnescape decodes what wpa_supplicant escapes (SSIDs in every reply and event): any
// bytes, encoded as printf_encode does, come back as they were; other text never grows.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{realSSID, "plain", `my\x20net`, `\101\0`, `\x`, `\q`, `end\`, `\xF`, "\xff\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := unescape(printfEncode(s)); got != s {
			t.Fatalf("unescape(printfEncode(%q)) = %q", s, got)
		}
		if got := unescape(s); len(got) > len(s) {
			t.Fatalf("unescape(%q) = %q, longer", s, got)
		}
	})
}

// FuzzParseEvent reads what arrives on the event socket. ParseEvent takes anything; the event
// it returns prints as the message it read, and parses from that to itself.
func FuzzParseEvent(f *testing.F) {
	for _, e := range realEvents {
		f.Add(e)
	}
	f.Add("<-1>PIGW-WPA-DETACHED made up")
	f.Add("<99999999999999999999>x")
	f.Fuzz(func(t *testing.T, msg string) {
		ev := ParseEvent(msg)
		if ev.Fields == nil {
			t.Fatal("Fields is nil")
		}
		if ev.Level < 0 {
			t.Fatalf("%q parses to level %d, which only events this package makes up have", msg, ev.Level)
		}
		if again := ParseEvent(ev.String()); !reflect.DeepEqual(again, ev) {
			t.Fatalf("%q parses to %#v, which prints as %q, which parses to %#v", msg, ev, ev.String(), again)
		}
		for k := range ev.Fields {
			if !isFieldKey(k) {
				t.Fatalf("%q: field name %q", msg, k)
			}
		}
		if ev.WrongKey() && ev.Name != EventSSIDTempDisabled {
			t.Fatalf("%q: WrongKey for %s", msg, ev.Name)
		}
	})
}

// FuzzParseStatus reads replies to STATUS: each typed field is what its line says, and a reply
// built from the fields parses to the same status.
func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{
		realStatus, "wpa_state=SCANNING\nssid=Caf\\xc3\\xa9\nid=3", "PONG", "FAIL\n", "",
		"bssid=02:00:00:00:01:00\nfreq=2412\nssid=my\\x20\\\"net\\\"\nid=0\nmode=station\npairwise_cipher=CCMP\ngroup_cipher=CCMP\nkey_mgmt=WPA2-PSK\nwpa_state=COMPLETED\nip_address=192.168.4.7\naddress=02:00:00:00:00:00\nuuid=a\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		st, err := parseStatus(reply)
		if err != nil {
			if !strings.Contains(err.Error(), "wpa_state") {
				t.Fatalf("error %q does not say what is missing", err)
			}
			return
		}
		if st.State == "" || st.State != st.Raw["wpa_state"] {
			t.Fatalf("state %q, raw %q", st.State, st.Raw["wpa_state"])
		}
		if st.SSID != unescape(st.Raw["ssid"]) {
			t.Fatalf("SSID %q from %q", st.SSID, st.Raw["ssid"])
		}
		var b strings.Builder
		for k, v := range st.Raw {
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
		again, err := parseStatus(b.String())
		if err != nil || !reflect.DeepEqual(again, st) {
			t.Fatalf("%q parses to %+v; its lines %q parse to %+v, %v", reply, st, b.String(), again, err)
		}
	})
}

// FuzzParseScanResults reads replies to SCAN_RESULTS: one BSS per line but the header, an
// error naming the line otherwise, and the list written as wpa_supplicant writes it parses
// to the same list.
func FuzzParseScanResults(f *testing.F) {
	for _, s := range []string{
		realScanResults,
		"bssid / frequency / signal level / flags / ssid\n02:00:00:00:01:00\t2412\t-30\t[WPA2-PSK-CCMP][ESS]\tmy\\x20net\n02:00:00:00:02:00\t5180\t-71\t[ESS]\t\n",
		"bssid / x\n02:00:00:00:01:00\t2412\n", "02:00:00:00:01:00\tx\t-1\t\ty\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		list, err := parseScanResults(reply)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		var b strings.Builder
		b.WriteString("bssid / frequency / signal level / flags / ssid\n")
		for _, bss := range list {
			fmt.Fprintf(&b, "%s\t%d\t%d\t%s\t%s\n", bss.BSSID, bss.Freq, bss.Signal, bss.Flags, printfEncode(bss.SSID))
		}
		again, err := parseScanResults(b.String())
		if err != nil || !reflect.DeepEqual(again, list) {
			t.Fatalf("%q parses to %+v; written again as %q it parses to %+v, %v", reply, list, b.String(), again, err)
		}
	})
}

// FuzzParseListNetworks is FuzzParseScanResults for LIST_NETWORKS.
func FuzzParseListNetworks(f *testing.F) {
	for _, s := range []string{
		realListNetworks,
		"network id / ssid / bssid / flags\n0\ta \\\"b \\t\\xc3\\xa4\\xff\tany\t[DISABLED]\n1\thome\tany\t[CURRENT]\n2\tx\t02:00:00:00:01:00\t\n",
		"x\ty\tz\n", "network id / ssid / bssid / flags\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		list, err := parseListNetworks(reply)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		var b strings.Builder
		b.WriteString("network id / ssid / bssid / flags\n")
		for _, n := range list {
			fmt.Fprintf(&b, "%d\t%s\t%s\t%s\n", n.ID, printfEncode(n.SSID), n.BSSID, n.Flags)
		}
		again, err := parseListNetworks(b.String())
		if err != nil || !reflect.DeepEqual(again, list) {
			t.Fatalf("%q parses to %+v; written again as %q it parses to %+v, %v", reply, list, b.String(), again, err)
		}
	})
}
