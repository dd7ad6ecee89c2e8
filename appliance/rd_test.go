package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/registration"
)

func TestServedPort(t *testing.T) {
	for _, tt := range []struct {
		listen []string
		local  string
		want   uint16
	}{
		{[]string{"0.0.0.0:5683", "[::]:5683"}, "192.168.1.5", 5683},
		{[]string{"127.0.0.1:5683", "0.0.0.0:5685"}, "192.168.1.5", 5685},
		{[]string{"127.0.0.1:5683", "0.0.0.0:5685"}, "127.0.0.1", 5683},
		{[]string{"[::]:5687"}, "192.168.1.5", 0}, // pigw's IPv6 sockets take no IPv4
		{[]string{"[::]:5687"}, "fd00::5", 5687},
		{[]string{"[fe80::1%eth0]:5689", "192.168.1.5:5690"}, "fe80::1", 5689},
		{[]string{"10.0.0.1:5683"}, "192.168.1.5", 0},
	} {
		if got := servedPort(tt.listen, netip.MustParseAddr(tt.local)); got != tt.want {
			t.Errorf("servedPort(%v, %s) = %d, want %d", tt.listen, tt.local, got, tt.want)
		}
	}
}

// A directory that lists no registration resource (here a pigw server, which has none) is
// retried and shown in /sys/rd, and Run ends without an error when stopped: a directory
// that is down is not the appliance's failure.
func TestRDWithoutRegistrationResource(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	dir, err := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = dir.Listen()
	go dir.Serve(ctx)

	srv, err := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("pigw.yaml", []byte(fmt.Sprintf("rd: {server: coap://%s, endpoint: pigw-test}\n", dir.Addrs()[0])))
	if err != nil {
		t.Fatal(err)
	}
	regs := newRegistrations(func() {})
	rd, err := newRDRegistrar(cfg, srv, regs, log)
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rd.Run(rctx) }()
	var st registration.State
	for deadline := time.Now().Add(10 * time.Second); st.LastError == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("/sys/rd shows no error: %+v", st)
		}
		_ = json.Unmarshal(rd.res.Value(), &st)
	}
	if !strings.Contains(st.LastError, "rt=core.rd") || st.Registered || st.Endpoint != "pigw-test" {
		t.Errorf("/sys/rd: %+v, want not registered, the error naming rt=core.rd", st)
	}
	t.Logf("/sys/rd: %s", rd.res.Value())
	if page := regs.status(); len(page) != 1 || page[0].Kind != "rd" || page[0].LastError != st.LastError {
		t.Errorf("the status page's registrations: %+v, want the rd one with its error", page)
	}
	rcancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v, want nil: the directory's failure is not the appliance's", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end after its context")
	}
}
