package mdns

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/netnstest"
	"github.com/pigw/pigw/internal/syncbuf"
	pmdns "github.com/pion/mdns/v2"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/net/ipv4"
)

// inNS runs f on a thread in ns: the sockets f opens stay in ns.
func inNS(t *testing.T, ns netns.NsHandle, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic(err) // the thread would stay in ns
		}
	}()
	f()
}

// addLink adds a veth link with addr, its peer (without address, so never used) in the same
// namespace: what is sent to a multicast group on the link comes back to the namespace's
// sockets that joined it there.
func addLink(t *testing.T, h *netlink.Handle, name, addr string) *net.Interface {
	t.Helper()
	l := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: "p" + name}
	a, err := netlink.ParseAddr(addr)
	if err == nil {
		err = h.LinkAdd(l)
	}
	if err == nil {
		err = h.AddrAdd(l, a)
	}
	if err == nil {
		err = h.LinkSetUp(l)
	}
	if err == nil {
		err = h.LinkSetUp(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "p" + name}})
	}
	if err != nil {
		t.Fatalf("add link %s with %s: %v", name, addr, err)
	}
	got, err := h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return &net.Interface{Index: got.Attrs().Index, Name: name}
}

// listener reads what is sent to 224.0.0.251:5353 on the links it joined.
type listener struct {
	p *ipv4.PacketConn
}

// next returns the next mDNS response on ifi and its records in words, failing after 10 s.
func (l listener) next(t *testing.T, ifi *net.Interface) []string {
	t.Helper()
	buf := make([]byte, 9000)
	_ = l.p.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, cm, _, err := l.p.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no mDNS response on %s: %v", ifi.Name, err)
		}
		var m dnsmessage.Message
		if m.Unpack(buf[:n]) != nil || !m.Response || cm == nil || cm.IfIndex != ifi.Index {
			continue
		}
		var rs []string
		for _, r := range slices.Concat(m.Answers, m.Additionals) {
			rs = append(rs, describe(r))
		}
		return rs
	}
}

// TestResponder runs the responder in a namespace of its own, IPv4 only, and checks
// that it announces without being asked, answers a query for its name and a browse for its
// service, announces on a link added after it started, and says goodbye when it stops.
func TestResponder(t *testing.T) {
	name, ns, h := netnstest.New(t, "pigwmdns")
	if out, err := exec.Command("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1").CombinedOutput(); err != nil {
		t.Fatalf("IPv6 off: %v %s", err, out)
	}
	if lo, err := h.LinkByName("lo"); err != nil || h.LinkSetUp(lo) != nil {
		t.Fatalf("lo up: %v", err) // answers to a client on this host go through lo
	}
	d0 := addLink(t, h, "d0", "10.66.0.1/24")
	var lis listener
	inNS(t, ns, func() {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		lis.p = ipv4.NewPacketConn(c)
	})
	if err := lis.p.JoinGroup(d0, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251)}); err != nil {
		t.Fatal(err)
	}
	_ = lis.p.SetControlMessage(ipv4.FlagInterface, true)

	var logged syncbuf.Buffer // what is logged at Info and above
	r, err := New(Config{Hostname: "pigw-test", Services: []Service{{"_coap._udp", 5683}}, TXT: []string{"version=t1", "board=ns"},
		Log: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	start := time.Now()
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := netns.Set(ns); err != nil {
			ran <- err
			return
		}
		ran <- r.Run(ctx)
	}()

	wantA := func(rs []string, addr string) bool { return slices.Contains(rs, "pigw-test.local. A 120 flush "+addr) }
	for i := range 2 {
		rs := lis.next(t, d0)
		if !wantA(rs, "10.66.0.1") || !slices.Contains(rs, "pigw-test._coap._udp.local. TXT 120 flush version=t1,board=ns") {
			t.Fatalf("announcement %d on d0: %q", i+1, rs)
		}
		t.Logf("announcement %d on d0 %v after start", i+1, time.Since(start).Round(time.Millisecond))
	}

	t.Run("query and browse", func(t *testing.T) {
		var client *pmdns.Conn
		inNS(t, ns, func() {
			l4, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(224, 0, 0, 0), Port: 5353})
			if err != nil {
				t.Fatal(err)
			}
			ifi, err := net.InterfaceByName("d0")
			if err != nil {
				t.Fatal(err)
			}
			if client, err = pmdns.NewServer(ipv4.NewPacketConn(l4), nil, pmdns.WithInterfaces(*ifi)); err != nil {
				t.Fatal(err)
			}
		})
		defer client.Close()
		qctx, qcancel := context.WithTimeout(ctx, 10*time.Second)
		defer qcancel()
		_, addr, err := client.QueryAddr(qctx, "pigw-test.local")
		if err != nil || addr != netip.MustParseAddr("10.66.0.1") {
			t.Errorf("query pigw-test.local: %v, %v; want 10.66.0.1", addr, err)
		}
		found := make(chan pmdns.ServiceEvent, 1)
		client.OnServiceDiscovered(func(e pmdns.ServiceEvent) {
			select {
			case found <- e:
			default:
			}
		})
		if err := client.Browse(qctx, "_coap._udp"); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-found:
			var txt []string
			for _, x := range e.Instance.Text {
				txt = append(txt, x.Key+"="+string(x.Value))
			}
			if e.Instance.Instance != "pigw-test" || e.Instance.Port != 5683 || e.Addr.String() != "10.66.0.1" || strings.Join(txt, " ") != "version=t1 board=ns" {
				t.Errorf("browse _coap._udp: %+v at %s, want pigw-test port 5683 at 10.66.0.1 with version=t1 board=ns", e.Instance, e.Addr)
			}
		case <-qctx.Done():
			t.Error("browse _coap._udp: nothing found in 10 s")
		}
	})

	t.Run("garbage logged at Debug", func(t *testing.T) {
		before := logged.String()
		inNS(t, ns, func() {
			c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(10, 66, 0, 1), Port: 5353})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for range 100 {
				_, _ = c.Write([]byte("not DNS"))
			}
		})
		time.Sleep(200 * time.Millisecond)
		if after := logged.String(); after != before {
			t.Errorf("100 packets that are not DNS logged at Info or above:\n%s", strings.TrimPrefix(after, before))
		}
	})

	t.Run("link added", func(t *testing.T) {
		added := time.Now()
		d1 := addLink(t, h, "d1", "10.66.1.1/24")
		if err := lis.p.JoinGroup(d1, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251)}); err != nil {
			t.Fatal(err)
		}
		if rs := lis.next(t, d1); !wantA(rs, "10.66.1.1") {
			t.Errorf("announcement on d1: %q, want pigw-test.local's address 10.66.1.1", rs)
		}
		t.Logf("announced on d1 %v after it was added", time.Since(added).Round(time.Millisecond))
	})

	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	bye := false
	for !bye {
		rs := lis.next(t, d0)
		bye = slices.Contains(rs, "pigw-test.local. A 0 flush 10.66.0.1")
	}
}
