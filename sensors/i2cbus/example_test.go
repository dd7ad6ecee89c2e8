package i2cbus_test

import (
	"fmt"
	"log"

	"github.com/pigw/pigw/sensors/i2cbus"
)

// Read an LM75's temperature register on bus 1, whether the adapter does plain I²C (a Pi)
// or only SMBus (i2c-stub, PC mainboards).
func ExampleOpen() {
	bus, err := i2cbus.Open(1)
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()
	var r [2]byte // MSB first, as the LM75 sends it
	if err := bus.Tx(0x48, []byte{0x00}, r[:]); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %.3f °C\n", bus, float64(int16(uint16(r[0])<<8|uint16(r[1])))/256)
}
