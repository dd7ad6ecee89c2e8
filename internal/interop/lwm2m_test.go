package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/lwm2mtest"
	"github.com/pigw/pigw/internal/netnstest"
)

// TestLwM2MClient runs pigw run as an LwM2M client of lwm2m-node-lib (internal/lwm2mtest):
// the Register the server saw, Reads of the device and of a sensor's value equal to
// /sensors, a written lifetime and the Update Trigger making Updates, /sys/lwm2m, and the
// De-register when pigw stops.
func TestLwM2MClient(t *testing.T) {
	t.Parallel()
	lw := lwm2mtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	gw := startServer(t, seedConfig("")+fmt.Sprintf(`lwm2m:
  server: %s
  endpoint: pigw-lw
  lifetime: 30s
sensors:
  - {name: room, kind: simulated, interval: 1h}
`, lw.Addr()))

	reg, err := lw.Next(ctx, lwm2mtest.Register)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("register: query %v, links %v", reg.Query, reg.Links)
	if reg.Endpoint != "pigw-lw" || reg.Lifetime != "30" || reg.Version != "1.1" || reg.Binding != "U" || reg.Format != 40 {
		t.Errorf("register %+v: want ep=pigw-lw, lt=30, lwm2m=1.1, b=U, link-format", reg)
	}
	for _, want := range []string{"</1/0>", "</3/0>", "</3303/0>", "</3304/0>", "</3315/0>"} {
		if !slices.Contains(reg.Links, want) {
			t.Errorf("register links %v: no %s", reg.Links, want)
		}
	}
	if slices.ContainsFunc(reg.Links, func(l string) bool { return strings.HasPrefix(l, "</0") }) {
		t.Errorf("register links %v: object 0 is never listed", reg.Links)
	}

	// Read: the device, and the temperature /sensors/room/temperature shows.
	if r, err := lw.Read(ctx, "pigw-lw", "/3/0/3", lwm2mtest.Text); err != nil || r.Code != "2.05" || string(r.Payload) != "dev" {
		t.Errorf("Read /3/0/3: %v %v, want 2.05 dev (pigw's version)", r, err)
	}
	var temp string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r, err := lw.Read(ctx, "pigw-lw", "/3303/0/5700", lwm2mtest.Text)
		if err == nil && r.Code == "2.05" {
			temp = string(r.Payload)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Read /3303/0/5700: %v %v", r, err)
		}
	}
	got, _ := strconv.ParseFloat(temp, 64)
	sensor := strings.Fields(coapClient(t, "-m", "get", gw.URL("sensors/room/temperature")).Last(t).Payload)
	if want, _ := strconv.ParseFloat(sensor[0], 64); len(sensor) == 0 || got != want {
		t.Errorf("Read /3303/0/5700 = %s, /sensors/room/temperature = %v: want the same reading", temp, sensor)
	}

	// A written lifetime is sent in an Update; the Update Trigger sends one at once.
	if r, err := lw.Write(ctx, "pigw-lw", "/1/0/1", lwm2mtest.Text, []byte("20")); err != nil || r.Code != "2.04" {
		t.Fatalf("Write /1/0/1 20: %v %v", r, err)
	}
	if up, err := lw.Next(ctx, lwm2mtest.Update); err != nil || up.Lifetime != "20" {
		t.Errorf("after Write /1/0/1: %+v %v, want an Update with lt=20", up, err)
	}
	if r, err := lw.Execute(ctx, "pigw-lw", "/1/0/8", ""); err != nil || r.Code != "2.04" {
		t.Fatalf("Execute /1/0/8: %v %v", r, err)
	}
	if up, err := lw.Next(ctx, lwm2mtest.Update); err != nil || up.Lifetime != "" {
		t.Errorf("after Execute /1/0/8: %+v %v, want an Update without lt=", up, err)
	}

	var st struct {
		Registered bool
		Location   string
		Lifetime   int
	}
	r := coapClient(t, "-m", "get", gw.URL("sys/lwm2m"))
	if err := json.Unmarshal([]byte(r.Last(t).Payload), &st); err != nil || !st.Registered || st.Location != reg.Location || st.Lifetime != 20 {
		t.Errorf("/sys/lwm2m: %+v %v, want registered at %s with lifetime 20", st, err, reg.Location)
	}

	gw.Stop()
	if _, err := lw.Next(ctx, lwm2mtest.Deregister); err != nil {
		t.Errorf("no De-register when pigw stopped: %v", err)
	}
	if !regexp.MustCompile(`msg="registering with the LwM2M server"`).MatchString(gw.Log()) {
		t.Errorf("pigw's log does not say it registers")
	}
}

// TestLwM2MServerLoss: the server restarted empty answers pigw's next Update with 4.04 and
// pigw registers again; pigw killed (no De-register) lets the registration expire at the
// server.
func TestLwM2MServerLoss(t *testing.T) {
	t.Parallel()
	lw := lwm2mtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	gw := startServer(t, seedConfig("")+fmt.Sprintf("lwm2m:\n  server: %s\n  endpoint: pigw-loss\n  lifetime: 10s\n", lw.Addr()))
	if _, err := lw.Next(ctx, lwm2mtest.Register); err != nil {
		t.Fatal(err)
	}
	lw.Stop()
	restarted := time.Now()
	lw = lwm2mtest.StartOn(t, lw.Port())
	reg, err := lw.Next(ctx, lwm2mtest.Register)
	if err != nil || reg.Endpoint != "pigw-loss" {
		t.Fatalf("no Register with the restarted server: %+v %v\n%s", reg, err, gw.Log())
	}
	t.Logf("registered again %v after the server restarted (lifetime 10 s: the Update is due after 5 s)", time.Since(restarted).Round(time.Millisecond))
	// pigw writes the line before it registers again, but its log reaches the test through
	// another pipe than the harness's events: wait for it.
	gw.waitLog(regexp.MustCompile(`msg="update failed, registering again"`), 5*time.Second)

	gw.Kill()
	killed := time.Now()
	exp, err := lw.Next(ctx, lwm2mtest.Expire)
	if err != nil || exp.Endpoint != "pigw-loss" {
		t.Fatalf("the registration did not expire after pigw was killed: %+v %v", exp, err)
	}
	t.Logf("expired %v after pigw was killed", time.Since(killed).Round(time.Millisecond))
	if slices.ContainsFunc(lw.Events(), func(e lwm2mtest.Event) bool { return e.Kind == lwm2mtest.Deregister }) {
		t.Errorf("a killed pigw de-registered")
	}
}

// TestLwM2MLinkDown puts pigw and the LwM2M server in two network namespaces joined by a veth
// pair, and takes pigw's link down for longer than the lifetime: the server lets the
// registration expire, and once the link is up again pigw's Update meets a server that no
// longer knows it, and pigw registers again.
func TestLwM2MLinkDown(t *testing.T) {
	t.Parallel()
	gwNS, srvNS, ip := twoNamespaces(t, "pigwlw", "lw", "10.98.0.2", "10.98.0.1")
	lw := lwm2mtest.StartWith(t, lwm2mtest.Options{Host: "10.98.0.1", Prefix: []string{"ip", "netns", "exec", srvNS}})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	startServerOn(t, seedConfig("")+fmt.Sprintf("lwm2m:\n  server: %s\n  endpoint: pigw-link\n  lifetime: 10s\n", lw.Addr()),
		nil, []string{"ip", "netns", "exec", gwNS})
	if _, err := lw.Next(ctx, lwm2mtest.Register); err != nil {
		t.Fatal(err)
	}
	ip("-n", gwNS, "link", "set", "lw0", "down")
	down := time.Now()
	if _, err := lw.Next(ctx, lwm2mtest.Expire); err != nil {
		t.Fatalf("the registration did not expire while the link was down: %v", err)
	}
	t.Logf("expired %v after the link went down", time.Since(down).Round(time.Millisecond))
	time.Sleep(15*time.Second - time.Since(down)) // down for longer than the lifetime
	ip("-n", gwNS, "link", "set", "lw0", "up")
	up := time.Now()
	reg, err := lw.Next(ctx, lwm2mtest.Register)
	if err != nil || reg.Endpoint != "pigw-link" {
		t.Fatalf("pigw did not register again after the link came back: %+v %v", reg, err)
	}
	t.Logf("registered again %v after the link came up (%v after it went down)", time.Since(up).Round(time.Millisecond),
		time.Since(down).Round(time.Millisecond))
}

// twoNamespaces makes a client's and a server's network namespace joined by a veth pair,
// <link>0 with clientAddr/24 and <link>1 with serverAddr/24, every link up; ip runs ip(8)
// and fails the test on an error.
func twoNamespaces(t *testing.T, prefix, link, clientAddr, serverAddr string) (clientNS, serverNS string, ip func(args ...string)) {
	t.Helper()
	clientNS, _, _ = netnstest.New(t, prefix+"-c-")
	serverNS, _, _ = netnstest.New(t, prefix+"-s-")
	ip = func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	ip("-n", clientNS, "link", "add", link+"0", "type", "veth", "peer", "name", link+"1", "netns", serverNS)
	ip("-n", clientNS, "addr", "add", clientAddr+"/24", "dev", link+"0")
	ip("-n", serverNS, "addr", "add", serverAddr+"/24", "dev", link+"1")
	for _, ns := range []string{clientNS, serverNS} {
		ip("-n", ns, "link", "set", "lo", "up")
	}
	ip("-n", clientNS, "link", "set", link+"0", "up")
	ip("-n", serverNS, "link", "set", link+"1", "up")
	return clientNS, serverNS, ip
}
