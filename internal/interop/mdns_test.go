package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/syncbuf"
)

// TestMDNS runs pigw with system.mdns on and its status page on port 8080 in a namespace of a test LAN whose link to the LAN is
// added only after pigw started, and asks independent peers in another namespace: avahi
// (avahi-daemon with a dbus-daemon of the test's own, avahi-browse, avahi-resolve) and pigw
// coap discover.
func TestMDNS(t *testing.T) {
	needRoot(t, "the mDNS test", "for ip netns")
	ipBin := needTool(t, "ip", "iproute2")
	avahi := avahiTools{
		dbus:    needTool(t, "dbus-daemon", "dbus-daemon"),
		daemon:  needSbin(t, "avahi-daemon", "avahi-daemon"),
		browse:  needTool(t, "avahi-browse", "avahi-utils"),
		resolve: needTool(t, "avahi-resolve", "avahi-utils"),
	}
	t.Parallel()

	lan := newTestLAN(t, ipBin)
	cl := lan.addHost("cl")
	started := time.Now()
	env := avahi.start(t, ipBin, cl)
	t.Logf("dbus-daemon and avahi-daemon ready in %v", time.Since(started).Round(time.Millisecond))

	gwNS := lan.addNS("gw")
	lan.run("-n", gwNS, "link", "set", "lo", "up")
	gw := startServerOn(t, `system:
  hostname: pigw-mdns
  mdns: true
coap:
  listen: LISTEN
  service_discovery: true
  discovery_leisure: 300ms
  dtls: {psk: mdns-test-key}
`+seedResources+`web:
  listen: ["0.0.0.0:8080"]
`, []string{"0.0.0.0:5683", "[::]:5683"}, []string{ipBin, "netns", "exec", gwNS})
	gw.waitLog(regexp.MustCompile(`msg="mdns: no up, multicast link with an address yet; waiting for one"`), 15*time.Second)

	// The gateway's link to the LAN, after pigw started.
	gwAddr := lan.subnet + ".200"
	lan.run("-n", lan.lan, "link", "add", "vgw", "type", "veth", "peer", "name", "eth0", "netns", gwNS)
	lan.run("-n", lan.lan, "link", "set", "vgw", "master", "br0", "up")
	lan.run("-n", gwNS, "addr", "add", gwAddr+"/24", "dev", "eth0")
	attached := time.Now()
	lan.run("-n", gwNS, "link", "set", "eth0", "up")
	gw.waitLog(regexp.MustCompile(`msg="mdns: answering and announcing" .* links=eth0`), 15*time.Second)
	t.Logf("answering on the new link %v after it came up", time.Since(attached).Round(time.Millisecond))

	t.Run("avahi-browse", func(t *testing.T) {
		for _, svc := range []struct{ typ, port string }{{"_coap._udp", "5683"}, {"_coaps._udp", "5684"}, {"_http._tcp", "8080"}} {
			start := time.Now()
			out := avahi.run(t, ipBin, cl, env, avahi.browse, "-rptk", svc.typ) // -k: the type as sent, not avahi's name for it ("Web Site")
			t.Logf("avahi-browse -rpt %s: %v", svc.typ, time.Since(start).Round(time.Millisecond))
			// =;eth0;IPv4;pigw-mdns;_coap._udp;local;pigw-mdns.local;10.77.N.200;5683;"board=..." "version=..."
			want := regexp.MustCompile(`(?m)^=;eth0;IPv4;pigw-mdns;` + regexp.QuoteMeta(svc.typ) + `;local;pigw-mdns\.local;` +
				regexp.QuoteMeta(gwAddr) + `;` + svc.port + `;"board=[^"]+" "version=[^"]+"$`)
			if !want.MatchString(out) {
				t.Errorf("avahi-browse -rpt %s: no line matching %s\n%s", svc.typ, want, out)
			}
		}
	})
	t.Run("avahi-resolve", func(t *testing.T) {
		for _, family := range []string{"-4", "-6"} {
			out := avahi.run(t, ipBin, cl, env, avahi.resolve, family, "-n", "pigw-mdns.local")
			f := strings.Fields(out)
			switch {
			case len(f) != 2 || f[0] != "pigw-mdns.local":
				t.Errorf("avahi-resolve %s -n pigw-mdns.local: %q, want the name and an address", family, out)
			case family == "-4" && f[1] != gwAddr:
				t.Errorf("avahi-resolve -4: %s, want %s", f[1], gwAddr)
			case family == "-6" && !strings.HasPrefix(f[1], "fe80::"):
				t.Errorf("avahi-resolve -6: %s, want the link-local address of the gateway's eth0", f[1])
			}
		}
	})
	t.Run("discover", func(t *testing.T) {
		in := cl.in(ipBin)
		type entry struct {
			Host    string   `json:"host"`
			Port    int      `json:"port"`
			Name    string   `json:"name"`
			Service string   `json:"service"`
			Via     []string `json:"via"`
		}
		list := func(r cliRun) map[string]entry {
			t.Helper()
			wantExit(t, r, 0)
			var es []entry
			if err := json.Unmarshal([]byte(r.Stdout), &es); err != nil {
				t.Fatalf("--json output does not parse: %v\n%s", err, r)
			}
			m := map[string]entry{}
			for _, e := range es {
				m[fmt.Sprintf("%s:%d", e.Host, e.Port)] = e
			}
			return m
		}
		runs := map[string][]string{
			"json":    {"discover", "--iface", "eth0", "--timeout", "2s", "--json"},
			"text":    {"discover", "--iface", "eth0", "--timeout", "2s"},
			"no mDNS": {"discover", "--iface", "eth0", "--timeout", "2s", "--json", "--no-mdns"},
		}
		res := map[string]cliRun{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for name, args := range runs {
			wg.Go(func() {
				r := pigwCoAPPrefix(t, in, nil, args...)
				mu.Lock()
				defer mu.Unlock()
				res[name] = r
			})
		}
		wg.Wait()
		got := list(res["json"])
		want := map[string]entry{
			gwAddr + ":5683": {gwAddr, 5683, "pigw-mdns", "_coap._udp", []string{"coap", "mdns"}},
			gwAddr + ":5684": {gwAddr, 5684, "pigw-mdns", "_coaps._udp", []string{"mdns"}},
		}
		for k, w := range want {
			if g := got[k]; g.Name != w.Name || g.Service != w.Service || !slices.Equal(g.Via, w.Via) {
				t.Errorf("discover: %s is %+v, want %+v; all: %+v", k, g, w, got)
			}
		}
		r := res["text"]
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(gwAddr) + `\s+5683\s+pigw\s+coap,mdns\s+pigw-mdns\s+/resource1\s`).MatchString(r.Stdout) {
			t.Errorf("discover: no line for %s 5683 pigw coap,mdns pigw-mdns /resource1\n%s", gwAddr, r)
		}
		got = list(res["no mDNS"])
		if g := got[gwAddr+":5683"]; g.Name != "" || !slices.Equal(g.Via, []string{"coap"}) {
			t.Errorf("discover --no-mdns: %s is %+v, want no name, via coap", gwAddr, g)
		}
		if g, ok := got[gwAddr+":5684"]; ok {
			t.Errorf("discover --no-mdns lists %+v", g)
		}
	})
}

// needSbin is needTool for a daemon, which may sit in /usr/sbin outside a user's PATH.
func needSbin(t *testing.T, name, pkg string) string {
	t.Helper()
	if p := filepath.Join("/usr/sbin", name); exec.Command("test", "-x", p).Run() == nil {
		return p
	}
	return needTool(t, name, pkg)
}

// avahiTools are avahi's programs and the bus it needs.
type avahiTools struct{ dbus, daemon, browse, resolve string }

// start runs a dbus-daemon and an avahi-daemon of the test's own in h, and returns the
// environment of their clients. The bus is a socket in a temporary directory, so the host's
// bus is never used; avahi-daemon works only on h's eth0, publishes nothing, and keeps its
// pid file and socket in a /run of its own (a tmpfs mounted in the mount namespace ip netns
// exec makes), so it neither meets nor blocks another avahi on the machine.
func (a avahiTools) start(t *testing.T, ipBin string, h lanHost) []string {
	t.Helper()
	dir := t.TempDir()
	bus := filepath.Join(dir, "bus")
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	busConf := write("bus.conf", `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=`+bus+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
`)
	avahiConf := write("avahi-daemon.conf", `[server]
host-name=avahi-test-client
allow-interfaces=eth0
use-ipv4=yes
use-ipv6=yes
enable-dbus=yes
[publish]
disable-publishing=yes
`)
	env := append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS=unix:path="+bus)
	dbus := a.daemonize(t, "dbus-daemon", exec.Command(ipBin, "netns", "exec", h.ns, a.dbus, "--config-file="+busConf, "--nofork", "--nopidfile"))
	waitUntil(t, "the bus socket", func() bool { _, err := os.Stat(bus); return err == nil }, dbus)
	cmd := exec.Command(ipBin, "netns", "exec", h.ns, "sh", "-c", `mount -t tmpfs pigw-test-run /run && exec "$0" --no-chroot --no-drop-root --no-rlimits -f "$1"`, a.daemon, avahiConf)
	cmd.Env = env
	log := a.daemonize(t, "avahi-daemon", cmd)
	waitUntil(t, "avahi-daemon's startup", func() bool { return strings.Contains(log.String(), "Server startup complete") }, log)
	return env
}

// daemonize starts cmd, stopped when the test ends, and returns its output.
func (a avahiTools) daemonize(t *testing.T, name string, cmd *exec.Cmd) *syncbuf.Buffer {
	t.Helper()
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s:\n%s", name, tail(out.String(), 4000))
		}
	})
	return out
}

// run runs an avahi client in h with env, within 20 s, and returns its stdout.
func (a avahiTools) run(t *testing.T, ipBin string, h lanHost, env []string, prog string, args ...string) string {
	t.Helper()
	cmd := exec.Command(ipBin, append([]string{"netns", "exec", h.ns, "timeout", "20", prog}, args...)...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(prog), strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// waitUntil polls ok for 10 s, failing with what out holds.
func waitUntil(t *testing.T, what string, ok func() bool, out fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s:\n%s", what, out)
		}
	}
}
