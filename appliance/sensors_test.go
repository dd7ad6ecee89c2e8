package appliance

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/sensors"
	"github.com/pigw/pigw/sensors/senml"
)

// A simulated sensor sampled into resources: every format by Accept, a resource per quantity
// with its unit in /.well-known/core, and a failure answered 5.03.
func TestSensorResources(t *testing.T) {
	srv, err := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	sr, err := newSensorResources(srv, []string{"room"}, "testhost", log)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	smp := sensors.NewSampler([]sensors.Spec{{Name: "room", Kind: "simulated", Interval: 10 * time.Millisecond,
		Params: sensors.Params{Now: func() time.Time { return now }}}}, sr, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sctx, scancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = smp.Run(sctx); close(done) }()
	_ = srv.Listen()
	go srv.Serve(ctx)
	c := coap.NewClient(log)
	defer c.Close()
	s, _ := c.NewSession(srv.Addrs()[0].String(), coap.SessionOptions{})
	get := func(path string, accept coap.MediaType) coap.Response {
		t.Helper()
		req := coap.NewRequest(coap.GET, path)
		req.Accept = accept
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		defer rcancel()
		for {
			r, err := s.Do(rctx, req)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if r.Code == coap.Content || rctx.Err() != nil {
				return r
			}
			time.Sleep(10 * time.Millisecond) // no reading yet
		}
	}
	if r := get("sensors/room", coap.TextPlain); !strings.Contains(string(r.Payload), "temperature ") || !strings.Contains(string(r.Payload), " Cel\n") {
		t.Errorf("text %q", r.Payload)
	}
	recs, err := senml.DecodeJSON(get("sensors/room", coap.AppSenMLJSON).Payload)
	if err != nil || len(recs) != 3 || recs[0].BaseName != "urn:dev:pigw:testhost:room:" {
		t.Errorf("SenML JSON %+v %v", recs, err)
	}
	crecs, err := senml.DecodeCBOR(get("sensors/room", coap.AppSenMLCBOR).Payload)
	if err != nil || len(crecs) != 3 {
		t.Errorf("SenML CBOR %+v %v", crecs, err)
	}
	if r := get("sensors/room/temperature", coap.AppJSON); !strings.Contains(string(r.Payload), `"unit":"Cel"`) {
		t.Errorf("quantity JSON %q", r.Payload)
	}
	lf := srv.LinkFormat()
	for _, want := range []string{`</sensors/room>;rt="pigw.sensor";if="core.s";ct="0 50 110 112";obs`, `</sensors/room/temperature>;rt="temperature";if="core.s";unit="Cel";ct="0 50 110 112";obs`} {
		if !strings.Contains(lf, want) {
			t.Errorf("link format lacks %s:\n%s", want, lf)
		}
	}
	scancel() // the sampler stops, then the sensor fails
	<-done
	sr.Fail("room", errors.New("bme280 at 0x76: read: NACK"), time.Now().Add(-42*time.Second))
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	r, err := s.Do(rctx, coap.NewRequest(coap.GET, "sensors/room/humidity"))
	if err != nil || r.Code != coap.Unavailable || string(r.Payload) != "room: bme280 at 0x76: read: NACK; last good value 42s ago" {
		t.Errorf("failing sensor: %v %s %q", err, r.Code, r.Payload)
	}
}
