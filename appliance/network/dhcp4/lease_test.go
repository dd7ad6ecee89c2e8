package dhcp4

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

func TestParseLease(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ip := func(s string) net.IP { return net.ParseIP(s).To4() }
	base := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
		dhcpv4.WithYourIP(ip("192.168.1.23")),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(ip("192.168.1.1"))),
		dhcpv4.WithLeaseTime(3600),
	}
	for _, tc := range []struct {
		name   string
		mods   []dhcpv4.Modifier
		server string // fallback
		want   Lease
		err    bool
	}{
		{
			name: "everything",
			mods: []dhcpv4.Modifier{
				dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
				dhcpv4.WithRouter(ip("192.168.1.1"), ip("192.168.1.2")),
				dhcpv4.WithDNS(ip("1.1.1.1"), ip("9.9.9.9")),
				dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(1000 * time.Second)),
				dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(2000 * time.Second)),
				dhcpv4.WithOption(dhcpv4.OptHostName("pigw")),
				dhcpv4.WithOption(dhcpv4.OptDomainName("lan")),
			},
			want: Lease{
				Address: netip.MustParsePrefix("192.168.1.23/24"), Router: netip.MustParseAddr("192.168.1.1"),
				DNS:    []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("9.9.9.9")},
				Server: netip.MustParseAddr("192.168.1.1"), Duration: time.Hour,
				T1: 1000 * time.Second, T2: 2000 * time.Second, Acquired: now, Hostname: "pigw", Domain: "lan",
			},
		},
		{
			name: "defaults: classful mask, T1 and T2",
			want: Lease{
				Address: netip.MustParsePrefix("192.168.1.23/24"), Server: netip.MustParseAddr("192.168.1.1"),
				Duration: time.Hour, T1: 30 * time.Minute, T2: 52*time.Minute + 30*time.Second, Acquired: now,
			},
		},
		{
			name: "T1 after T2: defaults",
			mods: []dhcpv4.Modifier{
				dhcpv4.WithNetmask(net.CIDRMask(16, 32)),
				dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(3000 * time.Second)),
				dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(2000 * time.Second)),
			},
			want: Lease{
				Address: netip.MustParsePrefix("192.168.1.23/16"), Server: netip.MustParseAddr("192.168.1.1"),
				Duration: time.Hour, T1: 30 * time.Minute, T2: 52*time.Minute + 30*time.Second, Acquired: now,
			},
		},
		{
			name:   "no server identifier: the fallback",
			mods:   []dhcpv4.Modifier{dhcpv4.WithoutOption(dhcpv4.OptionServerIdentifier)},
			server: "192.168.1.254",
			want: Lease{
				Address: netip.MustParsePrefix("192.168.1.23/24"), Server: netip.MustParseAddr("192.168.1.254"),
				Duration: time.Hour, T1: 30 * time.Minute, T2: 52*time.Minute + 30*time.Second, Acquired: now,
			},
		},
		{name: "no server identifier, no fallback", mods: []dhcpv4.Modifier{dhcpv4.WithoutOption(dhcpv4.OptionServerIdentifier)}, err: true},
		{name: "no lease time", mods: []dhcpv4.Modifier{dhcpv4.WithoutOption(dhcpv4.OptionIPAddressLeaseTime)}, err: true},
		{name: "no address", mods: []dhcpv4.Modifier{dhcpv4.WithYourIP(net.IPv4zero)}, err: true},
		{name: "mask not a prefix", mods: []dhcpv4.Modifier{dhcpv4.WithNetmask(net.IPv4Mask(255, 0, 255, 0))}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ack, err := dhcpv4.New(append(append([]dhcpv4.Modifier{}, base...), tc.mods...)...)
			if err != nil {
				t.Fatal(err)
			}
			// Through the wire format, as a server's ACK arrives.
			ack, err = dhcpv4.FromBytes(ack.ToBytes())
			if err != nil {
				t.Fatal(err)
			}
			var server netip.Addr
			if tc.server != "" {
				server = netip.MustParseAddr(tc.server)
			}
			got, err := parseLease(ack, now, server)
			if tc.err {
				if err == nil {
					t.Errorf("no error; lease %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkLease(t, "parseLease", got, tc.want)
		})
	}
}

func TestTimes(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"backoff 1", backoff(1, 0), 4 * time.Second},
		{"backoff 2", backoff(2, 0), 8 * time.Second},
		{"backoff 3, jitter", backoff(3, -time.Second), 15 * time.Second},
		{"backoff 5", backoff(5, 0), 64 * time.Second},
		{"backoff 20", backoff(20, time.Second), 65 * time.Second},
		{"retry: half the time left", retryWait(30 * time.Minute), 15 * time.Minute},
		{"retry: at least a minute", retryWait(90 * time.Second), time.Minute},
		{"retry: not past the deadline", retryWait(45 * time.Second), 45 * time.Second},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	for range 1000 {
		if j := jitter(); j < -time.Second || j > time.Second {
			t.Fatalf("jitter %v", j)
		}
	}
}

// What a DHCPACK may say that no interface should be given: found while writing
// FuzzParseLease and FuzzClient (the client applied such leases as they came).
func TestParseLeaseRefuses(t *testing.T) {
	ack := func(mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.FromBytes(capture(t, "ack"))
		if err != nil {
			t.Fatal(err)
		}
		for _, mod := range mods {
			mod(m)
		}
		return m
	}
	for _, tc := range []struct {
		name string
		m    *dhcpv4.DHCPv4
		err  string
	}{
		{"mask 0.0.0.0", ack(dhcpv4.WithNetmask(net.IPv4Mask(0, 0, 0, 0))), "a subnet mask of 0.0.0.0"},
		{"broadcast address", ack(dhcpv4.WithYourIP(net.IPv4bcast)), "255.255.255.255/24: not a unicast address"},
		{"loopback address", ack(dhcpv4.WithYourIP(net.IPv4(127, 0, 0, 5))), "not a unicast address"},
		{"multicast server", ack(dhcpv4.WithServerIP(nil), dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(224, 0, 0, 1)))), "lease server 224.0.0.1"},
	} {
		if _, err := parseLease(tc.m, t0, netip.Addr{}); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.err)
		}
	}
	l, err := parseLease(ack(dhcpv4.WithRouter(net.IPv4zero, net.IPv4(10, 99, 0, 1)), dhcpv4.WithDNS(net.IPv4zero, net.IPv4(10, 99, 0, 2))), t0, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Router != netip.MustParseAddr("10.99.0.1") || len(l.DNS) != 1 || l.DNS[0] != netip.MustParseAddr("10.99.0.2") {
		t.Errorf("0.0.0.0 as router and DNS server: lease %+v, want them left out", l)
	}
}

// A previous lease that does not validate (a damaged lease file) is not asked for, let alone
// used when no server answers.
func TestPreviousValidated(t *testing.T) {
	bad := leaseAt("10.55.0.77/24", t0.Add(-10*time.Second))
	bad.T1 = bad.Duration
	c, err := New(Config{Interface: "x", Previous: &bad, Clock: newFakeClock(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if l, _, ok := c.previous(t0); ok {
		t.Errorf("previous lease %+v used", l)
	}
}
