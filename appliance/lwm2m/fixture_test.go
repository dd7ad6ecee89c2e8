package lwm2m

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fixture is a client as the appliance builds it: objects 1 and 3, the sensors of a BME280
// "room" and a DS18B20 "cellar", a button and an LED, with callbacks that record their calls.
type fixture struct {
	server, device *Object
	sensors        *Sensors
	gpio           *GPIO

	mu        sync.Mutex
	lifetimes []int64
	triggers  int
	reboots   int
	leds      []bool
	clock     time.Time // what Current Time reads
}

var fixtureNow = time.Date(2026, 5, 2, 10, 40, 15, 0, time.UTC)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: fixtureNow}
	var err error
	f.server, err = NewServerObject(ServerFacts{ShortServerID: 1, Lifetime: 300,
		OnLifetime: func(s int64) error {
			if s < 10 {
				return fmt.Errorf("%w: lifetime %d s: want 10 s or more", ErrBadValue, s)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			f.lifetimes = append(f.lifetimes, s)
			return nil
		},
		OnUpdateTrigger: func() error { f.mu.Lock(); defer f.mu.Unlock(); f.triggers++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	f.device, err = NewDeviceObject(DeviceFacts{Manufacturer: "Raspberry Pi Ltd", Model: "Raspberry Pi 3 Model B Rev 1.2",
		Serial: "00000000a1b2c3d4", FirmwareVersion: "v0.9.0",
		Reboot: func() error { f.mu.Lock(); defer f.mu.Unlock(); f.reboots++; return nil },
		Now:    func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.clock }})
	if err != nil {
		t.Fatal(err)
	}
	f.sensors, err = NewSensors([]Quantity{{"room", "temperature", "Cel"}, {"room", "pressure", "Pa"}, {"room", "humidity", "%RH"},
		{"cellar", "temperature", "Cel"}})
	if err != nil {
		t.Fatal(err)
	}
	f.gpio, err = NewGPIO([]Pin{{Name: "button"}, {Name: "led", Output: true, Set: func(on bool) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.leds = append(f.leds, on)
		return nil
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) objects() []*Object {
	objs := []*Object{f.server, f.device}
	objs = append(objs, f.sensors.Objects()...)
	return append(objs, f.gpio.Objects()...)
}

func (f *fixture) setClock(t time.Time) { f.mu.Lock(); defer f.mu.Unlock(); f.clock = t }

func (f *fixture) calls() (lifetimes []int64, triggers, reboots int, leds []bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.lifetimes...), f.triggers, f.reboots, append([]bool(nil), f.leds...)
}
