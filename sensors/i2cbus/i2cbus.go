// Package i2cbus opens a Linux I²C bus (/dev/i2c-N) for the sensor drivers, falling back to
// SMBus transfers on adapters that cannot do plain I²C.
//
// periph.io's Linux bus sends every transaction through the I2C_RDWR ioctl. SMBus-only
// adapters — the kernel's i2c-stub, which the QEMU tests use, and many real controllers on
// PC mainboards and some SoCs — refuse that ioctl with "operation not supported", so a driver
// that works on a Pi fails there before it sends a byte. Open asks the adapter what it can do
// (I2C_FUNCS) and returns periph's bus when plain I²C is offered, or else a bus that expresses
// each Tx as the one SMBus transfer that puts the same bytes on the wire. Register-based
// chips (LM75, BME280, TMP102, most sensors) work unchanged that way; chips that answer a bare
// read with several bytes cannot, and Tx says so rather than returning wrong data.
package i2cbus

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/host/v3/sysfs"
)

// Open opens /dev/i2c-<bus>: periph's bus when the adapter offers plain I²C, else an SMBus
// bus (see OpenSMBus).
func Open(bus int) (i2c.BusCloser, error) {
	name := devName(bus)
	a, err := openAdapter(name)
	if err != nil {
		return nil, err
	}
	fn, err := a.funcs()
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("i2cbus %s: query functionality (I2C_FUNCS): %w", name, err)
	}
	if fn&funcI2C == 0 {
		return newSMBus(name, a, fn)
	}
	a.Close()
	b, err := sysfs.NewI2C(bus)
	if err != nil {
		return nil, fmt.Errorf("i2cbus %s: %w", name, err)
	}
	return b, nil
}

// OpenSMBus opens /dev/i2c-<bus> and uses SMBus transfers even if the adapter can do plain
// I²C: for testing the SMBus mapping on such an adapter, or to keep transactions short on a
// bus shared with an SMBus host.
//
// Tx maps its arguments to SMBus transfers by shape (reg is w[0]):
//
//	w           r      SMBus transfer
//	[reg]       1      read byte data
//	[reg]       2      read word data (bytes returned in wire order)
//	[reg]       3..    read I²C block data, 32 bytes at a time from reg, reg+32, ...
//	[cmd]       0      send byte ("write byte")
//	[reg v]     0      write byte data
//	[reg a b]   0      write word data (a first on the wire)
//	[reg ...]   0      write I²C block data, 32 bytes at a time
//	nil         1      receive byte ("read byte")
//
// Anything else has no SMBus equivalent and fails without touching the bus: a bare read of
// more than one byte (BH1750, SHT3x/SHT4x, HTU21D/Si7021 "no hold", AHT10/AHT20 and other
// chips that stream a measurement in one read; repeated "receive byte" transfers would restart
// that stream and return its first byte again), and a read after a command of two or more
// bytes (16-bit register addresses: SHT3x, 24C32 and larger EEPROMs). Those chips need an
// adapter with plain I²C. Reads of more than 32 bytes become several transfers, which assumes
// the chip advances its register pointer as it does within one burst.
//
// The kernel's i2c-stub, which emulates chips for tests, keeps a 16-bit word per register
// apart from the byte there: a word read at reg returns the word last written at reg (i2cset
// mode w), not the bytes at reg and reg+1, while byte and block reads see bytes (modes b, i).
// Fill it the way the driver under test reads.
func OpenSMBus(bus int) (i2c.BusCloser, error) {
	name := devName(bus)
	a, err := openAdapter(name)
	if err != nil {
		return nil, err
	}
	fn, err := a.funcs()
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("i2cbus %s: query functionality (I2C_FUNCS): %w", name, err)
	}
	return newSMBus(name, a, fn)
}

func devName(bus int) string { return fmt.Sprintf("/dev/i2c-%d", bus) }

// errNoSMBus is wrapped when an adapter offers none of the transfers Tx uses.
var errNoSMBus = errors.New("adapter offers neither plain I2C nor SMBus byte, word or block transfers")
