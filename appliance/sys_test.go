package appliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/logring"
	"github.com/pigw/pigw/internal/freeport"
)

func TestRunSysResources(t *testing.T) {
	port, dport := freeport.MustUDP(t), freeport.MustUDP(t)
	cfg, err := config.Parse("pigw.yaml", []byte(fmt.Sprintf(`
coap:
  listen: ["127.0.0.1:%d"]
  dtls:
    listen: ["127.0.0.1:%d"]
    keys: {admin: adminkey, user: userkey}
    admins: [admin]
web: {listen: []}
`, port, dport)))
	if err != nil {
		t.Fatal(err)
	}
	ring := logring.New(100, nil)
	log := slog.New(slog.NewTextHandler(ring, nil))
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), cfg, Options{Log: log, Ring: ring, Version: "test-1", StateDir: t.TempDir()})
	}()
	c := coap.NewClient(slog.New(slog.DiscardHandler))
	defer c.Close()
	plain, _ := c.NewSession(fmt.Sprintf("127.0.0.1:%d", port), coap.SessionOptions{})
	get := func(s *coap.Session, method coap.Method, path string) coap.Response {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var r coap.Response
		for range 50 { // the server may not listen yet
			if r, err = s.Do(ctx, coap.NewRequest(method, path)); err == nil {
				return r
			}
		}
		t.Fatalf("%s: %v", path, err)
		return r
	}
	var info map[string]any
	if err := json.Unmarshal(get(plain, coap.GET, "sys/info").Payload, &info); err != nil || info["version"] != "test-1" || info["hostname"] == "" || info["kernel"] == "" {
		t.Errorf("info %v %v", info, err)
	}
	if l := string(get(plain, coap.GET, "sys/log").Payload); !strings.Contains(l, `msg="appliance ready"`) {
		t.Errorf("log %q", l)
	}
	conf := string(get(plain, coap.GET, "sys/config").Payload)
	if strings.Contains(conf, "adminkey") || !strings.Contains(conf, "***") {
		t.Errorf("config shows a key or masks nothing: %s", conf)
	}
	var links []map[string]any
	if err := json.Unmarshal(get(plain, coap.GET, "sys/network").Payload, &links); err != nil || len(links) == 0 {
		t.Errorf("/sys/network: %v %v", links, err)
	}
	var st map[string]any
	_ = json.Unmarshal(get(plain, coap.GET, "sys/subsystems/coap").Payload, &st)
	if st["state"] != "running" {
		t.Errorf("coap subsystem %v", st)
	}
	if r := get(plain, coap.GET, ".well-known/core"); strings.Contains(string(r.Payload), "sys/") {
		t.Errorf("/sys listed without a query: %s", r.Payload)
	}
	if r := get(plain, coap.GET, ".well-known/core?href=/sys*"); !strings.Contains(string(r.Payload), "</sys/info>") {
		t.Errorf("/sys not found by query: %s", r.Payload)
	}
	if r := get(plain, coap.POST, "sys/reboot"); r.Code != coap.Unauthorized {
		t.Errorf("plain reboot: %s", r.Code)
	}
	user, err := c.NewSession(fmt.Sprintf("127.0.0.1:%d", dport), coap.SessionOptions{Identity: "user", PSK: []byte("userkey")})
	if err != nil {
		t.Fatal(err)
	}
	if r := get(user, coap.POST, "sys/reboot"); r.Code != coap.Forbidden {
		t.Errorf("user reboot: %s", r.Code)
	}
	admin, err := c.NewSession(fmt.Sprintf("127.0.0.1:%d", dport), coap.SessionOptions{Identity: "admin", PSK: []byte("adminkey")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s    *coap.Session
		want coap.Code
	}{{plain, coap.Unauthorized}, {user, coap.Forbidden}, {admin, coap.Content}} {
		if r := get(tc.s, coap.GET, "sys/update"); r.Code != tc.want {
			t.Errorf("GET /sys/update as %s: %s %s, want %s", tc.s, r.Code, r.Payload, tc.want)
		}
	}
	// On a PC the running root is no pigw image: the status says why no update is taken.
	if r := get(admin, coap.GET, "sys/update"); !strings.Contains(string(r.Payload), `"trusted_keys":0`) {
		t.Errorf("GET /sys/update: %s", r.Payload)
	}
	if r := get(admin, coap.POST, "sys/reboot"); r.Code != coap.Changed {
		t.Errorf("admin reboot: %s", r.Code)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrReboot) {
			t.Errorf("Run returned %v, want ErrReboot", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the reboot request")
	}
}
