package wpa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func dialFake(t *testing.T, f *fakeSupplicant, d Dialer) *Conn {
	t.Helper()
	c, err := d.Dial(context.Background(), f.dir, "wlan0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConfigure(t *testing.T) {
	const hexKey = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name string
		nets []Network
		want []string // between REMOVE_NETWORK all and RECONNECT
	}{
		{
			name: "open",
			nets: []Network{{SSID: "mynet"}},
			want: []string{
				"ADD_NETWORK",
				"SET_NETWORK 0 ssid 6d796e6574",
				"SET_NETWORK 0 key_mgmt NONE",
				"ENABLE_NETWORK 0",
			},
		},
		{
			name: "explicit open",
			nets: []Network{{SSID: "mynet", Security: "open"}},
			want: []string{
				"ADD_NETWORK",
				"SET_NETWORK 0 ssid 6d796e6574",
				"SET_NETWORK 0 key_mgmt NONE",
				"ENABLE_NETWORK 0",
			},
		},
		{
			name: "wpa2 by default",
			nets: []Network{{SSID: "mynet", PSK: "secret12"}},
			want: []string{
				"ADD_NETWORK",
				"SET_NETWORK 0 ssid 6d796e6574",
				"SET_NETWORK 0 key_mgmt WPA-PSK",
				`SET_NETWORK 0 psk "secret12"`,
				"ENABLE_NETWORK 0",
			},
		},
		{
			name: "wpa2 passphrase with quotes and spaces",
			nets: []Network{{SSID: "mynet", PSK: `a "b" c\d e`, Security: "wpa2"}},
			want: []string{
				"ADD_NETWORK",
				"SET_NETWORK 0 ssid 6d796e6574",
				"SET_NETWORK 0 key_mgmt WPA-PSK",
				`SET_NETWORK 0 psk "a "b" c\d e"`,
				"ENABLE_NETWORK 0",
			},
		},
		{
			name: "wpa2 hex key unquoted",
			nets: []Network{{SSID: "mynet", PSK: hexKey}},
			want: []string{
				"ADD_NETWORK",
				"SET_NETWORK 0 ssid 6d796e6574",
				"SET_NETWORK 0 key_mgmt WPA-PSK",
				"SET_NETWORK 0 psk " + hexKey,
				"ENABLE_NETWORK 0",
			},
		},
		{
			name: "wpa3",
			nets: []Network{{SSID: "mynet", PSK: "secret12", Security: "wpa3"}},
			want: []string{
				"ADD_NETWORK",
				"SET_NETWORK 0 ssid 6d796e6574",
				"SET_NETWORK 0 key_mgmt SAE",
				`SET_NETWORK 0 sae_password "secret12"`,
				"SET_NETWORK 0 ieee80211w 2",
				"ENABLE_NETWORK 0",
			},
		},
		{
			name: "wpa2/wpa3",
			nets: []Network{{SSID: "mynet", PSK: "secret12", Security: "wpa2/wpa3"}},
			want: []string{
				"ADD_NETWORK",
				"SET_NETWORK 0 ssid 6d796e6574",
				"SET_NETWORK 0 key_mgmt WPA-PSK SAE",
				`SET_NETWORK 0 psk "secret12"`,
				`SET_NETWORK 0 sae_password "secret12"`,
				"SET_NETWORK 0 ieee80211w 1",
				"ENABLE_NETWORK 0",
			},
		},
		{
			name: "hidden with priorities, two networks",
			nets: []Network{
				{SSID: "attic", PSK: "secret12", Hidden: true, Priority: 5},
				{SSID: "cafe", Priority: 1},
			},
			want: []string{
				"ADD_NETWORK",
				"SET_NETWORK 0 ssid 6174746963",
				"SET_NETWORK 0 key_mgmt WPA-PSK",
				`SET_NETWORK 0 psk "secret12"`,
				"SET_NETWORK 0 scan_ssid 1",
				"SET_NETWORK 0 priority 5",
				"ENABLE_NETWORK 0",
				"ADD_NETWORK",
				"SET_NETWORK 1 ssid 63616665",
				"SET_NETWORK 1 key_mgmt NONE",
				"SET_NETWORK 1 priority 1",
				"ENABLE_NETWORK 1",
			},
		},
		{
			name: "odd SSIDs",
			nets: []Network{
				{SSID: "my net"},
				{SSID: `say "hi"`},
				{SSID: "Café ☕"},
				{SSID: "\x00\xff\t\n\\"},
				{SSID: strings.Repeat("x", 32)},
			},
			want: []string{
				"ADD_NETWORK", "SET_NETWORK 0 ssid 6d79206e6574", "SET_NETWORK 0 key_mgmt NONE", "ENABLE_NETWORK 0",
				"ADD_NETWORK", "SET_NETWORK 1 ssid 7361792022686922", "SET_NETWORK 1 key_mgmt NONE", "ENABLE_NETWORK 1",
				"ADD_NETWORK", "SET_NETWORK 2 ssid 436166c3a920e29895", "SET_NETWORK 2 key_mgmt NONE", "ENABLE_NETWORK 2",
				"ADD_NETWORK", "SET_NETWORK 3 ssid 00ff090a5c", "SET_NETWORK 3 key_mgmt NONE", "ENABLE_NETWORK 3",
				"ADD_NETWORK", "SET_NETWORK 4 ssid " + strings.Repeat("78", 32), "SET_NETWORK 4 key_mgmt NONE", "ENABLE_NETWORK 4",
			},
		},
		{
			name: "no networks",
			nets: nil,
			want: nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			c := dialFake(t, f, Dialer{})
			f.resetReceived()
			if err := c.Configure(context.Background(), tc.nets); err != nil {
				t.Fatal(err)
			}
			want := append(append([]string{"REMOVE_NETWORK all"}, tc.want...), "RECONNECT")
			if got := f.commands(false); !slices.Equal(got, want) {
				t.Errorf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestNetworkValidate(t *testing.T) {
	const key = "k3yS3cr3t!"
	for _, tc := range []struct {
		name string
		n    Network
		want string // in the error
	}{
		{"empty SSID", Network{PSK: key}, "SSID must be 1 to 32 bytes"},
		{"long SSID", Network{SSID: strings.Repeat("x", 33), PSK: key}, "SSID must be 1 to 32 bytes, not 33"},
		{"open with key", Network{SSID: "n", PSK: key, Security: "open"}, "an open network takes no key"},
		{"short key", Network{SSID: "n", PSK: "k3y"}, "8 to 63 printable ASCII characters or 64 hex digits"},
		{"long key", Network{SSID: "n", PSK: strings.Repeat(key, 7)}, "8 to 63"},
		{"non-ASCII key", Network{SSID: "n", PSK: key + "é"}, "8 to 63 printable ASCII"},
		{"control char key", Network{SSID: "n", PSK: key + "\n"}, "8 to 63 printable ASCII"},
		{"64 non-hex", Network{SSID: "n", PSK: strings.Repeat("g", 64)}, "64 hex digits"},
		{"wpa2 without key", Network{SSID: "n", Security: "wpa2"}, "WPA2 key"},
		{"wpa3 without key", Network{SSID: "n", Security: "wpa3"}, "wpa3 key"},
		{"wpa3 with hex key", Network{SSID: "n", Security: "wpa3", PSK: strings.Repeat("ab", 32)}, "wpa3 key must be 8 to 63"},
		{"mixed with hex key", Network{SSID: "n", Security: "wpa2/wpa3", PSK: strings.Repeat("ab", 32)}, "wpa2/wpa3 key"},
		{"unknown security", Network{SSID: "n", PSK: key, Security: "wep"}, `security "wep" is not one of`},
		{"negative priority", Network{SSID: "n", Priority: -1}, "priority -1 is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.n.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "k3y") {
				t.Errorf("error %q shows the key", err)
			}
			// Configure refuses before sending anything.
			f := startFake(t)
			c := dialFake(t, f, Dialer{})
			f.resetReceived()
			if err := c.Configure(context.Background(), []Network{{SSID: "ok"}, tc.n}); err == nil {
				t.Error("Configure accepted it")
			}
			if got := f.commands(false); len(got) != 0 {
				t.Errorf("Configure sent %q", got)
			}
		})
	}
}

func TestNetworkNeverShowsKey(t *testing.T) {
	const key = "hunter2hunter2"
	n := Network{SSID: "home", PSK: key, Hidden: true, Priority: 2}
	if got, want := n.String(), `"home" (wpa2, hidden, priority 2, key set)`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%#v", n), `wpa.Network{SSID: "home", PSK: "***", Security: "", Hidden: true, Priority: 2}`; got != want {
		t.Errorf("%%#v = %s, want %s", got, want)
	}
	type config struct {
		Networks []Network
		Main     Network
		Ptr      *Network
	}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%T %[1]v"} {
		outs = append(outs,
			fmt.Sprintf(verb, n), fmt.Sprintf(verb, &n), fmt.Sprintf(verb, []Network{n}),
			fmt.Sprintf(verb, config{Networks: []Network{n}, Main: n, Ptr: &n}))
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "net", n, "ptr", &n)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "net", n, "ptr", &n)
	outs = append(outs, buf.String())
	for _, out := range outs {
		if strings.Contains(out, key) || strings.Contains(out, fmt.Sprintf("%x", key)) {
			t.Errorf("output shows the key: %s", out)
		}
	}
}

func TestConfigureErrorsMaskKey(t *testing.T) {
	f := startFake(t)
	c := dialFake(t, f, Dialer{})
	f.set(func(f *fakeSupplicant) { f.replies[`SET_NETWORK 0 psk "secret12"`] = "FAIL\n" })
	err := c.Configure(context.Background(), []Network{{SSID: "mynet", PSK: "secret12"}})
	if err == nil {
		t.Fatal("no error")
	}
	want := `network "mynet" (wpa2, key set): wpa_supplicant ` + f.path + `: SET_NETWORK 0 psk ***: FAIL`
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Command != "SET_NETWORK 0 psk ***" || ce.Reply != "FAIL" {
		t.Errorf("CommandError = %+v", ce)
	}
	if !errors.Is(err, ErrFailed) || errors.Is(err, ErrUnknownCommand) {
		t.Errorf("errors.Is wrong for %v", err)
	}
}
