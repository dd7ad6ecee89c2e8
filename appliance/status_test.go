package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/logring"
	"github.com/pigw/pigw/appliance/web"
	"github.com/pigw/pigw/internal/freeport"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// runWithPage runs the appliance on yaml (COAP and WEB replaced by free ports) until the test
// ends, and returns the page's base URL and the CoAP address.
func runWithPage(t *testing.T, yaml string) (base, coapAddr string, stateDir string) {
	t.Helper()
	coapAddr = fmt.Sprintf("127.0.0.1:%d", freeport.MustUDP(t))
	webAddr := fmt.Sprintf("127.0.0.1:%d", freeport.MustTCP(t))
	yaml = strings.NewReplacer("COAP", coapAddr, "WEB", webAddr).Replace(yaml)
	cfg, err := config.Parse("pigw.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ring := logring.New(200, nil)
	stateDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{Log: slog.New(slog.NewTextHandler(ring, nil)), Ring: ring, Version: "test-1", StateDir: stateDir})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	base = "http://" + webAddr
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/api/system"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page is not served on %s:\n%s", webAddr, ring.String())
		}
	}
	return base, coapAddr, stateDir
}

// getJSON fetches url into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, b)
	}
}

// eventually polls check until it returns "" (done) or 20 s passed (then fails with its last
// word).
func eventually(t *testing.T, check func() string) {
	t.Helper()
	var why string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if why = check(); why == "" {
			return
		}
	}
	t.Fatal(why)
}

const statusYAML = `coap:
  listen: ["COAP"]
  dynamic_resources: true
  resources:
    - {uri: resource1, media_type: text/plain, value: default_value, methods: [GET, PUT]}
sensors:
  - {name: room, kind: simulated, interval: 100ms}
gpio:
  - {name: led, pin: GPIO27, direction: out}
sessions:
  - name: self
    peer: coap://COAP
    requests:
      - {name: read, path: resource1, every: 200ms}
web:
  listen: ["WEB"]
`

// TestStatusData: the page's data comes from the running appliance: system, storage,
// subsystems with their last line, sensors with unit and age, pins, resources (not the
// appliance's own; binary as hex, long ones cut), sessions with their last response, counters
// and the log.
func TestStatusData(t *testing.T) {
	base, coapAddr, stateDir := runWithPage(t, statusYAML)
	c := coap.NewClient(slog.New(slog.DiscardHandler))
	defer c.Close()
	s, err := c.NewSession(coapAddr, coap.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(path string, v []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rq := coap.NewRequest(coap.PUT, path)
		rq.Payload = v
		if r, err := s.Do(ctx, rq); err != nil || r.Code != coap.Changed && r.Code != coap.Code(codes.Created) {
			t.Fatalf("PUT %s: %v %v", path, r.Code, err)
		}
	}
	put("binary", []byte{0xff, 0x00, 0x01})
	put("long", []byte(strings.Repeat("é", 200))) // 400 bytes

	var sys web.System
	getJSON(t, base+"/api/system", &sys)
	if sys.Version != "test-1" || sys.Hostname == "" || sys.Kernel == "" || sys.Memory.TotalBytes == 0 || sys.Memory.GoBytes == 0 ||
		sys.Storage == nil || sys.Storage.Path != stateDir || sys.Storage.TotalBytes == 0 {
		t.Errorf("/api/system: %+v %+v", sys, sys.Storage)
	}
	eventually(t, func() string {
		var subs []web.Subsystem
		getJSON(t, base+"/api/subsystems", &subs)
		states := map[string]web.Subsystem{}
		for _, s := range subs {
			states[s.Name] = s
		}
		for _, n := range []string{"coap", "sessions", "sensors", "web"} {
			if states[n].State != "running" {
				return fmt.Sprintf("subsystem %s: %+v", n, states[n])
			}
		}
		if !strings.Contains(states["coap"].LastLog, "msg=") || !strings.Contains(states["web"].LastLog, "status page") {
			return fmt.Sprintf("last lines: coap %q, web %q", states["coap"].LastLog, states["web"].LastLog)
		}
		return ""
	})
	var res struct {
		Sensors   []web.Sensor   `json:"sensors"`
		GPIO      []web.Pin      `json:"gpio"`
		Resources []web.Resource `json:"resources"`
	}
	eventually(t, func() string {
		getJSON(t, base+"/api/resources", &res)
		if len(res.Sensors) != 1 || len(res.Sensors[0].Readings) == 0 || res.Sensors[0].At.IsZero() || res.Sensors[0].Readings[0].Unit == "" {
			return fmt.Sprintf("sensors: %+v", res.Sensors)
		}
		return ""
	})
	if len(res.GPIO) != 1 || res.GPIO[0].Name != "led" || res.GPIO[0].Direction != "out" || res.GPIO[0].Failure == "" && res.GPIO[0].Level == "" {
		t.Errorf("gpio: %+v", res.GPIO)
	}
	byURI := map[string]web.Resource{}
	for _, r := range res.Resources {
		byURI[r.URI] = r
		if strings.HasPrefix(r.URI, "sys/") || strings.HasPrefix(r.URI, "sensors/") || strings.HasPrefix(r.URI, "gpio/") {
			t.Errorf("resource %s listed with the user's", r.URI)
		}
	}
	if r := byURI["resource1"]; r.Value != "default_value" || r.MediaType != "text/plain" || r.Methods != "GET PUT" || r.Dynamic {
		t.Errorf("resource1: %+v", r)
	}
	if r := byURI["binary"]; r.Value != "ff0001" || !r.Hex || !r.Dynamic || r.Size != 3 {
		t.Errorf("binary: %+v", r)
	}
	if r := byURI["long"]; len(r.Value) != 256 || !r.Truncated || r.Size != 400 || r.Hex {
		t.Errorf("long: %d bytes shown, %+v", len(r.Value), r)
	}
	eventually(t, func() string {
		var ss []web.Session
		getJSON(t, base+"/api/sessions", &ss)
		if len(ss) != 1 || ss[0].State != "connected" || len(ss[0].Requests) != 1 || ss[0].Requests[0].Code != "2.05" ||
			ss[0].Requests[0].Payload != "default_value" {
			return fmt.Sprintf("sessions: %+v", ss)
		}
		return ""
	})
	var ctr web.Counters
	getJSON(t, base+"/api/counters", &ctr)
	if ctr.Requests < 2 || ctr.Events == nil {
		t.Errorf("counters: %+v", ctr)
	}
	var net web.Network
	getJSON(t, base+"/api/network", &net)
	if !strings.Contains(fmt.Sprint(net.Links), "127.0.0.1/8") {
		t.Errorf("network: %+v", net)
	}
	var lg struct{ Lines []web.LogLine }
	getJSON(t, base+"/api/log", &lg)
	if !strings.Contains(fmt.Sprint(lg.Lines), "appliance ready") {
		t.Errorf("log: %+v", lg)
	}
}
