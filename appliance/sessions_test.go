package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/internal/syncbuf"
)

// TestSessions runs the tutorial's client requests against a pigw server on loopback, and one
// session towards a port that never answers.
func TestSessions(t *testing.T) {
	peerSrv, err := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = peerSrv.AddResource("time", coap.WithValue([]byte("12:00")), coap.WithMethods(coap.GET|coap.PUT))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = peerSrv.Listen()
	go peerSrv.Serve(ctx)
	silent, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer silent.Close()

	cfg, err := config.Parse("test.yaml", []byte(fmt.Sprintf(`
sessions:
  - name: peer
    peer: coap://%s
    requests:
      - {name: core, path: .well-known/core, token: session1}
      - {name: put, method: PUT, path: time, content_format: text/plain, payload: ABCD, token: token3}
      - {name: tick, path: time, every: 100ms}
  - name: silent
    peer: coap://%s
    requests:
      - {path: x, timeout: 100ms}
`, peerSrv.Addrs()[0], silent.LocalAddr())))
	if err != nil {
		t.Fatal(err)
	}
	cfg.CoAP.Listen = []string{"127.0.0.1:0"}
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	srv, err := newCoAPServer(&cfg.CoAP, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := newSessions(cfg.Sessions, srv, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- ss.Run(ctx) }()

	value := func(uri string) map[string]any {
		var m map[string]any
		_ = json.Unmarshal(srv.Resource(uri).Value(), &m)
		return m
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if value("sys/sessions/peer/core")["code"] == "2.05" && value("sys/sessions/silent/r0")["error"] != nil &&
			strings.Count(logs.String(), "request=tick") >= 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	core := value("sys/sessions/peer/core")
	if core["code"] != "2.05" || core["token"] != "73657373696f6e31" || !strings.Contains(fmt.Sprint(core["payload"]), "</time>") {
		t.Errorf("core: %v", core)
	}
	if put := value("sys/sessions/peer/put"); put["code"] != "2.04" || string(peerSrv.Resource("time").Value()) != "ABCD" {
		t.Errorf("put: %v", put)
	}
	if e := fmt.Sprint(value("sys/sessions/silent/r0")["error"]); !strings.Contains(e, "timeout") {
		t.Errorf("silent: %v", e)
	}
	summary := value("sys/sessions/peer")
	if summary["state"] != "connected" || len(summary["requests"].(map[string]any)) != 3 {
		t.Errorf("summary %v", summary)
	}
	for _, want := range []string{
		`msg=response session=peer request=core peer=127.0.0.1:`,
		`code=2.05 mid=`, `type=ACK token=73657373696f6e31 payload=`, `</time>;`,
		`msg="no response" session=silent request=r0`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if n := strings.Count(logs.String(), "request=tick"); n < 3 {
		t.Errorf("periodic request logged %d times", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}
