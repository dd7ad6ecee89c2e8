package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeSource is a Source whose data a test sets.
type fakeSource struct {
	mu    sync.Mutex
	snap  Snapshot
	lines []LogLine
	n     Notifier
}

func newFakeSource() *fakeSource {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	return &fakeSource{snap: Snapshot{
		System: System{Hostname: "pigw-test", Version: "v1.2.3", Board: "Raspberry Pi 4 Model B", Kernel: "6.6.31 #1",
			UptimeSeconds: 3725, Memory: Memory{TotalBytes: 4 << 30, AvailableBytes: 3 << 30, GoBytes: 12 << 20, GoHeapBytes: 4 << 20},
			Storage: &Storage{Path: "/perm/pigw", TotalBytes: 1 << 30, FreeBytes: 900 << 20}},
		Network: Network{
			Links: []Link{{Name: "lo", Up: true, MTU: 65536, Addresses: []string{"127.0.0.1/8", "::1/128"}},
				{Name: "wlan0", Up: true, MAC: "dc:a6:32:00:00:01", MTU: 1500, Addresses: []string{"192.168.1.23/24"}, DHCP: "bound",
					Lease: &Lease{Address: "192.168.1.23/24", Router: "192.168.1.1", Server: "192.168.1.1", Expires: at.Add(time.Hour)}}},
			Wifi: &Wifi{Interface: "wlan0", State: "completed", SSID: "home-net", SignalDBm: -52, Frequency: 2437, Since: at},
		},
		Subsystems: []Subsystem{{Name: "coap", State: "running", Since: at, LastLog: `level=INFO msg="listening" addr=0.0.0.0:5683`},
			{Name: "sessions", State: "restarting", Restarts: 2, LastError: "peer unreachable", Since: at}},
		Sensors: []Sensor{{Name: "room", Readings: []Reading{{Quantity: "temperature", Value: 21.5, Unit: "Cel"},
			{Quantity: "humidity", Value: 48, Unit: "%RH"}}, At: at, AgeSeconds: 4}},
		GPIO:      []Pin{{Name: "led", Direction: "out", Level: "1"}, {Name: "button", Direction: "in", Level: "0"}},
		Resources: []Resource{{URI: "resource1", MediaType: "text/plain", Methods: "GET PUT", Value: "default_value", Size: 13}},
		Sessions: []Session{{Name: "upstream", Peer: "coap://192.168.1.5", State: "connected",
			Requests: []LastRequest{{Request: "report", Method: "POST", Path: "readings", At: at, Code: "2.04", Payload: "ok"}}}},
		Registrations: []Registration{{Kind: "rd", Server: "coap://rd.example.net", Endpoint: "pigw-test", Registered: true,
			Location: "rd/4521", Lifetime: 90000, LastUpdate: at, NextUpdate: at.Add(89753 * time.Second)}},
		Counters: Counters{Requests: 42, Observers: 1, Rejected: 3, Events: map[string]uint64{"rejected": 3, "malformed": 0}},
	}}
}

func (f *fakeSource) Snapshot() Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeSource) LogAfter(seq uint64, max int) ([]LogLine, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []LogLine
	for _, l := range f.lines {
		if l.Seq > seq {
			out = append(out, l)
		}
	}
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return out, uint64(len(f.lines))
}

func (f *fakeSource) Changed() <-chan struct{} { return f.n.C() }

// set changes a copy of the snapshot (streams may be reading the old one), and tells the
// streams.
func (f *fakeSource) set(change func(*Snapshot)) {
	f.mu.Lock()
	b, err := json.Marshal(f.snap)
	var c Snapshot
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		panic(err) // the test's own data
	}
	change(&c)
	f.snap = c
	f.mu.Unlock()
	f.n.Notify()
}

// logf adds a log line.
func (f *fakeSource) logf(format string, args ...any) {
	f.mu.Lock()
	f.lines = append(f.lines, LogLine{Seq: uint64(len(f.lines) + 1), Text: fmt.Sprintf(format, args...)})
	f.mu.Unlock()
	f.n.Notify()
}

// newTestServer is a Server on src, served by httptest.
func newTestServer(t *testing.T, src Source, limits Limits) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Config{Source: src, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

// runServer runs s with Run on 127.0.0.1:0 and returns its address.
func runServer(t *testing.T, src Source, limits Limits) (*Server, string) {
	t.Helper()
	s, err := New(Config{Listen: []string{"127.0.0.1:0"}, Source: src, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if a := s.Addrs(); len(a) > 0 {
			return s, a[0].String()
		}
	}
	t.Fatal("the server did not listen")
	return nil, ""
}
