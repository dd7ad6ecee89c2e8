package appliance

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/network"
	"github.com/pigw/pigw/appliance/network/dhcp4"
	"github.com/pigw/pigw/internal/netnstest"
	"github.com/pigw/pigw/internal/syncbuf"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// The LAN of TestWiredLinksByDHCP: a bridge in a namespace of its own, with dnsmasq on it.
const (
	lanRouter = "10.77.0.1"
	lanPrefix = "10.77.0.0/24"
)

// TestWiredLinksByDHCP runs the network subsystem on the image's network section (eth*, en*,
// usb* and wlan0 by DHCP) in a network namespace the test makes, as PID 1 would run it. eth0
// is there from the start; usb0 (the Ethernet of an emulated Pi 3 B) and eth1 appear once the
// subsystem runs. Each is a veth whose peer sits on a bridge in a second namespace where
// dnsmasq hands out leases. All three get a lease and an IPv4 default route of their own
// metric (100, 101, 102); wlx0 (an Ethernet-class link no entry matches) and eth9 (a tun
// device named like a wired link, not of the Ethernet class) are left down, as is lo.
//
// The subsystem runs in a child process inside the namespace (the DHCP client's raw sockets
// and the netlink calls belong to the namespace of the thread that makes them, so every
// thread must be there); stdin closing stops it.
func TestWiredLinksByDHCP(t *testing.T) {
	if os.Getenv("PIGW_IN_NETNS") == "1" {
		runNetworkChild(t)
		return
	}
	dnsmasq := needDnsmasq(t)
	pigwName, pigwNS, hp := netnstest.New(t, "pigwdhcp-")
	lanName, lanNS, hl := netnstest.New(t, "pigwlan-")
	leases, dnsmasqLog := startLAN(t, hl, lanName, dnsmasq)

	plug := func(name string) time.Time {
		t.Helper()
		plugVeth(t, hl, lanNS, pigwNS, name)
		return time.Now()
	}
	plugged := map[string]time.Time{"eth0": plug("eth0")}

	var log syncbuf.Buffer
	child := exec.Command("ip", "netns", "exec", pigwName, os.Args[0], "-test.run=^TestWiredLinksByDHCP$", "-test.v", "-test.count=1")
	child.Env = append(os.Environ(), "PIGW_IN_NETNS=1")
	child.Stdout, child.Stderr = &log, &log
	stop, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			stop.Close()
			_ = child.Wait()
		}
		if t.Failed() {
			t.Logf("the subsystem's log:\n%s", log.String())
		}
	}()
	waitText(t, &log, "following link events", 20*time.Second)
	t.Logf("subsystem running %s after the child started", time.Since(start).Round(time.Millisecond))

	plugged["usb0"] = plug("usb0")
	plugged["eth1"] = plug("eth1")
	plug("wlx0")
	if out, err := exec.Command("ip", "-n", pigwName, "tuntap", "add", "eth9", "mode", "tun").CombinedOutput(); err != nil {
		t.Fatalf("ip tuntap add eth9: %v %s", err, out)
	}

	// Each wired link: its lease's address and a default route via the LAN's router.
	_, lan, _ := net.ParseCIDR(lanPrefix)
	metrics := map[string]int{}
	addrs := map[string]string{}  // link → address from its lease
	leased := map[string]string{} // link → address/prefix from its lease
	deadline := time.Now().Add(30 * time.Second)
	for _, name := range []string{"eth0", "usb0", "eth1"} {
		for {
			l, err := hp.LinkByName(name)
			if err != nil {
				t.Fatal(err)
			}
			addrs4, _ := hp.AddrList(l, netlink.FAMILY_V4)
			routes, _ := hp.RouteList(l, netlink.FAMILY_V4)
			i := slices.IndexFunc(routes, func(r netlink.Route) bool {
				return (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.String() == lanRouter
			})
			if len(addrs4) > 0 && lan.Contains(addrs4[0].IP) && i >= 0 {
				metrics[name] = routes[i].Priority
				addrs[name] = addrs4[0].IP.String()
				leased[name] = addrs4[0].IPNet.String()
				t.Logf("%s: %s, default route metric %d, %s after it appeared", name, addrs4[0].IPNet, routes[i].Priority,
					time.Since(plugged[name]).Round(time.Millisecond))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no lease and default route within 30 s: addresses %v, routes %v", name, addrs4, routes)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if m := metrics; m["eth0"] != 100 || !slices.Contains([]int{101, 102}, m["usb0"]) || !slices.Contains([]int{101, 102}, m["eth1"]) || m["usb0"] == m["eth1"] {
		t.Errorf("default route metrics %v, want eth0 100, and usb0 and eth1 101 and 102", m)
	}
	for name, pattern := range map[string]string{"eth0": "eth*", "usb0": "usb*", "eth1": "eth*"} {
		line := fmt.Sprintf(`msg="link matches a pattern" link=%s pattern=%s up=true dhcp=true metric=%d`, name, pattern, metrics[name])
		if !strings.Contains(log.String(), line) {
			t.Errorf("no %q in the log", line)
		}
	}
	// The status page's data has each lease, from the network subsystem's OnLease.
	for name, addr := range leased {
		line := fmt.Sprintf(`msg="lease for the status page" link=%s address=%s router=%s`, name, addr, lanRouter)
		for !strings.Contains(log.String(), line) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log", line)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !strings.Contains(log.String(), "metrics_taken=") {
		t.Errorf("the log does not say which metrics were taken")
	}

	// Option 12: dnsmasq's lease file names each lease's client, as a router that registers
	// DHCP names in its DNS would.
	checkLeaseNames(t, leases, dnsmasqLog, addrs)

	// Left alone: down, no address, no DHCP.
	for _, name := range []string{"wlx0", "eth9", "lo"} {
		l, err := hp.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		addrs, _ := hp.AddrList(l, netlink.FAMILY_V4)
		if l.Attrs().Flags&net.FlagUp != 0 || len(addrs) > 0 || strings.Contains(log.String(), "link="+name) {
			t.Errorf("%s (%s) was touched: flags %v, addresses %v", name, l.Attrs().EncapType, l.Attrs().Flags, addrs)
		}
	}

	stop.Close()
	stopped = true
	if err := child.Wait(); err != nil {
		t.Errorf("the child: %v", err)
	}
	t.Logf("whole test %s", time.Since(start).Round(time.Millisecond))
}

// checkLeaseNames checks that dnsmasq acknowledged each lease in addrs (link → address) with
// the client's name pigw-test, the host name pigw sends in option 12, and that its lease file
// (lines "expiry MAC address name client-id") names one of them so, within 5 s. dnsmasq gives
// a name to one lease at a time: the last of the three links to ask.
func checkLeaseNames(t *testing.T, file string, log *syncbuf.Buffer, addrs map[string]string) {
	t.Helper()
	for link, a := range addrs {
		if !regexp.MustCompile(`DHCPACK\(br0\) ` + regexp.QuoteMeta(a) + ` \S+ pigw-test\n`).MatchString(log.String()) {
			t.Errorf("%s: dnsmasq did not acknowledge %s with the name pigw-test", link, a)
		}
	}
	var text []byte
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		text, _ = os.ReadFile(file)
		named := 0
		for _, line := range strings.Split(string(text), "\n") {
			if f := strings.Fields(line); len(f) >= 4 && f[3] == "pigw-test" && slices.Contains(slices.Collect(maps.Values(addrs)), f[2]) {
				named++
			}
		}
		if named == 1 {
			t.Logf("dnsmasq's leases:\n%s", text)
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("dnsmasq's leases name %d clients pigw-test within 5 s, want 1 of %v:\n%s", named, addrs, text)
			return
		}
	}
}

// runNetworkChild is the child of TestWiredLinksByDHCP: the network subsystem on the image's
// network section, until stdin closes. Its log goes to stdout.
func runNetworkChild(t *testing.T) {
	c, err := config.Parse("pigw.yaml", []byte(imageNetwork+"system: {hostname: pigw-test}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ncfg := networkConfig(c, t.TempDir())
	ncfg.ResolvConf = filepath.Join(t.TempDir(), "resolv.conf") // not the host's
	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	ncfg.OnDHCP = func(link, state string) { log.Info("DHCP state", "link", link, "state", state) }
	links := newLinkStates(nil)
	ncfg.OnLease = func(link string, l dhcp4.Lease, ok bool) {
		links.setLease(link, l, ok)
		ls, _ := links.links()
		for _, k := range ls {
			if k.Name == link && k.Lease != nil {
				log.Info("lease for the status page", "link", link, "address", k.Lease.Address, "router", k.Lease.Router)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := network.NewStatic(ncfg, log).Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// needDnsmasq returns dnsmasq's path, or skips the test without it (fails it under CI, where
// make test-deps installs it).
func needDnsmasq(t *testing.T) string {
	t.Helper()
	netnstest.RequireRoot(t)
	for _, p := range []string{"dnsmasq", "/usr/sbin/dnsmasq"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("dnsmasq not found (apt-get install dnsmasq-base), and CI=true")
	}
	t.Skip("dnsmasq not found (apt-get install dnsmasq-base, or make test-deps)")
	return ""
}

// startLAN makes the bridge br0 with the router's address in the namespace of h, named name,
// and runs dnsmasq on it until the test ends; it returns the path of dnsmasq's lease file and
// its log.
func startLAN(t *testing.T, h *netlink.Handle, name, dnsmasq string) (string, *syncbuf.Buffer) {
	t.Helper()
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}
	if err := h.LinkAdd(br); err != nil {
		t.Fatal(err)
	}
	a, _ := netlink.ParseAddr(lanRouter + "/24")
	if err := h.AddrAdd(br, a); err != nil {
		t.Fatal(err)
	}
	if err := h.LinkSetUp(br); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "dnsmasq.conf")
	if err := os.WriteFile(conf, []byte("port=0\ninterface=br0\nbind-interfaces\nno-resolv\nno-hosts\n"+
		"dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,2m\ndhcp-option=option:router,"+lanRouter+"\n"+
		"dhcp-leasefile="+dir+"/leases\ndhcp-authoritative\nno-ping\nuser=root\ngroup=root\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &syncbuf.Buffer{}
	cmd := exec.Command("ip", "netns", "exec", name, dnsmasq, "--keep-in-foreground", "--log-facility=-", "--conf-file="+conf, "--pid-file=")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("dnsmasq:\n%s", log.String())
		}
	})
	waitText(t, log, "DHCP, IP range", 10*time.Second)
	return filepath.Join(dir, "leases"), log
}

// plugVeth makes a veth pair in the LAN's namespace, puts one end on br0, and moves the other,
// named name, into the namespace pigw, where it appears as a link plugged in would.
func plugVeth(t *testing.T, hl *netlink.Handle, lan, pigw netns.NsHandle, name string) {
	t.Helper()
	peer := "p-" + name
	if err := hl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: peer}); err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
	br, err := hl.LinkByName("br0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := hl.LinkByName(peer)
	if err != nil {
		t.Fatal(err)
	}
	if err := hl.LinkSetMaster(p, br); err != nil {
		t.Fatal(err)
	}
	if err := hl.LinkSetUp(p); err != nil {
		t.Fatal(err)
	}
	l, err := hl.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := hl.LinkSetNsFd(l, int(pigw)); err != nil {
		t.Fatalf("move %s: %v", name, err)
	}
}

// waitText waits until b holds text, or fails the test after d.
func waitText(t *testing.T, b *syncbuf.Buffer, text string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); !strings.Contains(b.String(), text); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no %q within %s:\n%s", text, d, b.String())
		}
	}
}
