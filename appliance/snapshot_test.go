package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/sensors"
	"github.com/pigw/pigw/sensors/senml"
)

// TestSessionSendsReadings: a session request with sensors POSTs SenML snapshots to a
// collector: nothing while no sensor has a reading, then every sensor with one, each under
// its own base name; a failing sensor is left out.
func TestSessionSendsReadings(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	var mu sync.Mutex
	var got []coap.Incoming
	collector, err := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = collector.AddResource("collect", coap.WithHandler(coap.POST, func(in coap.Incoming) coap.Answer {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, in)
		return coap.Answer{Code: coap.Changed}
	}))
	_ = collector.Listen()
	go collector.Serve(ctx)
	received := func() []coap.Incoming {
		mu.Lock()
		defer mu.Unlock()
		return append([]coap.Incoming(nil), got...)
	}

	cfg, err := config.Parse("test.yaml", []byte(fmt.Sprintf(`
sensors:
  - {name: room, kind: simulated}
  - {name: cellar, kind: simulated}
sessions:
  - name: up
    peer: coap://%s
    requests:
      - {method: POST, path: collect, sensors: ["*"], content_format: 112, every: 100ms}
`, collector.Addrs()[0])))
	if err != nil {
		t.Fatal(err)
	}
	cfg.CoAP.Listen = []string{"127.0.0.1:0"}
	srv, err := newCoAPServer(&cfg.CoAP, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := newSensorResources(srv, []string{"room", "cellar"}, "gw", log)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := newSessions(cfg.Sessions, srv, sr.Snapshot, log)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ss.Run(ctx) }()

	time.Sleep(300 * time.Millisecond)
	if n := len(received()); n != 0 {
		t.Fatalf("%d requests before any reading, want none", n)
	}
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	sr.Publish("cellar", sensors.Sample{Time: at, Readings: []sensors.Reading{{Quantity: sensors.Quantity{Name: "temperature", Unit: "Cel"}, Value: 11.5}}})
	waitFor := func(what string, ok func(recs []senml.Record) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			r := received()
			if len(r) == 0 {
				continue
			}
			last := r[len(r)-1]
			if last.ContentFormat != coap.AppSenMLCBOR {
				t.Fatalf("content format %v, want SenML CBOR", last.ContentFormat)
			}
			recs, err := senml.DecodeCBOR(last.Payload)
			if err != nil {
				t.Fatalf("collector got % x: %v", last.Payload, err)
			}
			if ok(recs) {
				return
			}
		}
		t.Fatalf("collector never got %s; last of %d: %v", what, len(received()), received())
	}
	waitFor("the cellar alone", func(r []senml.Record) bool {
		return len(r) == 1 && r[0].BaseName == "urn:dev:pigw:gw:cellar:" && *r[0].Value == 11.5 && senml.Time(r[0].BaseTime).Equal(at)
	})
	sr.Publish("room", sensors.Sample{Time: at.Add(time.Second), Readings: []sensors.Reading{
		{Quantity: sensors.Quantity{Name: "temperature", Unit: "Cel"}, Value: 21}, {Quantity: sensors.Quantity{Name: "humidity", Unit: "%RH"}, Value: 40}}})
	waitFor("both, in the config's order", func(r []senml.Record) bool {
		return len(r) == 3 && r[0].BaseName == "urn:dev:pigw:gw:room:" && r[1].Name == "humidity" && r[2].BaseName == "urn:dev:pigw:gw:cellar:"
	})
	sr.Fail("room", errors.New("NACK"), at)
	waitFor("the cellar alone again", func(r []senml.Record) bool { return len(r) == 1 && strings.HasSuffix(r[0].BaseName, ":cellar:") })
}
