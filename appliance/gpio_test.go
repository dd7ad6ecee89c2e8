package appliance

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func TestGPIOResources(t *testing.T) {
	led := &gpiotest.Pin{N: "GPIO17", Num: 17}
	button := &gpiotest.Pin{N: "GPIO27", Num: 27, L: gpio.High, EdgesChan: make(chan gpio.Level, 4)}
	open := func(name string, _ bool) (gpio.PinIO, error) {
		switch name {
		case "GPIO17":
			return led, nil
		case "GPIO27":
			return button, nil
		}
		return nil, errors.New("gpio: pin " + name + ": no GPIO on this machine")
	}
	cfg := []config.GPIO{
		{Name: "led", Pin: "GPIO17", Direction: config.GPIOOut, Restart: config.RestartLast},
		{Name: "button", Pin: "GPIO27", Direction: config.GPIOIn, Pull: config.PullUp, Edge: config.EdgeBoth},
		{Name: "absent", Pin: "GPIO5", Direction: config.GPIOIn},
	}
	log := slog.New(slog.DiscardHandler)
	state := t.TempDir()
	srv, _ := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: log})
	pins, err := newGPIO(cfg, srv, state, log, open)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = srv.Listen()
	go srv.Serve(ctx)
	c := coap.NewClient(log)
	defer c.Close()
	s, _ := c.NewSession(srv.Addrs()[0].String(), coap.SessionOptions{})
	do := func(m coap.Method, path, payload string) coap.Response {
		t.Helper()
		req := coap.NewRequest(m, path)
		req.Payload = []byte(payload)
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		defer rcancel()
		r, err := s.Do(rctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tt := range []struct {
		payload, want string
		code          coap.Code
		pin           gpio.Level
	}{
		{"1", "1", coap.Changed, gpio.High},
		{"toggle", "0", coap.Changed, gpio.Low},
		{" ON ", "1", coap.Changed, gpio.High},
		{"maybe", "", coap.BadRequest, gpio.High},
	} {
		r := do(coap.PUT, "gpio/led", tt.payload)
		if r.Code != tt.code || (tt.want != "" && string(r.Payload) != tt.want) || led.Read() != tt.pin {
			t.Errorf("PUT %q: %s %q, pin %v", tt.payload, r.Code, r.Payload, led.Read())
		}
	}
	if r := do(coap.GET, "gpio/led", ""); string(r.Payload) != "1" {
		t.Errorf("GET led %q", r.Payload)
	}
	// The input: its level, then a change reaches observers.
	got := make(chan string, 4)
	if _, err := s.Observe(ctx, "gpio/button", func(r coap.Response) { got <- string(r.Payload) }); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != "1" {
		t.Errorf("button at first %q, before its watcher runs", v)
	}
	go pins.Run(ctx)
	if v := <-got; v != "1" { // the watcher's first level
		t.Errorf("button when watched %q", v)
	}
	button.Lock() // the fake's fields are guarded by its mutex
	button.L = gpio.Low
	button.Unlock()
	button.EdgesChan <- gpio.Low
	select {
	case v := <-got:
		if v != "0" {
			t.Errorf("button after the press %q", v)
		}
	case <-time.After(3 * time.Second):
		t.Error("the press did not reach the observer")
	}
	if r := do(coap.GET, "gpio/absent", ""); r.Code != coap.Unavailable {
		t.Errorf("absent pin: %s %q", r.Code, r.Payload)
	}
	if r := do(coap.PUT, "gpio/button", "1"); r.Code != coap.Code(133) {
		t.Errorf("PUT on an input: %s", r.Code)
	}
	// restart: last: a new start drives the kept level.
	led2 := &gpiotest.Pin{N: "GPIO17"}
	srv2, _ := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: log})
	if _, err := newGPIO(cfg[:1], srv2, state, log, func(string, bool) (gpio.PinIO, error) { return led2, nil }); err != nil {
		t.Fatal(err)
	}
	if led2.Read() != gpio.High {
		t.Error("the kept level was not restored")
	}
}
