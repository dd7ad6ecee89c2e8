package interop

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// testLAN is a small Ethernet made of network namespaces: one namespace per
// host, each with an eth0 whose veth peer sits on a bridge in a namespace
// of its own, all made by the test and deleted at its end. The hosts have
// addresses 10.77.N.x/24 (N random) and IPv6 link-local addresses, and a
// route for 224.0.0.0/4 on eth0. Nothing of it touches the host's own
// interfaces.
type testLAN struct {
	t      *testing.T
	ip     string // path of ip(8)
	name   string // namespace name prefix
	subnet string // "10.77.N"
	lan    string // the bridge's namespace
	hosts  int
}

// lanHost is one namespace of a testLAN.
type lanHost struct {
	ns, addr, linkLocal string
}

// in is the command prefix that runs a command on the host.
func (h lanHost) in(ipBin string) []string { return []string{ipBin, "netns", "exec", h.ns} }

func newTestLAN(t *testing.T, ipBin string) *testLAN {
	t.Helper()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	l := &testLAN{t: t, ip: ipBin, name: "pigwd-" + hex.EncodeToString(rnd[:3]), subnet: fmt.Sprintf("10.77.%d", rnd[3])}
	l.lan = l.addNS("lan")
	l.run("-n", l.lan, "link", "set", "lo", "up")
	// Without snooping the bridge floods multicast to every port, as a
	// dumb switch would; with it, it may drop groups it saw no report for.
	l.run("-n", l.lan, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	l.run("-n", l.lan, "link", "set", "br0", "up")
	return l
}

func (l *testLAN) run(args ...string) {
	l.t.Helper()
	if out, err := exec.Command(l.ip, args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// addNS makes a namespace that cleanup deletes.
func (l *testLAN) addNS(suffix string) string {
	l.t.Helper()
	ns := l.name + "-" + suffix
	l.run("netns", "add", ns)
	l.t.Cleanup(func() {
		if out, err := exec.Command(l.ip, "netns", "del", ns).CombinedOutput(); err != nil {
			l.t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
		}
	})
	return ns
}

// addHost makes a host on the LAN, with the next address.
func (l *testLAN) addHost(name string) lanHost {
	l.t.Helper()
	l.hosts++
	h := lanHost{ns: l.addNS(name), addr: fmt.Sprintf("%s.%d", l.subnet, l.hosts)}
	l.run("netns", "exec", h.ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0")
	port := fmt.Sprintf("v%d", l.hosts)
	l.run("-n", l.lan, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", h.ns)
	l.run("-n", l.lan, "link", "set", port, "master", "br0", "up")
	l.run("-n", h.ns, "link", "set", "lo", "up")
	l.run("-n", h.ns, "addr", "add", h.addr+"/24", "dev", "eth0")
	l.run("-n", h.ns, "link", "set", "eth0", "up")
	l.run("-n", h.ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
	h.linkLocal = waitLinkLocal(l.t, l.ip, h.ns, "eth0")
	return h
}

// discovered is what pigw coap discover --json prints.
type discovered struct {
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Pigw      bool   `json:"pigw"`
	Resources []struct {
		Href  string `json:"href"`
		Attrs []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"attrs"`
	} `json:"resources"`
}

// discoveredText reads the table discover prints: host → "PORT HREF ATTRS" lines.
func discoveredText(t *testing.T, r cliRun) map[string][]string {
	hosts, _ := discoveredTable(t, r)
	return hosts
}

// discoveredTable is discoveredText, and which hosts the SERVER column says are pigw.
func discoveredTable(t *testing.T, r cliRun) (map[string][]string, map[string]bool) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	const header = "HOST PORT SERVER VIA NAME RESOURCE ATTRIBUTES"
	if len(lines) == 0 || strings.Join(strings.Fields(lines[0]), " ") != header {
		t.Fatalf("no %s header\n%s", header, r)
	}
	hosts, pigw := map[string][]string{}, map[string]bool{}
	for _, line := range lines[1:] {
		// Names with spaces ("pigw (port 5685)") are not read: these tests announce none.
		f := strings.Fields(line)
		if len(f) < 6 || (f[2] != "pigw" && f[2] != "-") {
			t.Errorf("line %q: want HOST PORT pigw|- VIA NAME RESOURCE [ATTRIBUTES]", line)
			continue
		}
		pigw[f[0]] = f[2] == "pigw"
		hosts[f[0]] = append(hosts[f[0]], f[1]+" "+strings.Join(f[5:], " "))
	}
	return hosts, pigw
}

func discoveredJSON(t *testing.T, r cliRun) map[string][]string {
	hosts, _ := discoveredList(t, r)
	return hosts
}

// discoveredList is discoveredJSON, and which hosts are marked pigw.
func discoveredList(t *testing.T, r cliRun) (map[string][]string, map[string]bool) {
	t.Helper()
	pigw := map[string]bool{}
	var list []discovered
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, r)
	}
	hosts := map[string][]string{}
	for _, d := range list {
		if _, dup := hosts[d.Host]; dup {
			t.Errorf("host %s listed twice", d.Host)
		}
		hosts[d.Host] = []string{}
		pigw[d.Host] = d.Pigw
		for _, l := range d.Resources {
			var attrs []string
			for _, a := range l.Attrs {
				attrs = append(attrs, a.Name+"="+a.Value)
			}
			hosts[d.Host] = append(hosts[d.Host], fmt.Sprintf("%d %s %s", d.Port, l.Href, strings.Join(attrs, " ")))
		}
	}
	return hosts, pigw
}

func hostNames(hosts map[string][]string) []string {
	var names []string
	for h := range hosts {
		names = append(names, h)
	}
	sort.Strings(names)
	return names
}

// TestDiscoverCLI runs pigw coap discover on a LAN made of namespaces, with
// two pigw servers and libcoap's server on it.
//
// libcoap's server cannot answer multicast when bound to one address: Linux
// delivers datagrams for 224.0.1.187 only to sockets bound to the wildcard
// (or the group) address, so -A 10.77.N.3 -g 224.0.1.187 joins the group but
// never sees a request. It runs with -A 0.0.0.0 in a namespace where
// 10.77.N.3 is its only address. It also delays each multicast answer by a
// random time of up to 5 s (RFC 7252 §8.2 leisure, fixed in 4.3.1), so it
// is expected within --wait 6s; --wait 2s is enough for pigw, whose leisure
// here is 300 ms.
func TestDiscoverCLI(t *testing.T) {
	needRoot(t, "the discover test", "for ip netns")
	ipBin := needTool(t, "ip", "iproute2")
	libcoap := needTool(t, "coap-server-notls", "libcoap3-bin")
	t.Parallel()

	lan := newTestLAN(t, ipBin)
	a, b, c, cl := lan.addHost("a"), lan.addHost("b"), lan.addHost("c"), lan.addHost("cl")

	const discoveryCfg = `coap:
  listen: LISTEN
  service_discovery: true
  discovery_leisure: 300ms
`
	wildcard := []string{"0.0.0.0:5683", "[::]:5683"}
	sa := startServerOn(t, discoveryCfg+seedResources, wildcard, a.in(ipBin))
	sb := startServerOn(t, discoveryCfg+`  resources:
    - uri: sensors/temp
      media_type: text/plain
      value: "21.5"
      attributes: {rt: temperature, title: Kitchen}
      methods: [GET]
`, wildcard, b.in(ipBin))
	for _, s := range []*server{sa, sb} {
		for _, join := range []string{`group=224.0.1.187 iface=eth0`, `group=ff02::fd iface=eth0`} {
			s.waitLog(regexp.MustCompile(`msg="joined All-CoAP-Nodes group" `+regexp.QuoteMeta(join)), 15*time.Second)
		}
	}
	lc, err := launchLibcoap(t, c.in(ipBin), libcoap, []string{"-A", "0.0.0.0", "-p", "5683", "-g", "224.0.1.187", "-v", "7"}, "0.0.0.0", 5683)
	if err != nil {
		t.Fatal(err)
	}
	if !lc.traceHas("added mcast group 224.0.1.187:5683") {
		t.Fatalf("libcoap did not join 224.0.1.187:\n%s", lc.log.String())
	}

	// Every run at once: each waits its whole --wait.
	in := cl.in(ipBin)
	runs := map[string][]string{
		"text 6s":   {"discover", "--iface", "eth0", "--wait", "6s"},
		"json 6s":   {"discover", "--iface", "eth0", "--wait", "6s", "--json"},
		"text 2s":   {"discover", "--iface", "eth0", "--wait", "2s"},
		"json 2s":   {"discover", "--iface", "eth0", "--timeout", "2s", "--json"},
		"query":     {"discover", "--iface", "eth0", "--wait", "2s", "--json", "--query", "rt=temperature"},
		"IPv4 only": {"discover", "--iface", "eth0", "--wait", "2s", "--json", "-4"},
		"IPv6 only": {"discover", "--iface", "eth0", "--wait", "2s", "--json", "-6"},
		"nobody":    {"discover", "--iface", "eth0", "--wait", "1s", "--port", "5999"},
		"nobody js": {"discover", "--iface", "eth0", "--wait", "1s", "--port", "5999", "--json"},
		// Usage errors, here too so that no mistake can reach the host's network.
		"argument":      {"discover", "--iface", "eth0", "--wait", "1s", "extra"},
		"-4 and -6":     {"discover", "--iface", "eth0", "--wait", "1s", "-4", "-6"},
		"wait 0":        {"discover", "--iface", "eth0", "--wait", "0s"},
		"timeout 0":     {"discover", "--iface", "eth0", "--timeout", "0s"},
		"port 0":        {"discover", "--iface", "eth0", "--wait", "1s", "--port", "0"},
		"unknown iface": {"discover", "--iface", "nosuchif0", "--wait", "1s"},
	}
	got := map[string]cliRun{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, args := range runs {
		wg.Go(func() {
			r := pigwCoAPPrefix(t, in, nil, args...)
			mu.Lock()
			got[name] = r
			mu.Unlock()
		})
	}
	wg.Wait()

	type want struct {
		host, resource string // resource: a prefix of "PORT HREF ATTRS"
	}
	pigwA4 := want{a.addr, "5683 /resource1"}
	pigwA6 := want{a.linkLocal, "5683 /resource1"}
	pigwB4 := want{b.addr, "5683 /sensors/temp"}
	pigwB6 := want{b.linkLocal, "5683 /sensors/temp"}
	libcoap4 := want{c.addr, "5683 /time"}
	check := func(t *testing.T, name string, hosts map[string][]string, need []want, allowed ...want) {
		t.Helper()
		ok := map[string]bool{}
		for _, w := range append(append([]want{}, need...), allowed...) {
			ok[w.host] = true
		}
		for _, h := range hostNames(hosts) {
			if !ok[h] {
				t.Errorf("%s: lists %s %q, which should not be there", name, h, hosts[h])
			}
		}
		for _, w := range need {
			rs, listed := hosts[w.host]
			if !listed {
				t.Errorf("%s: %s is not listed; listed: %v\n%s", name, w.host, hostNames(hosts), got[name])
				continue
			}
			found := false
			for _, r := range rs {
				found = found || strings.HasPrefix(r, w.resource+" ") || r == w.resource
			}
			if !found {
				t.Errorf("%s: %s lists %q, want %q among them", name, w.host, rs, w.resource)
			}
		}
	}
	all := []want{pigwA4, pigwA6, pigwB4, pigwB6, libcoap4}
	// Which hosts are pigw: a and b (with or without public resources), not libcoap.
	checkPigw := func(t *testing.T, name string, pigw map[string]bool) {
		t.Helper()
		for _, h := range []string{a.addr, a.linkLocal, b.addr, b.linkLocal, c.addr} {
			if want := h != c.addr; pigw[h] != want {
				t.Errorf("%s: %s marked pigw %v, want %v\n%s", name, h, pigw[h], want, got[name].Stdout)
			}
		}
	}
	t.Run("text --wait 6s", func(t *testing.T) {
		r := got["text 6s"]
		wantExit(t, r, 0)
		hosts, pigw := discoveredTable(t, r)
		check(t, "text 6s", hosts, all)
		checkPigw(t, "text 6s", pigw)
		if rs := hosts[b.addr]; len(rs) > 0 && !strings.Contains(rs[0], `rt="temperature"`) {
			t.Errorf("%s: %q, want the attribute rt=\"temperature\"", b.addr, rs)
		}
	})
	t.Run("json --wait 6s", func(t *testing.T) {
		r := got["json 6s"]
		wantExit(t, r, 0)
		hosts, pigw := discoveredList(t, r)
		check(t, "json 6s", hosts, all)
		checkPigw(t, "json 6s", pigw)
		if rs := hosts[b.addr]; len(rs) > 0 && !strings.Contains(rs[0], "rt=temperature") {
			t.Errorf("%s: %q, want the attribute rt=temperature", b.addr, rs)
		}
	})
	t.Run("text --wait 2s", func(t *testing.T) {
		r := got["text 2s"]
		wantExit(t, r, 0)
		check(t, "text 2s", discoveredText(t, r), []want{pigwA4, pigwA6, pigwB4, pigwB6}, libcoap4)
		if r.Took > 6*time.Second {
			t.Errorf("--wait 2s took %v", r.Took)
		}
	})
	t.Run("json --timeout 2s", func(t *testing.T) {
		r := got["json 2s"]
		wantExit(t, r, 0)
		check(t, "json 2s", discoveredJSON(t, r), []want{pigwA4, pigwA6, pigwB4, pigwB6}, libcoap4)
	})
	t.Run("query", func(t *testing.T) {
		r := got["query"]
		wantExit(t, r, 0)
		// libcoap answers a filter that matches nothing with an empty list, or not at all.
		check(t, "query", discoveredJSON(t, r), []want{pigwB4, pigwB6}, want{c.addr, ""})
	})
	t.Run("IPv4 only", func(t *testing.T) {
		r := got["IPv4 only"]
		wantExit(t, r, 0)
		check(t, "IPv4 only", discoveredJSON(t, r), []want{pigwA4, pigwB4}, libcoap4)
	})
	t.Run("IPv6 only", func(t *testing.T) {
		r := got["IPv6 only"]
		wantExit(t, r, 0)
		check(t, "IPv6 only", discoveredJSON(t, r), []want{pigwA6, pigwB6})
	})
	t.Run("nobody answers", func(t *testing.T) {
		wantExit(t, got["nobody"], 1, "no CoAP server answered")
		r := got["nobody js"]
		wantExit(t, r, 0)
		if strings.TrimSpace(r.Stdout) != "[]" {
			t.Errorf("--json with no answer: stdout %q, want []", r.Stdout)
		}
	})
	for name, substr := range map[string]string{
		"argument": `"extra"`, "-4 and -6": "-4 and -6", "wait 0": "--wait", "timeout 0": "--timeout (--wait) 0s",
		"port 0": "--port 0", "unknown iface": `"nosuchif0"`,
	} {
		t.Run("usage "+name, func(t *testing.T) {
			wantExit(t, got[name], 2, substr)
		})
	}
}
