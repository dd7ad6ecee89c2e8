package interop

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMulticastDiscovery runs pigw in a network namespace made for the test
// and discovers it with multicast GET /.well-known/core from libcoap, over
// IPv4 (224.0.1.187) and IPv6 (ff02::fd).
//
// IPv4 multicast works on lo once it has the multicast flag and a route.
// IPv6 multicast does not loop back on lo (the kernel sends it but never
// delivers it), so the namespace also gets a veth pair; the server joins
// the groups on every up multicast interface, the client sends out of one
// end, and the datagram comes back both by multicast loopback on that end
// and through the peer: each IPv6 discovery may be answered once per end.
//
// It runs twice: listening on the wildcard addresses, and listening on specific addresses
// only (127.0.0.1 and an address of pmc0), where multicast requests are answered from the
// address on the link they came in on, and a unicast request to another address of the host
// gets no answer.
func TestMulticastDiscovery(t *testing.T) {
	needRoot(t, "the multicast test", "for ip netns")
	ipBin := needTool(t, "ip", "iproute2")
	needTool(t, "coap-client-notls", "libcoap3-bin")
	t.Parallel()
	for _, mode := range []struct {
		name   string
		listen []string
	}{
		{"wildcard", []string{"0.0.0.0:5683", "[::]:5683"}},
		{"specific", []string{"127.0.0.1:5683", "[fd00:99::1]:5683"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			testMulticast(t, ipBin, mode.listen)
		})
	}
}

func testMulticast(t *testing.T, ipBin string, listen []string) {
	specific := !strings.HasPrefix(listen[0], "0.0.0.0")

	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	ns := "pigwmc-" + hex.EncodeToString(rnd[:])
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command(ipBin, "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
		}
	})
	in := []string{ipBin, "netns", "exec", ns}
	inNS := func(args ...string) {
		t.Helper()
		ip(append([]string{"netns", "exec", ns}, args...)...)
	}
	inNS("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0")
	inNS(ipBin, "link", "set", "lo", "up")
	inNS(ipBin, "link", "set", "lo", "multicast", "on")
	inNS(ipBin, "route", "add", "224.0.0.0/4", "dev", "lo")
	inNS(ipBin, "link", "add", "pmc0", "type", "veth", "peer", "name", "pmc1")
	inNS(ipBin, "link", "set", "pmc0", "up")
	inNS(ipBin, "link", "set", "pmc1", "up")
	inNS(ipBin, "addr", "add", "10.99.0.1/24", "dev", "pmc0") // a test host's own address, inside the namespace
	inNS(ipBin, "addr", "add", "fd00:99::1/64", "dev", "pmc0", "nodad")

	cfg := `coap:
  listen: LISTEN
  service_discovery: true
  discovery_leisure: 300ms
  dynamic_resources: true
` + seedResources
	s := startServerOn(t, cfg, listen, in)
	s.waitLog(regexp.MustCompile(`msg="listening for multicast requests" addr=224\.0\.1\.187:5683`), 5*time.Second)
	for _, join := range []string{`group=224.0.1.187 iface=lo`, `group=ff02::fd iface=pmc0`} {
		s.waitLog(regexp.MustCompile(`msg="joined All-CoAP-Nodes group" `+regexp.QuoteMeta(join)), 15*time.Second)
	}

	const all = `</resource1>;title="resource1";ct=0;obs,</resource2>;ct=41;obs`
	tests := []struct {
		name, url string
		want      string // "" means no answer at all
	}{
		{"IPv4 discovery", "coap://224.0.1.187/.well-known/core", all},
		{"IPv4 filter", "coap://224.0.1.187/.well-known/core?ct=41", `</resource2>;ct=41;obs`},
		{"IPv4 unknown path", "coap://224.0.1.187/no/such", ""},
		{"IPv4 filter matching nothing", "coap://224.0.1.187/.well-known/core?rt=x", ""},
		{"IPv6 discovery", "coap://[ff02::fd%pmc0]/.well-known/core", all},
		{"IPv6 filter", "coap://[ff02::fd%pmc0]/.well-known/core?title=resource1", `</resource1>;title="resource1";ct=0;obs`},
		{"IPv6 unknown path", "coap://[ff02::fd%pmc0]/no/such", ""},
		{"IPv6 filter matching nothing", "coap://[ff02::fd%pmc0]/.well-known/core?rt=x", ""},
		{"IPv6 PUT does not create", "coap://[ff02::fd%pmc0]/new/thing", ""},
	}
	// coap-client waits the whole -B for multicast answers, so run them at once.
	runs := make([]*coapRun, len(tests))
	var wg sync.WaitGroup
	for i, tc := range tests {
		args := []string{"-N", "-B", "3", "-m", "get", tc.url}
		if strings.HasSuffix(tc.url, "/new/thing") {
			args = []string{"-N", "-B", "3", "-m", "put", "-e", "x", tc.url}
		}
		wg.Go(func() { runs[i] = coapClientPrefix(t, in, args...) })
	}
	wg.Wait()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runs[i]
			if len(r.Requests()) == 0 {
				t.Fatalf("coap-client sent nothing:\n%s\n%s", r.Stdout, r.Stderr)
			}
			rs := r.Responses()
			if tc.want == "" {
				if len(rs) > 0 {
					t.Errorf("%s: answered %s, want no answer to a multicast request", tc.url, rs[0].Line)
				}
				return
			}
			if len(rs) == 0 {
				t.Fatalf("%s: no answer within 3 s\n%s\n%s", tc.url, r.Stdout, r.Stderr)
			}
			for _, p := range rs {
				if p.Code != "2.05" || p.Payload != tc.want || p.Type != "NON" {
					t.Errorf("%s: answer %s, want NON 2.05 '%s'", tc.url, p.Line, tc.want)
				}
			}
		})
	}
	// The multicast PUT must not have created anything; unicast inside the
	// namespace still works.
	r := coapClientPrefix(t, in, "-m", "get", "coap://127.0.0.1/new/thing")
	check(t, r, "4.04", nil, nil)
	r = coapClientPrefix(t, in, "-m", "get", "coap://[fd00:99::1]/resource1")
	check(t, r, "2.05", ptr("default_value"), nil)
	// An address the server was not asked to serve: answered only with a wildcard listen.
	r = coapClientPrefix(t, in, "-B", "2", "-m", "get", "coap://10.99.0.1/resource1")
	if specific {
		if rs := r.Responses(); len(rs) > 0 {
			t.Errorf("unicast to an address not listened on was answered: %s", rs[0].Line)
		}
	} else {
		check(t, r, "2.05", ptr("default_value"), nil)
	}
}
