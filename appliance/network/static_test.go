package network

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/netnstest"
	"github.com/pigw/pigw/internal/syncbuf"

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
	s := newStatic(cfg, slog.New(slog.DiscardHandler), h, &fd)
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
	s := newStatic(Config{Interfaces: []Interface{
		{Name: "wlan7", Up: true}, // not there: waited for
		{Name: "eth8", Up: true, Addresses: []netip.Prefix{netip.MustParsePrefix("10.124.0.5/24")},
			Routes: []Route{{To: netip.MustParsePrefix("10.9.0.0/16"), Via: netip.MustParseAddr("10.99.99.1")}}},
	}}, slog.New(slog.DiscardHandler), h, &fd)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "route to 10.9.0.0/16 via 10.99.99.1") {
		t.Errorf("Run: %v", err)
	}
}

// TestStaticPatterns: an interface named by a pattern configures each Ethernet-class link it
// matches, those there at the start and those that appear later; a link's own entry wins; a
// tunnel named like a wired link, and a link no entry matches, are left alone.
func TestStaticPatterns(t *testing.T) {
	name, ns, h := netnstest.New(t, "pigwpat-")
	veth := func(link, peer string) {
		t.Helper()
		if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: link}, PeerName: peer}); err != nil {
			t.Fatalf("add %s: %v", link, err)
		}
	}
	veth("eth5", "p5") // there before the subsystem starts
	var logs syncbuf.Buffer
	fd := int(ns)
	s := newStatic(Config{Interfaces: []Interface{
		{Name: "eth7", Up: true, MTU: 1300},
		{Name: "eth*", Up: true, MTU: 1400},
		{Name: "e*", Up: true, MTU: 1280}, // never: eth* comes first
	}}, slog.New(slog.NewTextHandler(&logs, nil)), h, &fd)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitLog := func(what string) {
		t.Helper()
		for range 250 {
			if strings.Contains(logs.String(), what) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no %q in the log:\n%s", what, logs.String())
	}
	waitLog("following link events")

	start := time.Now()
	veth("eth6", "p6") // hot-plugged
	veth("eth7", "p7") // its own entry
	veth("wlx0", "p8") // no entry matches
	if out, err := exec.Command("ip", "-n", name, "tuntap", "add", "eth8", "mode", "tun").CombinedOutput(); err != nil {
		t.Fatalf("add the tunnel eth8: %v %s", err, out)
	}
	want := map[string]string{"eth5": "up 1400", "eth6": "up 1400", "eth7": "up 1300"}
	got := func() map[string]string {
		m := map[string]string{}
		for _, n := range []string{"eth5", "eth6", "eth7", "wlx0", "eth8"} {
			l, err := h.LinkByName(n)
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			state := "down"
			if l.Attrs().Flags&net.FlagUp != 0 {
				state = "up"
			}
			m[n] = fmt.Sprintf("%s %d", state, l.Attrs().MTU)
		}
		return m
	}
	var m map[string]string
	for range 250 {
		if m = got(); m["eth5"] == want["eth5"] && m["eth6"] == want["eth6"] && m["eth7"] == want["eth7"] {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("configured %s after the links appeared", time.Since(start).Round(time.Millisecond))
	time.Sleep(200 * time.Millisecond) // time to do wrong to the others, if it would
	want["wlx0"], want["eth8"] = "down 1500", "down 1500"
	if m = got(); !reflect.DeepEqual(m, want) {
		t.Errorf("links %v, want %v\n%s", m, want, logs.String())
	}
	for _, l := range []string{`link=eth5 pattern=eth* up=true dhcp=false metric=100`, `link=eth6 pattern=eth* up=true dhcp=false metric=100`} {
		if !strings.Contains(logs.String(), l) {
			t.Errorf("no %q in the log:\n%s", l, logs.String())
		}
	}
	for _, l := range []string{"link=eth7 pattern", "wlx0", "eth8"} {
		if strings.Contains(logs.String(), l) {
			t.Errorf("%q in the log:\n%s", l, logs.String())
		}
	}
}

// TestStaticFailsWithDHCP: a configuration the kernel refuses fails Run also when a DHCP
// client runs (Run used to wait for the clients, and so for ctx, before it returned); the
// client lives on for the next Run, and ends with ctx.
func TestStaticFailsWithDHCP(t *testing.T) {
	h, ns := testNamespace(t)
	fd := int(ns)
	s := newStatic(Config{Interfaces: []Interface{
		{Name: "dh9", Up: true, DHCP: true}, // never there: its client waits for it, and opens nothing
		{Name: "eth8", Up: true, Addresses: []netip.Prefix{netip.MustParsePrefix("10.124.0.5/24")},
			Routes: []Route{{To: netip.MustParsePrefix("10.9.0.0/16"), Via: netip.MustParseAddr("10.99.99.1")}}},
	}}, slog.New(slog.DiscardHandler), h, &fd)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	for s.state("dh9") != "no-link" {
		time.Sleep(10 * time.Millisecond)
	}
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth8"}, PeerName: "eth8peer"}); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	if ctx.Err() != nil {
		t.Fatalf("Run returned %v only when its ctx ended", err)
	}
	if err == nil || !strings.Contains(err.Error(), "route to 10.9.0.0/16") {
		t.Errorf("Run: %v", err)
	}
	s.mu.Lock()
	running := s.dhcp["dh9"]
	s.mu.Unlock()
	if !running {
		t.Error("the DHCP client of dh9 ended with Run")
	}
	cancel()
	s.dhcpRun.Wait()
}

// state is the DHCP state of link.
func (s *Static) state(link string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dhcpState[link]
}
