package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/internal/freeport"
)

// TestWebAddressTaken: a page whose port is taken is a subsystem that fails and is tried
// again, never the appliance's end: CoAP answers meanwhile, and the page comes once the port
// is free.
func TestWebAddressTaken(t *testing.T) {
	blocker, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close()
	coapAddr := fmt.Sprintf("127.0.0.1:%d", freeport.MustUDP(t))
	cfg, err := config.Parse("pigw.yaml", []byte(fmt.Sprintf("coap: {listen: [%q]}\nweb: {listen: [%q]}\n", coapAddr, blocker.Addr())))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, Options{Log: slog.New(slog.DiscardHandler), Version: "test-1"}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	c := coap.NewClient(slog.New(slog.DiscardHandler))
	defer c.Close()
	s, err := c.NewSession(coapAddr, coap.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		defer rcancel()
		r, err := s.Do(rctx, coap.NewRequest(coap.GET, "sys/subsystems/web"))
		if err != nil || !strings.Contains(string(r.Payload), `"state":"restarting"`) || !strings.Contains(string(r.Payload), "address already in use") {
			return fmt.Sprintf("/sys/subsystems/web: %v %s", err, r.Payload)
		}
		return ""
	})
	blocker.Close()
	eventually(t, func() string {
		resp, err := http.Get("http://" + blocker.Addr().String() + "/api/system")
		if err != nil {
			return fmt.Sprintf("the page once its port is free: %v", err)
		}
		resp.Body.Close()
		return ""
	})
}
