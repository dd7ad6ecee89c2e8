package interop

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/pigw/pigw/internal/lwm2mtest"
)

// TestLwM2MFirmware updates pigw run through LwM2M's Firmware Update object (5), on the same
// mechanism as pigw update: lwm2m-node-lib's socket pushes a package block-wise (Block1) and
// the slot holds its root; pigw pulls packages from HTTP and from libcoap's coap-server; State
// is observed through the download; bad packages and URIs end with LwM2M's Update Results;
// an empty Package goes back to Idle; Update is refused by a pigw that is not the card's
// init (the vmtest TestUpdateGood executes it on a card).
func TestLwM2MFirmware(t *testing.T) {
	t.Parallel()
	lw := lwm2mtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := startUpdateDeviceWith(t, 4<<20, fmt.Sprintf(`lwm2m:
  server: %s
  endpoint: pigw-fw
  lifetime: 60s
`, lw.Addr()))
	const ep = "pigw-fw"
	reg, err := lw.Next(ctx, lwm2mtest.Register)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(reg.Links, ","), "</5/0>") {
		t.Errorf("register links %v: no </5/0>", reg.Links)
	}
	read := func(path string) string {
		t.Helper()
		r, err := lw.Read(ctx, ep, path, lwm2mtest.Text)
		if err != nil || r.Code != "2.05" {
			t.Fatalf("Read %s: %v %v", path, r, err)
		}
		return string(r.Payload)
	}
	// waitResult waits for State and Update Result; a pull runs in the background.
	waitResult := func(state, result string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			s, r := read("/5/0/3"), read("/5/0/5")
			if s == state && r == result {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("State %s, Update Result %s; want %s and %s\n%s", s, r, state, result, tail(d.Log(), 3000))
			}
		}
	}
	if s, dm := read("/5/0/3"), read("/5/0/9"); s != "0" || dm != "2" {
		t.Errorf("State %s, Delivery Method %s: want 0 (Idle) and 2 (push and pull)", s, dm)
	}
	if r, err := lw.Observe(ctx, ep, "/5/0/3", lwm2mtest.Text); err != nil || r.Code != "2.05" {
		t.Fatalf("Observe /5/0/3: %v %v", r, err)
	}

	// Push: a package signed with a key the image does not trust, then a good one.
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	untrusted, _ := writeBundle(t, otherKey, 64<<10, nil)
	if r, _, err := lw.WriteBlocks(ctx, ep, "/5/0/0", lwm2mtest.Opaque, untrusted, 1024); err != nil || r.Code != "4.03" || !strings.Contains(string(r.Payload), "does not trust") {
		t.Errorf("push an untrusted package: %v %v, want 4.03 naming the key", r, err)
	}
	waitResult("0", "5") // integrity check failure
	good, root := writeBundle(t, d.key, 2<<20+77, nil)
	start := time.Now()
	r, blocks, err := lw.WriteBlocks(ctx, ep, "/5/0/0", lwm2mtest.Opaque, good, 1024)
	took := time.Since(start)
	if err != nil || r.Code != "2.04" {
		t.Fatalf("push the package: %v %v\n%s", r, err, tail(d.Log(), 3000))
	}
	size := len(root) + bundle.HeaderSize
	t.Logf("LwM2M push: %d bytes in %d Block1 blocks in %s, %.0f KB/s on loopback", size, blocks, took.Round(time.Millisecond), float64(size)/1e3/took.Seconds())
	if !d.slotHolds(t, root) {
		t.Fatal("the slot does not hold the pushed package's root")
	}
	waitResult("2", "0")
	if n, v := read("/5/0/6"), read("/5/0/7"); n != "pigw" || v != "v2" {
		t.Errorf("PkgName %q, PkgVersion %q: want pigw and v2", n, v)
	}
	states := map[string]bool{}
	for _, ev := range lw.Events() {
		if ev.Kind == lwm2mtest.Notify && ev.Path == "/5/0/3" {
			states[string(ev.Payload)] = true
		}
	}
	if !states["1"] || !states["2"] {
		t.Errorf("notifications of /5/0/3 showed states %v; want 1 (Downloading) and 2 (Downloaded)", states)
	}
	// Update needs the card's init; an empty Package goes back to Idle.
	if r, err := lw.Execute(ctx, ep, "/5/0/2", ""); err != nil || r.Code != "5.00" {
		t.Errorf("Execute Update on pigw run: %v %v, want 5.00 (not the card's init)", r, err)
	}
	if r, err := lw.Write(ctx, ep, "/5/0/0", lwm2mtest.Opaque, nil); err != nil || r.Code != "2.04" {
		t.Errorf("Write an empty Package: %v %v", r, err)
	}
	waitResult("0", "0")
	if r, err := lw.Execute(ctx, ep, "/5/0/2", ""); err != nil || r.Code != "4.05" {
		t.Errorf("Execute Update with nothing downloaded: %v %v, want 4.05", r, err)
	}

	// Pull over HTTP, and over CoAP from libcoap's server (PUT there by coap-client).
	pulled, root2 := writeBundle(t, d.key, 1<<20+5, func(m *bundle.Manifest) { m.Version = "v2-http" })
	web := serveFile(t, pulled)
	writeURI := func(uri, code string) {
		t.Helper()
		if r, err := lw.Write(ctx, ep, "/5/0/1", lwm2mtest.Text, []byte(uri)); err != nil || r.Code != code {
			t.Fatalf("Write /5/0/1 %s: %v %v, want %s", uri, r, err, code)
		}
	}
	writeURI(web+"/pigw.update", "2.04")
	waitResult("2", "0")
	if !d.slotHolds(t, root2) || read("/5/0/7") != "v2-http" || read("/5/0/1") != web+"/pigw.update" {
		t.Errorf("after the HTTP pull: slot, PkgVersion %q or Package URI %q wrong", read("/5/0/7"), read("/5/0/1"))
	}
	viaCoAP, root3 := writeBundle(t, d.key, 1<<20+9, func(m *bundle.Manifest) { m.Version = "v2-coap" })
	cs := startLibcoap(t, "coap-server-notls")
	if last := coapClient(t, "-m", "put", "-b", "1024", "-f", viaCoAP, cs.URL("fw")).Last(t); last.Code != "2.01" {
		t.Fatalf("put the package on coap-server: %s", last.Line)
	}
	writeURI(cs.URL("fw"), "2.04")
	waitResult("2", "0")
	if !d.slotHolds(t, root3) || read("/5/0/7") != "v2-coap" {
		t.Errorf("after the CoAP pull: slot, or PkgVersion %q, wrong", read("/5/0/7"))
	}

	// URIs that cannot be had: 9 an unsupported protocol (refused: the package stays), 7
	// nothing there, 4 the connection.
	writeURI("ftp://127.0.0.1/pigw.update", "4.00")
	waitResult("2", "9")
	writeURI(web+"/missing", "2.04")
	waitResult("0", "7")
	writeURI(cs.URL("missing"), "2.04")
	waitResult("0", "7")
	closed := freePort(t)
	writeURI(fmt.Sprintf("http://127.0.0.1:%d/pigw.update", closed), "2.04")
	waitResult("0", "4")
}

// serveFile serves the file at path over HTTP on loopback at every path but /missing, and
// returns the server's URL.
func serveFile(t *testing.T, path string) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, path)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}
