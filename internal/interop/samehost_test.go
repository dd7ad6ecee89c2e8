package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/netnstest"
	"github.com/pigw/pigw/internal/syncbuf"
)

// TestDiscoverSameHost runs several pigw on one host (a namespace with lo and a veth pair of
// its own) and pigw coap discover beside them: each is found, over IPv4 and IPv6, whatever its
// port, with or without a public resource; a second server on a port already served is
// refused with a clear error, and the first keeps its unicast requests.
func TestDiscoverSameHost(t *testing.T) {
	needRoot(t, "the same-host discovery test", "for ip netns")
	ipBin := needTool(t, "ip", "iproute2")
	needTool(t, "coap-client-notls", "libcoap3-bin")
	t.Parallel()

	ns, _, _ := netnstest.New(t, "pigwsh-")
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	in := []string{ipBin, "netns", "exec", ns}
	ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0")
	ip("-n", ns, "link", "set", "lo", "up")
	ip("-n", ns, "link", "set", "lo", "multicast", "on")
	ip("-n", ns, "link", "add", "sh0", "type", "veth", "peer", "name", "sh1")
	ip("-n", ns, "addr", "add", "10.98.0.1/24", "dev", "sh0")
	ip("-n", ns, "link", "set", "sh0", "up")
	ip("-n", ns, "link", "set", "sh1", "up")
	ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "sh0") // for libcoap, which names no interface
	linkLocal := waitLinkLocal(t, ipBin, ns, "sh0")

	const cfg = `coap:
  listen: LISTEN
  service_discovery: true
  discovery_leisure: 300ms
`
	wildcard := func(port int) []string {
		return []string{fmt.Sprintf("0.0.0.0:%d", port), fmt.Sprintf("[::]:%d", port)}
	}
	a := startServerOn(t, cfg+seedResources, wildcard(5683), in)
	b := startServerOn(t, cfg+`  resources:
    - {uri: b/value, media_type: text/plain, value: "b", methods: [GET]}
`, wildcard(5685), in)
	c := startServerOn(t, cfg, wildcard(5687), in) // no public resource
	for _, s := range []*server{a, b, c} {
		for _, re := range []string{
			`msg="joined All-CoAP-Nodes group" group=224\.0\.1\.187 iface=lo port=5683`,
			`msg="joined All-CoAP-Nodes group" group=ff02::fd iface=sh0 port=5683`,
		} {
			s.waitLog(regexp.MustCompile(re), 15*time.Second)
		}
	}

	t.Run("a second server on a served port is refused", func(t *testing.T) {
		log, stop := runRefused(t, in, cfg, wildcard(5683))
		defer stop()
		want := regexp.MustCompile(`listen on 0\.0\.0\.0:5683: address already in use: port 5683 is served by a socket on 0\.0\.0\.0:5683 of pid \d+ \(pigw\), and a second server there would take its unicast requests: give coap.listen another port`)
		if !want.MatchString(log) {
			t.Errorf("log of the second server has no %q:\n%s", want, log)
		}
		r := coapClientPrefix(t, in, "-m", "get", "coap://127.0.0.1:5683/resource1")
		check(t, r, "2.05", ptr("default_value"), nil)
	})

	t.Run("pigw coap discover finds every pigw", func(t *testing.T) {
		r := pigwCoAPPrefix(t, in, nil, "discover", "--timeout", "2s", "--json")
		wantExit(t, r, 0)
		var list []discovered
		if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
			t.Fatalf("--json output does not parse: %v\n%s", err, r)
		}
		type at struct {
			host string
			port int
		}
		got := map[at]discovered{}
		for _, d := range list {
			got[at{d.Host, d.Port}] = d
		}
		for _, want := range []struct {
			port     int
			resource string // "" for none
		}{{5683, "/resource1"}, {5685, "/b/value"}, {5687, ""}} {
			// IPv4 requests leave from 10.98.0.1 on every link (127.0.0.1 is host-scoped).
			for _, host := range []string{"10.98.0.1", linkLocal} {
				d, ok := got[at{host, want.port}]
				switch {
				case !ok:
					t.Errorf("the pigw on port %d is not listed at %s\n%s", want.port, host, r.Stdout)
				case !d.Pigw:
					t.Errorf("%s:%d is not marked pigw", host, want.port)
				case want.resource == "" && len(d.Resources) > 0:
					t.Errorf("%s:%d lists %v, want no resource", host, want.port, d.Resources)
				case want.resource != "" && (len(d.Resources) == 0 || d.Resources[0].Href != want.resource):
					t.Errorf("%s:%d lists %v, want %s first", host, want.port, d.Resources, want.resource)
				}
			}
		}
	})
	t.Run("libcoap finds the pigw on another port", func(t *testing.T) {
		r := coapClientPrefix(t, in, "-N", "-B", "2", "-m", "get", "coap://224.0.1.187/.well-known/core")
		var bodies []string
		for _, p := range r.Responses() {
			bodies = append(bodies, p.Payload)
		}
		if !strings.Contains(strings.Join(bodies, " "), "</b/value>") {
			t.Errorf("coap-client got no answer from the pigw on port 5685: %q\n%s\n%s", bodies, r.Stdout, r.Stderr)
		}
	})
}

// waitLinkLocal returns dev's IPv6 link-local address with its zone, once it is usable.
func waitLinkLocal(t *testing.T, ipBin, ns, dev string) string {
	t.Helper()
	ll := regexp.MustCompile(`inet6 (fe80::[0-9a-f:]+)/64 scope link`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := exec.Command(ipBin, "-n", ns, "-6", "addr", "show", "dev", dev).CombinedOutput()
		if m := ll.FindSubmatch(out); m != nil && !strings.Contains(string(out), "tentative") {
			return string(m[1]) + "%" + dev
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no IPv6 link-local address on %s within 5 s:\n%s", ns, dev, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runRefused runs pigw run on listen until its log says why it cannot listen, and returns
// the log and what stops it.
func runRefused(t *testing.T, prefix []string, cfg string, listen []string) (string, func()) {
	t.Helper()
	dir := t.TempDir()
	s := &server{t: t, listen: listen, config: filepath.Join(dir, "pigw.yaml")}
	s.writeConfig(cfg)
	args := append(append([]string{}, prefix...), pigwBin, "run", "--config", s.config, "--state-dir", filepath.Join(dir, "state"))
	cmd := exec.Command(args[0], args[1:]...)
	var log syncbuf.Buffer
	cmd.Stderr, cmd.Stdout = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "address already in use") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return log.String(), stop
}
