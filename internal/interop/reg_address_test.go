package interop

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/lwm2mtest"
)

// TestRegistrationsFollowAddress gives pigw a new address while it is registered with an
// LwM2M server (lwm2m-node-lib) and a Resource Directory (libcoap's coap-rd-notls), each with
// a lifetime far from its next Update: the LwM2M server gets an Update from the new address at
// once, so its requests reach pigw there, and the directory gets base= with the new address
// (coap-rd answers Updates with 4.05, so pigw registers again with that base).
func TestRegistrationsFollowAddress(t *testing.T) {
	t.Parallel()
	gwNS, srvNS, ip := twoNamespaces(t, "pigwra", "ra", "10.97.0.2", "10.97.0.1")
	inSrv := []string{"ip", "netns", "exec", srvNS}
	lw := lwm2mtest.StartWith(t, lwm2mtest.Options{Host: "10.97.0.1", Prefix: inSrv})
	rd, err := launchLibcoap(t, inSrv, needTool(t, "coap-rd-notls", "libcoap3-bin"), []string{"-A", "10.97.0.1", "-p", "5683", "-v", "7"}, "10.97.0.1", 5683)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	gw := startServerOn(t, "coap:\n  listen: LISTEN\n"+fmt.Sprintf(`lwm2m:
  server: %s
  endpoint: pigw-move
  lifetime: 600s
rd:
  server: coap://10.97.0.1
  endpoint: pigw-move
  lifetime: 600s
`, lw.Addr()), []string{"0.0.0.0:5683"}, []string{"ip", "netns", "exec", gwNS})
	if reg, err := lw.Next(ctx, lwm2mtest.Register); err != nil || !strings.HasPrefix(reg.From, "10.97.0.2:") {
		t.Fatalf("register: %+v %v, want from 10.97.0.2", reg, err)
	}
	if !waitTrace(rd, "Uri-Query:base=coap://10.97.0.2:5683") {
		t.Fatalf("coap-rd saw no Register with base=coap://10.97.0.2:5683\n%s", tail(gw.Log(), 2000))
	}

	// A new lease: the old address goes, the new one comes (deleting a subnet's primary
	// address first would take the secondary with it).
	ip("-n", gwNS, "addr", "del", "10.97.0.2/24", "dev", "ra0")
	ip("-n", gwNS, "addr", "add", "10.97.0.3/24", "dev", "ra0")
	moved := time.Now()
	up, err := lw.Next(ctx, lwm2mtest.Update)
	if err != nil || !strings.HasPrefix(up.From, "10.97.0.3:") {
		t.Fatalf("after the address change: %+v %v, want an Update from 10.97.0.3\n%s", up, err, tail(gw.Log(), 2000))
	}
	t.Logf("LwM2M Update from the new address %v after the change (lifetime 600 s: the next one was due in 5 min)", up.Received.Sub(moved).Round(time.Millisecond))
	if r, err := lw.Read(ctx, "pigw-move", "/3/0/3", lwm2mtest.Text); err != nil || r.Code != "2.05" {
		t.Errorf("Read at the new address: %v %v", r, err)
	}
	if !waitTrace(rd, "Uri-Query:base=coap://10.97.0.3:5683") {
		t.Errorf("coap-rd saw no base=coap://10.97.0.3:5683 after the change\n%s", tail(gw.Log(), 2000))
	}
	rd.stop() // before pigw de-registers: coap-rd's DELETE crashes it (see TestRDSmokeNotConformance)
}

// waitTrace waits up to 10 s for substr in the libcoap server's trace.
func waitTrace(s *libcoapServer, substr string) bool {
	for deadline := time.Now().Add(10 * time.Second); !s.traceHas(substr); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
