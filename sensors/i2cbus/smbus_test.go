package i2cbus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// fakeChip is a register-based chip as seen from the wire: a write sets its register pointer
// to the first byte and stores the rest from there on; a read returns registers from the
// pointer on. Both advance the pointer, as on the LM75 or BME280.
type fakeChip struct {
	regs [256]byte
	ptr  int
}

func (c *fakeChip) write(b []byte) {
	if len(b) == 0 {
		return
	}
	c.ptr = int(b[0])
	for _, v := range b[1:] {
		c.regs[c.ptr&0xff] = v
		c.ptr++
	}
}

func (c *fakeChip) read(n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = c.regs[c.ptr&0xff]
		c.ptr++
	}
	return out
}

// fakeAdapter plays the kernel's i2c-dev on an SMBus-only adapter: it checks each
// i2c_smbus_ioctl_data as the kernel would, turns it into the bytes the transfer puts on the
// wire, and logs the ioctls.
type fakeAdapter struct {
	fn     uint64
	chips  map[uint16]*fakeChip
	busy   map[uint16]bool // claimed by a kernel driver
	addr   uint16
	log    []string
	closed bool
}

func (f *fakeAdapter) funcs() (uint64, error) { return f.fn, nil }

func (f *fakeAdapter) setAddr(addr uint16) error {
	f.log = append(f.log, fmt.Sprintf("slave %#02x", addr))
	if f.busy[addr] {
		return syscall.EBUSY
	}
	f.addr = addr
	return nil
}

func (f *fakeAdapter) Close() error { f.closed = true; return nil }

func (f *fakeAdapter) smbus(d *smbusIoctlData) error {
	name := map[uint32]string{smbusByte: "byte", smbusByteData: "byte data", smbusWordData: "word data", smbusI2CBlockData: "i2c block"}[d.size]
	dir := map[uint8]string{smbusRead: "read", smbusWrite: "write"}[d.readWrite]
	if name == "" || dir == "" {
		return fmt.Errorf("fake: bad ioctl data %+v", *d)
	}
	f.log = append(f.log, fmt.Sprintf("%s %s %#02x", dir, name, d.command))
	need := map[string]uint64{
		"read byte": funcSMBusReadByte, "write byte": funcSMBusWriteByte,
		"read byte data": funcSMBusReadByteData, "write byte data": funcSMBusWriteByteData,
		"read word data": funcSMBusReadWordData, "write word data": funcSMBusWriteWordData,
		"read i2c block": funcSMBusReadI2CBlock, "write i2c block": funcSMBusWriteI2CBlock,
	}[dir+" "+name]
	if f.fn&need == 0 {
		return syscall.EOPNOTSUPP
	}
	if d.data == nil && !(d.size == smbusByte && d.readWrite == smbusWrite) {
		return syscall.EFAULT
	}
	c := f.chips[f.addr]
	if c == nil {
		return syscall.ENXIO
	}
	switch dir + " " + name {
	case "write byte":
		c.write([]byte{d.command})
	case "read byte":
		d.data[0] = c.read(1)[0]
	case "write byte data":
		c.write([]byte{d.command, d.data[0]})
	case "read byte data":
		c.write([]byte{d.command})
		d.data[0] = c.read(1)[0]
	case "write word data":
		w := binary.NativeEndian.Uint16(d.data[:2])
		c.write([]byte{d.command, byte(w), byte(w >> 8)}) // low byte first
	case "read word data":
		c.write([]byte{d.command})
		b := c.read(2)
		binary.NativeEndian.PutUint16(d.data[:2], uint16(b[0])|uint16(b[1])<<8)
	case "write i2c block":
		n := int(d.data[0])
		if n < 1 || n > smbusBlockMax {
			return syscall.EINVAL
		}
		c.write(append([]byte{d.command}, d.data[1:1+n]...))
	case "read i2c block":
		n := int(d.data[0])
		if n < 1 || n > smbusBlockMax {
			return syscall.EINVAL
		}
		c.write([]byte{d.command})
		copy(d.data[1:], c.read(n))
	}
	return nil
}

const fakeAllSMBus = funcSMBusAny

// fakeBus returns a bus on a fake adapter with one chip at 0x48 whose register i holds i+1,
// except 0x00, 0x01 which hold an LM75 temperature of 23.5 °C (0x17 0x80, MSB first).
func fakeBus(t *testing.T, fn uint64) (*smbusBus, *fakeAdapter) {
	t.Helper()
	c := &fakeChip{}
	for i := range c.regs {
		c.regs[i] = byte(i + 1)
	}
	c.regs[0], c.regs[1] = 0x17, 0x80
	a := &fakeAdapter{fn: fn, chips: map[uint16]*fakeChip{0x48: c}, busy: map[uint16]bool{0x1a: true}}
	b, err := newSMBus("/dev/i2c-7", a, fn)
	if err != nil {
		t.Fatal(err)
	}
	return b, a
}

func seq(from, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(from + i + 1)
	}
	return b
}

func TestTxReads(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fn    uint64
		w     []byte
		n     int
		want  []byte
		ioctl []string
	}{
		{"byte data", fakeAllSMBus, []byte{0xd0}, 1, []byte{0xd1}, []string{"slave 0x48", "read byte data 0xd0"}},
		{"word data keeps wire order", fakeAllSMBus, []byte{0x00}, 2, []byte{0x17, 0x80}, []string{"slave 0x48", "read word data 0x00"}},
		{"block", fakeAllSMBus, []byte{0xf7}, 8, seq(0xf7, 8), []string{"slave 0x48", "read i2c block 0xf7"}},
		{"block of 32", fakeAllSMBus, []byte{0x88}, 32, seq(0x88, 32), []string{"slave 0x48", "read i2c block 0x88"}},
		{"block of 40 in two", fakeAllSMBus, []byte{0x80}, 40, seq(0x80, 40), []string{"slave 0x48", "read i2c block 0x80", "read i2c block 0xa0"}},
		{"receive byte", fakeAllSMBus, nil, 1, []byte{0x17}, []string{"slave 0x48", "read byte 0x00"}},
		{"byte via block", funcSMBusReadI2CBlock, []byte{0xd0}, 1, []byte{0xd1}, []string{"slave 0x48", "read i2c block 0xd0"}},
		{"word via block", funcSMBusReadI2CBlock, []byte{0x00}, 2, []byte{0x17, 0x80}, []string{"slave 0x48", "read i2c block 0x00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, a := fakeBus(t, tc.fn)
			r := make([]byte, tc.n)
			if err := b.Tx(0x48, tc.w, r); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r, tc.want) {
				t.Errorf("Tx(%x) read % x, want % x", tc.w, r, tc.want)
			}
			if !slices.Equal(a.log, tc.ioctl) {
				t.Errorf("ioctls %q, want %q", a.log, tc.ioctl)
			}
		})
	}
}

func TestTxWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fn    uint64
		w     []byte
		reg   int    // first register changed
		want  []byte // registers from reg on afterwards
		ioctl []string
	}{
		{"send byte", fakeAllSMBus, []byte{0x10}, 0x10, []byte{0x11}, []string{"slave 0x48", "write byte 0x10"}},
		{"byte data", fakeAllSMBus, []byte{0xf4, 0x27}, 0xf4, []byte{0x27, 0xf6}, []string{"slave 0x48", "write byte data 0xf4"}},
		{"word data keeps wire order", fakeAllSMBus, []byte{0x02, 0x4b, 0x00}, 0x02, []byte{0x4b, 0x00, 0x05}, []string{"slave 0x48", "write word data 0x02"}},
		{"block", fakeAllSMBus, []byte{0x20, 1, 2, 3, 4}, 0x20, []byte{1, 2, 3, 4, 0x25}, []string{"slave 0x48", "write i2c block 0x20"}},
		{"block of 33 in two", fakeAllSMBus, append([]byte{0x40}, seq(0x90, 33)...), 0x40, append(seq(0x90, 33), 0x62), []string{"slave 0x48", "write i2c block 0x40", "write i2c block 0x60"}},
		{"byte via block", funcSMBusWriteI2CBlock, []byte{0xf4, 0x27}, 0xf4, []byte{0x27, 0xf6}, []string{"slave 0x48", "write i2c block 0xf4"}},
		{"word via block", funcSMBusWriteI2CBlock, []byte{0x02, 0x4b, 0x00}, 0x02, []byte{0x4b, 0x00, 0x05}, []string{"slave 0x48", "write i2c block 0x02"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, a := fakeBus(t, tc.fn)
			if err := b.Tx(0x48, tc.w, nil); err != nil {
				t.Fatal(err)
			}
			c := a.chips[0x48]
			if got := c.regs[tc.reg : tc.reg+len(tc.want)]; !slices.Equal(got, tc.want) {
				t.Errorf("registers from %#02x: % x, want % x", tc.reg, got, tc.want)
			}
			if !slices.Equal(a.log, tc.ioctl) {
				t.Errorf("ioctls %q, want %q", a.log, tc.ioctl)
			}
		})
	}
}

func TestTxErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fn      uint64
		addr    uint16
		w       []byte
		n       int
		want    []string // in the error text
		wantErr error
		ioctls  int // how many ioctls ran
	}{
		{"bare read of 2", fakeAllSMBus, 0x48, nil, 2, []string{"/dev/i2c-7 (SMBus)", "device 0x48", "bare read of 2 bytes", "BH1750"}, nil, 0},
		{"16-bit register", fakeAllSMBus, 0x48, []byte{0x24, 0x00}, 6, []string{"write of 2 bytes followed by a read", "plain I2C"}, nil, 0},
		{"10-bit address", fakeAllSMBus, 0x148, []byte{0}, 1, []string{"address 0x148", "7-bit"}, nil, 0},
		{"no block read", funcSMBusReadByteData, 0x48, []byte{0x88}, 24, []string{"read I2C block data: not offered"}, nil, 0},
		{"no word read", funcSMBusReadByteData, 0x48, []byte{0x00}, 2, []string{"read word data: not offered"}, nil, 0},
		{"no send byte", funcSMBusReadByteData, 0x48, []byte{0x01}, 0, []string{"send byte: not offered"}, nil, 0},
		{"past register 0xff", fakeAllSMBus, 0x48, []byte{0xf0}, 40, []string{"40 bytes from register 0xf0 need a transfer from register 0x110"}, nil, 0},
		{"write past register 0xff", fakeAllSMBus, 0x48, append([]byte{0xe8}, make([]byte, 33)...), 0, []string{"33 bytes to register 0xe8 need a transfer from register 0x108"}, nil, 0},
		{"no chip", fakeAllSMBus, 0x49, []byte{0x00}, 2, []string{"device 0x49", "read word data from register 0x00"}, syscall.ENXIO, 2},
		{"kernel driver", fakeAllSMBus, 0x1a, []byte{0x00}, 1, []string{"device 0x1a", "in use by a kernel driver"}, syscall.EBUSY, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, a := fakeBus(t, tc.fn)
			err := b.Tx(tc.addr, tc.w, make([]byte, tc.n))
			if err == nil {
				t.Fatal("Tx succeeded")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %q does not wrap %v", err, tc.wantErr)
			}
			if len(a.log) != tc.ioctls {
				t.Errorf("ioctls %q, want %d", a.log, tc.ioctls)
			}
		})
	}
}

func TestAddressSetOnlyWhenItChanges(t *testing.T) {
	b, a := fakeBus(t, fakeAllSMBus)
	a.chips[0x76] = &fakeChip{}
	r := make([]byte, 1)
	for _, addr := range []uint16{0x48, 0x48, 0x76, 0x48} {
		if err := b.Tx(addr, []byte{0}, r); err != nil {
			t.Fatal(err)
		}
	}
	var slaves []string
	for _, l := range a.log {
		if strings.HasPrefix(l, "slave") {
			slaves = append(slaves, l)
		}
	}
	if want := []string{"slave 0x48", "slave 0x76", "slave 0x48"}; !slices.Equal(slaves, want) {
		t.Errorf("I2C_SLAVE calls %q, want %q", slaves, want)
	}
	// A refused I2C_SLAVE leaves the kernel's address as it was (i2c-dev returns EBUSY
	// before changing it), so the bus still talks to 0x48 afterwards.
	if b.Tx(0x1a, []byte{0}, r) == nil {
		t.Fatal("Tx to a busy address succeeded")
	}
	if err := b.Tx(0x48, []byte{0xd0}, r); err != nil {
		t.Fatal(err)
	}
	if r[0] != 0xd1 || a.addr != 0x48 {
		t.Errorf("after a refused address: read %#02x from %#02x, want 0xd1 from 0x48", r[0], a.addr)
	}
}

func TestBusBasics(t *testing.T) {
	b, a := fakeBus(t, fakeAllSMBus)
	if got, want := b.String(), "/dev/i2c-7 (SMBus)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if err := b.SetSpeed(400000); err != nil {
		t.Errorf("SetSpeed: %v", err)
	}
	if err := b.Tx(0x48, nil, nil); err != nil || len(a.log) != 0 {
		t.Errorf("empty Tx: %v, ioctls %q", err, a.log)
	}
	if err := b.Close(); err != nil || !a.closed {
		t.Errorf("Close: %v, closed %v", err, a.closed)
	}
}

func TestNoSMBusAtAll(t *testing.T) {
	a := &fakeAdapter{fn: 0x2}
	_, err := newSMBus("/dev/i2c-3", a, a.fn)
	if !errors.Is(err, errNoSMBus) || !strings.Contains(err.Error(), "/dev/i2c-3") {
		t.Errorf("newSMBus: %v", err)
	}
	if !a.closed {
		t.Error("adapter left open")
	}
}

// The ioctl data must have the kernel's layout: read_write and command bytes, size at 4, the
// union pointer at 8 (on 32- and 64-bit), and a 34-byte union.
func TestKernelLayout(t *testing.T) {
	var d smbusIoctlData
	if got := unsafe.Offsetof(d.command); got != 1 {
		t.Errorf("command at %d", got)
	}
	if got := unsafe.Offsetof(d.size); got != 4 {
		t.Errorf("size at %d", got)
	}
	if got := unsafe.Offsetof(d.data); got != 8 {
		t.Errorf("data at %d", got)
	}
	if got, want := unsafe.Sizeof(d), 8+unsafe.Sizeof(uintptr(0)); got != want {
		t.Errorf("size %d, want %d", got, want)
	}
	if got := unsafe.Sizeof(smbusData{}); got != 34 {
		t.Errorf("union size %d, want 34", got)
	}
}

func TestOpenMissingBus(t *testing.T) {
	for _, open := range []func(int) (interface{ Close() error }, error){
		func(n int) (interface{ Close() error }, error) { return Open(n) },
		func(n int) (interface{ Close() error }, error) { return OpenSMBus(n) },
	} {
		b, err := open(987)
		if err == nil {
			b.Close()
			t.Fatal("opened /dev/i2c-987")
		}
		if !strings.Contains(err.Error(), "/dev/i2c-987") {
			t.Errorf("error %q does not name the device", err)
		}
	}
}
