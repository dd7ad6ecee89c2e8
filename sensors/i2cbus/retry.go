package i2cbus

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// Retrying returns a bus for /dev/i2c-<bus> that opens it, as Open does, at its first
// transaction, and again at the next transaction after opening failed. The appliance starts
// its sensors before every bus need be there: an adapter whose module is loaded later, or a
// USB-I²C adapter plugged in after boot, then comes up without a restart, and until it does
// each transaction fails saying why.
func Retrying(bus int) i2c.BusCloser {
	return &retrying{bus: bus, open: Open}
}

type retrying struct {
	bus  int
	open func(int) (i2c.BusCloser, error)

	mu sync.Mutex
	b  i2c.BusCloser // nil until opened
}

func (r *retrying) get() (i2c.BusCloser, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b == nil {
		b, err := r.open(r.bus)
		if err != nil {
			return nil, err
		}
		r.b = b
	}
	return r.b, nil
}

func (r *retrying) Tx(addr uint16, w, rd []byte) error {
	b, err := r.get()
	if err != nil {
		return err
	}
	return b.Tx(addr, w, rd)
}

func (r *retrying) SetSpeed(f physic.Frequency) error {
	b, err := r.get()
	if err != nil {
		return err
	}
	return b.SetSpeed(f)
}

func (r *retrying) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b != nil {
		return r.b.String()
	}
	return devName(r.bus) + " (not open)"
}

func (r *retrying) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b == nil {
		return nil
	}
	err := r.b.Close()
	r.b = nil
	if err != nil {
		return fmt.Errorf("i2cbus %s: %w", devName(r.bus), err)
	}
	return nil
}
