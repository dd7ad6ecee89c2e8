package i2cbus

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fileAdapter is an open /dev/i2c-N.
type fileAdapter struct {
	fd int
}

func openAdapter(name string) (adapter, error) {
	fd, err := unix.Open(name, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		err = &os.PathError{Op: "open", Path: name, Err: err}
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("i2cbus %s: no such bus (is i2c-dev loaded, or dtparam=i2c_arm=on set?): %w", name, err)
		}
		return nil, fmt.Errorf("i2cbus %s: %w", name, err)
	}
	return &fileAdapter{fd: fd}, nil
}

func (f *fileAdapter) funcs() (uint64, error) {
	var fn uint // C unsigned long: 32 bits on arm, 64 on arm64 and amd64, like Go's uint
	if err := f.ioctl(ioctlFuncs, unsafe.Pointer(&fn)); err != nil {
		return 0, err
	}
	return uint64(fn), nil
}

func (f *fileAdapter) setAddr(addr uint16) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(f.fd), ioctlSlave, uintptr(addr))
	if errno != 0 {
		return errno
	}
	return nil
}

func (f *fileAdapter) smbus(d *smbusIoctlData) error {
	return f.ioctl(ioctlSMBus, unsafe.Pointer(d))
}

func (f *fileAdapter) ioctl(req uintptr, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(f.fd), req, uintptr(arg))
	if errno != 0 {
		return errno
	}
	return nil
}

func (f *fileAdapter) Close() error { return unix.Close(f.fd) }
