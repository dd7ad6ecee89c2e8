//go:build !linux

package i2cbus

import "fmt"

func openAdapter(name string) (adapter, error) {
	return nil, fmt.Errorf("i2cbus %s: I2C character devices exist only on Linux", name)
}
