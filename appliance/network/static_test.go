package network

import (
	"context"
	"github.com/pigw/pigw/internal/netnstest"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// testNamespace makes a network namespace for the test and returns a netlink handle in it.
func testNamespace(t *testing.T) (*netlink.Handle, netns.NsHandle) {
	_, ns, h := netnstest.New(t, "pigwnet-")
	return h, ns
}

func TestStatic(t *testing.T) {
	h, ns := testNamespace(t)
	add := func() {
		// A veth pair: the host kernel here has no dummy module.
		if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth9"}, PeerName: "eth9peer"}); err != nil {
			t.Fatal(err)
		}
		if peer, err := h.LinkByName("eth9peer"); err == nil {
			_ = h.LinkSetUp(peer)
		}
	}
	add()
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	cfg := Config{
		Interfaces: []Interface{{
			Name: "eth9", Up: true, MTU: 1400, Metric: 100,
			Addresses: []netip.Prefix{netip.MustParsePrefix("10.123.0.5/24"), netip.MustParsePrefix("fd00:123::5/64")},
			Gateway:   netip.MustParseAddr("10.123.0.1"),
			Gateway6:  netip.MustParseAddr("fd00:123::1"),
			Routes:    []Route{{To: netip.MustParsePrefix("10.200.0.0/16"), Via: netip.MustParseAddr("10.123.0.254"), Metric: 50}},
		}},
		DNS:        []netip.Addr{netip.MustParseAddr("10.123.0.1"), netip.MustParseAddr("fd00:123::1")},
		ResolvConf: resolv,
	}
	fd := int(ns)
	s := &Static{cfg: cfg, log: slog.New(slog.DiscardHandler), h: h, ns: &fd, leaseDNS: map[string][]netip.Addr{}, dhcpState: map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()

	configured := func() string {
		link, err := h.LinkByName("eth9")
		if err != nil {
			return "no link"
		}
		if link.Attrs().MTU != 1400 {
			return "MTU"
		}
		addrs, _ := h.AddrList(link, netlink.FAMILY_ALL)
		var got []string
		for _, a := range addrs {
			got = append(got, a.IPNet.String())
		}
		for _, want := range []string{"10.123.0.5/24", "fd00:123::5/64"} {
			if !strings.Contains(strings.Join(got, " "), want) {
				return "address " + want + " missing from " + strings.Join(got, " ")
			}
		}
		routes, _ := h.RouteList(link, netlink.FAMILY_ALL)
		var rs []string
		for _, r := range routes {
			rs = append(rs, r.String())
		}
		for _, want := range []string{"Gw: 10.123.0.1", "Dst: 10.200.0.0/16", "Gw: fd00:123::1"} {
			if !strings.Contains(strings.Join(rs, " | "), want) {
				return "route " + want + " missing from " + strings.Join(rs, " | ")
			}
		}
		return ""
	}
	waitUntil := func(what string) {
		t.Helper()
		var last string
		for range 200 {
			if last = configured(); last == "" {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: %s", what, last)
	}
	waitUntil("first configuration")
	if b, _ := os.ReadFile(resolv); !strings.Contains(string(b), "nameserver 10.123.0.1\nnameserver fd00:123::1\n") {
		t.Errorf("resolv.conf: %q", b)
	}
	// The link goes away and comes back (a USB adapter replugged): configured again.
	link, _ := h.LinkByName("eth9")
	if err := h.LinkDel(link); err != nil {
		t.Fatal(err)
	}
	add()
	waitUntil("after the link came back")
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// A route the kernel refuses fails the subsystem, with the route in the error; a missing link
// is waited for instead.
func TestStaticRefused(t *testing.T) {
	h, ns := testNamespace(t)
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth8"}, PeerName: "eth8peer"}); err != nil {
		t.Fatal(err)
	}
	fd := int(ns)
	s := &Static{log: slog.New(slog.DiscardHandler), h: h, ns: &fd, leaseDNS: map[string][]netip.Addr{}, dhcpState: map[string]string{}, cfg: Config{Interfaces: []Interface{
		{Name: "wlan7", Up: true}, // not there: waited for
		{Name: "eth8", Up: true, Addresses: []netip.Prefix{netip.MustParsePrefix("10.124.0.5/24")},
			Routes: []Route{{To: netip.MustParsePrefix("10.9.0.0/16"), Via: netip.MustParseAddr("10.99.99.1")}}},
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "route to 10.9.0.0/16 via 10.99.99.1") {
		t.Errorf("Run: %v", err)
	}
}
