package i2cbus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"periph.io/x/conn/v3/physic"
)

// adapter is the part of i2c-dev the SMBus bus uses, one method per ioctl, so tests can put
// a simulated chip behind it.
type adapter interface {
	funcs() (uint64, error)        // I2C_FUNCS
	setAddr(addr uint16) error     // I2C_SLAVE
	smbus(d *smbusIoctlData) error // I2C_SMBUS
	Close() error
}

// smbusBus is an i2c.Bus that speaks SMBus; see OpenSMBus for the mapping.
type smbusBus struct {
	name string // "/dev/i2c-1"
	fn   uint64 // I2C_FUNCS

	mu   sync.Mutex // one transfer at a time, and addr matches the adapter's
	a    adapter
	addr int // the address last set with I2C_SLAVE; -1: none
}

func newSMBus(name string, a adapter, fn uint64) (*smbusBus, error) {
	if fn&funcSMBusAny == 0 {
		a.Close()
		return nil, fmt.Errorf("i2cbus %s: %w (functionality %#x)", name, errNoSMBus, fn)
	}
	return &smbusBus{name: name, fn: fn, a: a, addr: -1}, nil
}

func (b *smbusBus) String() string { return b.name + " (SMBus)" }

// SetSpeed does nothing: the bus clock of an i2c-dev adapter is set by the kernel (device
// tree, module parameters), not per open file.
func (b *smbusBus) SetSpeed(physic.Frequency) error { return nil }

func (b *smbusBus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.a.Close(); err != nil {
		return fmt.Errorf("i2cbus %s: close: %w", b.name, err)
	}
	return nil
}

// Tx does one transaction as an SMBus transfer (or, for more than 32 bytes, several).
func (b *smbusBus) Tx(addr uint16, w, r []byte) error {
	if len(w) == 0 && len(r) == 0 {
		return nil
	}
	if addr > 0x7f {
		return fmt.Errorf("i2cbus %s: address %#x: SMBus has 7-bit addresses only", b.name, addr)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t := transfer{b: b, addr: addr}
	switch {
	case len(w) == 0 && len(r) == 1:
		return t.receiveByte(r)
	case len(w) == 0:
		return t.fail(fmt.Errorf("a bare read of %d bytes has no SMBus transfer; chips that stream a measurement in one read (BH1750, SHT3x, SHT4x, HTU21D, AHT20) need an adapter with plain I2C", len(r)))
	case len(r) == 0 && len(w) == 1:
		return t.sendByte(w[0])
	case len(r) == 0 && len(w) == 2:
		return t.writeByteData(w[0], w[1])
	case len(r) == 0 && len(w) == 3:
		return t.writeWordData(w[0], w[1:])
	case len(r) == 0:
		return t.writeBlock(w[0], w[1:])
	case len(w) == 1 && len(r) == 1:
		return t.readByteData(w[0], r)
	case len(w) == 1 && len(r) == 2:
		return t.readWordData(w[0], r)
	case len(w) == 1:
		return t.readBlock(w[0], r)
	default:
		return t.fail(fmt.Errorf("a write of %d bytes followed by a read has no SMBus transfer (SMBus commands are one byte); 16-bit register addresses need an adapter with plain I2C", len(w)))
	}
}

// transfer is one Tx in progress, with b.mu held.
type transfer struct {
	b    *smbusBus
	addr uint16
}

// fail names the bus and the device in err.
func (t transfer) fail(err error) error {
	return fmt.Errorf("i2cbus %s: device %#02x: %w", t.b.String(), t.addr, err)
}

// do selects the device and runs one I2C_SMBUS ioctl; what names the transfer for errors.
func (t transfer) do(what string, rw uint8, cmd uint8, size uint32, data *smbusData) error {
	if int(t.addr) != t.b.addr {
		if err := t.b.a.setAddr(t.addr); err != nil {
			if errors.Is(err, syscall.EBUSY) {
				return t.fail(fmt.Errorf("select address (I2C_SLAVE): in use by a kernel driver; unbind it first: %w", err))
			}
			return t.fail(fmt.Errorf("select address (I2C_SLAVE): %w", err))
		}
		t.b.addr = int(t.addr)
	}
	d := smbusIoctlData{readWrite: rw, command: cmd, size: size, data: data}
	if err := t.b.a.smbus(&d); err != nil {
		return t.fail(fmt.Errorf("%s: %w", what, err))
	}
	return nil
}

// need fails unless the adapter has functionality bit f.
func (t transfer) need(f uint64, what string) error {
	if t.b.fn&f == 0 {
		return t.fail(fmt.Errorf("%s: not offered by the adapter (functionality %#x)", what, t.b.fn))
	}
	return nil
}

func (t transfer) can(f uint64) bool { return t.b.fn&f != 0 }

func (t transfer) receiveByte(r []byte) error {
	const what = "SMBus receive byte"
	if err := t.need(funcSMBusReadByte, what); err != nil {
		return err
	}
	var data smbusData
	if err := t.do(what, smbusRead, 0, smbusByte, &data); err != nil {
		return err
	}
	r[0] = data[0]
	return nil
}

func (t transfer) sendByte(cmd byte) error {
	const what = "SMBus send byte"
	if err := t.need(funcSMBusWriteByte, what); err != nil {
		return err
	}
	return t.do(fmt.Sprintf("%s %#02x", what, cmd), smbusWrite, cmd, smbusByte, nil)
}

func (t transfer) writeByteData(reg, v byte) error {
	if !t.can(funcSMBusWriteByteData) && t.can(funcSMBusWriteI2CBlock) {
		return t.writeBlock(reg, []byte{v})
	}
	const what = "SMBus write byte data"
	if err := t.need(funcSMBusWriteByteData, what); err != nil {
		return err
	}
	var data smbusData
	data[0] = v
	return t.do(fmt.Sprintf("%s to register %#02x", what, reg), smbusWrite, reg, smbusByteData, &data)
}

// writeWordData sends v[0] then v[1]: SMBus sends a word's low byte first.
func (t transfer) writeWordData(reg byte, v []byte) error {
	if !t.can(funcSMBusWriteWordData) && t.can(funcSMBusWriteI2CBlock) {
		return t.writeBlock(reg, v)
	}
	const what = "SMBus write word data"
	if err := t.need(funcSMBusWriteWordData, what); err != nil {
		return err
	}
	var data smbusData
	binary.NativeEndian.PutUint16(data[:2], uint16(v[0])|uint16(v[1])<<8)
	return t.do(fmt.Sprintf("%s to register %#02x", what, reg), smbusWrite, reg, smbusWordData, &data)
}

func (t transfer) readByteData(reg byte, r []byte) error {
	if !t.can(funcSMBusReadByteData) && t.can(funcSMBusReadI2CBlock) {
		return t.readBlock(reg, r)
	}
	const what = "SMBus read byte data"
	if err := t.need(funcSMBusReadByteData, what); err != nil {
		return err
	}
	var data smbusData
	if err := t.do(fmt.Sprintf("%s from register %#02x", what, reg), smbusRead, reg, smbusByteData, &data); err != nil {
		return err
	}
	r[0] = data[0]
	return nil
}

// readWordData returns the word's bytes in the order they came on the wire: SMBus sends the
// low byte first, so r[0] is the low byte of the kernel's host-order word. A chip that sends
// its MSB first (LM75, TMP102) thus gets r[0] = MSB, as from a plain I²C read.
func (t transfer) readWordData(reg byte, r []byte) error {
	if !t.can(funcSMBusReadWordData) && t.can(funcSMBusReadI2CBlock) {
		return t.readBlock(reg, r)
	}
	const what = "SMBus read word data"
	if err := t.need(funcSMBusReadWordData, what); err != nil {
		return err
	}
	var data smbusData
	if err := t.do(fmt.Sprintf("%s from register %#02x", what, reg), smbusRead, reg, smbusWordData, &data); err != nil {
		return err
	}
	v := binary.NativeEndian.Uint16(data[:2])
	r[0], r[1] = byte(v), byte(v>>8)
	return nil
}

// readBlock reads len(r) bytes from reg on, in I²C block reads of at most 32 bytes.
func (t transfer) readBlock(reg byte, r []byte) error {
	const what = "SMBus read I2C block data"
	if err := t.need(funcSMBusReadI2CBlock, what); err != nil {
		return err
	}
	if last := int(reg) + (len(r)-1)/smbusBlockMax*smbusBlockMax; last > 0xff {
		return t.fail(fmt.Errorf("%s: %d bytes from register %#02x need a transfer from register %#x", what, len(r), reg, last))
	}
	for off := 0; off < len(r); off += smbusBlockMax {
		n := min(len(r)-off, smbusBlockMax)
		cmd := int(reg) + off
		var data smbusData
		data[0] = byte(n)
		desc := fmt.Sprintf("%s (%d bytes) from register %#02x", what, n, cmd)
		if err := t.do(desc, smbusRead, byte(cmd), smbusI2CBlockData, &data); err != nil {
			return err
		}
		if int(data[0]) != n {
			return t.fail(fmt.Errorf("%s: got %d bytes", desc, data[0]))
		}
		copy(r[off:off+n], data[1:1+n])
	}
	return nil
}

// writeBlock writes v to reg on, in I²C block writes of at most 32 bytes.
func (t transfer) writeBlock(reg byte, v []byte) error {
	const what = "SMBus write I2C block data"
	if err := t.need(funcSMBusWriteI2CBlock, what); err != nil {
		return err
	}
	if last := int(reg) + (len(v)-1)/smbusBlockMax*smbusBlockMax; last > 0xff {
		return t.fail(fmt.Errorf("%s: %d bytes to register %#02x need a transfer from register %#x", what, len(v), reg, last))
	}
	for off := 0; off < len(v); off += smbusBlockMax {
		n := min(len(v)-off, smbusBlockMax)
		cmd := int(reg) + off
		var data smbusData
		data[0] = byte(n)
		copy(data[1:], v[off:off+n])
		desc := fmt.Sprintf("%s (%d bytes) to register %#02x", what, n, cmd)
		if err := t.do(desc, smbusWrite, byte(cmd), smbusI2CBlockData, &data); err != nil {
			return err
		}
	}
	return nil
}
