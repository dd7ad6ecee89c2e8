package gpio

import (
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func TestOutput(t *testing.T) {
	tests := []struct {
		name    string
		invert  bool
		initial bool
		pin     gpio.Level // pin level after NewOutput
	}{
		{name: "low", initial: false, pin: gpio.Low},
		{name: "high", initial: true, pin: gpio.High},
		{name: "inverted off drives high", invert: true, initial: false, pin: gpio.High},
		{name: "inverted on drives low", invert: true, initial: true, pin: gpio.Low},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pin := &gpiotest.Pin{N: "GPIO23", L: !tt.pin}
			o, err := NewOutput(Config{Name: "relay", Pin: pin, Output: true, Invert: tt.invert}, tt.initial)
			if err != nil {
				t.Fatal(err)
			}
			if pin.Read() != tt.pin || o.Level() != tt.initial {
				t.Fatalf("after NewOutput: pin %v level %v, want pin %v level %v", pin.Read(), o.Level(), tt.pin, tt.initial)
			}
			got, err := o.Toggle()
			if err != nil || got != !tt.initial || pin.Read() != !tt.pin || o.Level() != got {
				t.Fatalf("Toggle = %v, %v; pin %v", got, err, pin.Read())
			}
			if err := o.Set(tt.initial); err != nil || pin.Read() != tt.pin || o.Level() != tt.initial {
				t.Fatalf("Set(%v) = %v; pin %v level %v", tt.initial, err, pin.Read(), o.Level())
			}
			if err := o.Set(tt.initial); err != nil || pin.Read() != tt.pin {
				t.Fatalf("Set(%v) again = %v; pin %v", tt.initial, err, pin.Read())
			}
		})
	}
}

func TestNewOutputErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "no pin", cfg: Config{Name: "relay", Output: true}, want: `"relay"`},
		{name: "input", cfg: Config{Pin: &gpiotest.Pin{N: "GPIO24"}}, want: "GPIO24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewOutput(tt.cfg, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewOutput error = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

// readBackPin is a test pin that reads back, and can be stuck at one level (shorted).
type readBackPin struct {
	gpiotest.Pin
	stuck *gpio.Level
}

func (p *readBackPin) ReadsBack() bool { return true }

func (p *readBackPin) Read() gpio.Level {
	if p.stuck != nil {
		return *p.stuck
	}
	return p.Pin.Read()
}

func TestOutputReadBack(t *testing.T) {
	low := gpio.Low
	tests := []struct {
		name    string
		invert  bool
		stuck   *gpio.Level
		set     bool
		read    bool
		wantErr string
	}{
		{name: "follows", set: true, read: true},
		{name: "follows inverted", invert: true, set: true, read: true},
		{name: "shorted to ground", stuck: &low, set: true, read: false, wantErr: `gpio: pin "led" (GPIO27): driven high (1), the pin reads low (0): it is shorted, or driven by other hardware`},
		{name: "shorted, inverted", invert: true, stuck: &low, set: false, read: true, wantErr: "driven low (0), the pin reads high (1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pin := &readBackPin{Pin: gpiotest.Pin{N: "GPIO27"}}
			o, err := NewOutput(Config{Name: "led", Pin: pin, Output: true, Invert: tt.invert}, !tt.set)
			if err != nil {
				t.Fatal(err)
			}
			pin.stuck = tt.stuck
			err = o.Set(tt.set)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Set(%v) = %v, want %q", tt.set, err, tt.wantErr)
			}
			if got := o.Read(); got != tt.read {
				t.Errorf("Read = %v, want %v", got, tt.read)
			}
		})
	}
	// A pin that cannot read back is not read: Read is the level driven.
	pin := &gpiotest.Pin{N: "GPIO22"}
	o, err := NewOutput(Config{Pin: pin, Output: true}, true)
	if err != nil || !o.Read() {
		t.Errorf("plain pin: Read = %v, %v", o.Read(), err)
	}
}
