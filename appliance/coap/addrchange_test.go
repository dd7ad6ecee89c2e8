package coap

import (
	"github.com/pigw/pigw/internal/netnstest"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// inNamespace runs fn on a thread in ns; sockets fn makes stay in ns.
func inNamespace(t *testing.T, ns netns.NsHandle, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // the thread ends with the goroutine, namespace and all
		if err := netns.Set(ns); err != nil {
			t.Error(err)
			return
		}
		fn()
	}()
	<-done
}

// TestSessionFollowsAddressChange: a session keeps working when the client's address changes
// (a new DHCP lease), because its socket lets the kernel pick the source per datagram.
func TestSessionFollowsAddressChange(t *testing.T) {
	_, nsc, hc := netnstest.New(t, "pigwac-c-")
	_, nss, hs := netnstest.New(t, "pigwac-s-")
	handles := map[string]netns.NsHandle{"c": nsc, "s": nss}
	if err := hc.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vc", Namespace: netlink.NsFd(handles["c"])}, PeerName: "vs",
		PeerNamespace: netlink.NsFd(handles["s"])}); err != nil {
		t.Fatal(err)
	}
	setup := func(h *netlink.Handle, link, addr string) {
		l, err := h.LinkByName(link)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := netlink.ParseAddr(addr)
		if err := h.AddrAdd(l, a); err != nil {
			t.Fatal(err)
		}
		if err := h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
		lo, _ := h.LinkByName("lo")
		_ = h.LinkSetUp(lo)
	}
	setup(hc, "vc", "10.91.0.1/24")
	setup(hs, "vs", "10.91.0.2/24")

	var srv *Server
	inNamespace(t, handles["s"], func() {
		srv, _ = NewServer(withListen(Config{Listen: []string{"0.0.0.0:5683"}}))
		_, _ = srv.AddResource("r", WithValue([]byte("v")), WithMethods(GET))
		if err := srv.Listen(); err != nil {
			t.Error(err)
		}
	})
	if t.Failed() {
		return
	}
	startServer(t, srv)
	var s *Session
	inNamespace(t, handles["c"], func() {
		_, s = testSession(t, netip.MustParseAddrPort("10.91.0.2:5683"), SessionOptions{})
	})
	if r, err := s.Do(ctx(t), NewRequest(GET, "r")); err != nil || r.Code != Code(codes.Content) {
		t.Fatalf("before the change: %v %v", r.Code, err)
	}
	// The client's address changes, as with a new lease.
	vc, _ := hc.LinkByName("vc")
	old, _ := netlink.ParseAddr("10.91.0.1/24")
	if err := hc.AddrDel(vc, old); err != nil {
		t.Fatal(err)
	}
	nw, _ := netlink.ParseAddr("10.91.0.7/24")
	if err := hc.AddrAdd(vc, nw); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Do(ctx(t), NewRequest(GET, "r")); err != nil || r.Code != Code(codes.Content) {
		t.Errorf("after the address changed: %v %v", r.Code, err)
	}
}

// TestDiscoveryFollowsNewLinks: a link that appears after the server started is joined to the
// All-CoAP-Nodes groups at once, through the link events. The check runs in a child process
// inside a network namespace the test makes (every thread of it must be there).
func TestDiscoveryFollowsNewLinks(t *testing.T) {
	if os.Getenv("PIGW_IN_NETNS") == "1" {
		discoveryFollowsNewLinks(t)
		return
	}
	name, _, _ := netnstest.New(t, "pigwmj-")
	cmd := exec.Command("ip", "netns", "exec", name, os.Args[0], "-test.run=^TestDiscoveryFollowsNewLinks$", "-test.v")
	cmd.Env = append(os.Environ(), "PIGW_IN_NETNS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in the namespace: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

func discoveryFollowsNewLinks(t *testing.T) {
	logs := &syncLog{}
	srv, err := NewServer(Config{Listen: []string{"0.0.0.0:5683"}, ServiceDiscovery: true, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, srv)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "listening") }, "server up")
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "wl9"}, PeerName: "wl9p"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"wl9", "wl9p"} {
		l, _ := netlink.LinkByName(n)
		_ = netlink.LinkSetUp(l)
	}
	waitFor(t, func() bool { return strings.Contains(logs.String(), "group=224.0.1.187 iface=wl9 ") }, "joined on the new link")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("joined %s after the link came up: not through link events", d)
	}
	t.Logf("joined %s after the link came up", time.Since(start).Round(time.Millisecond))
}

type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *syncLog) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
