// Command i2cinit puts sensor chips on the guest's i2c-stub bus for pigw's sensor tests. It
// runs as /init, starts a copy of itself ("/init chips") and execs /pigw, which stays PID 1,
// loads i2c-stub (chip_addr from its pigw.yaml) and i2c-dev, and reads the chips. The copy
// waits for the stub's bus, writes the register maps below through the same SMBus transfers
// the drivers read with, the BME280's chip id last (so that pigw's driver, retrying, finds
// its calibration complete once it recognises the chip), and then moves the TMP102's
// temperature between two values every 2 s, for observers to see. Console lines:
//
//	i2cinit: chips on /dev/i2c-N: bme280 0x76, lm75 0x48, tmp102 0x49
//	i2cinit: tmp102 25 °C (or 24.5 °C)
//
// The maps: the BME280 holds the BMP280 datasheet's worked example (calibration, adc_T 519888,
// adc_P 415148: 25.08 °C and 100653.27 Pa by the double formulas, 25767233/256 Pa by the
// integer one) with a typical humidity calibration and adc_H 30000 (56317/1024 %RH by the
// integer formula); the LM75 reads 23.5 °C (0x1780); the TMP102 25.0 °C (0x1900) and 24.5 °C
// (0x1880).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pigw/pigw/sensors/i2cbus"
	"periph.io/x/conn/v3/i2c"
)

// Addresses, as the test's pigw.yaml and i2c-stub's chip_addr list them.
const (
	bme280Addr = 0x76
	lm75Addr   = 0x48
	tmp102Addr = 0x49
)

var (
	// BMP280 datasheet example: dig_T1..T3, dig_P1..P9 little-endian from 0x88, then the
	// unused 0xA0 and dig_H1 75 at 0xA1.
	bmeCalibration = []byte{0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b,
		0x27, 0x0b, 0x8c, 0x00, 0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0x00, 0x4b}
	// From 0xE1: dig_H2 362, dig_H3 0, dig_H4 313, dig_H5 50, dig_H6 30.
	bmeCalibrationH = []byte{0x6a, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1e}
	// From 0xF7: press, temp (20 bits each, left-justified in 3 bytes), hum (16 bits).
	bmeData = []byte{0x65, 0x5a, 0xc0, 0x7e, 0xed, 0x00, 0x75, 0x30}
)

func logf(format string, args ...any) {
	_, _ = os.Stdout.WriteString("i2cinit: " + fmt.Sprintf(format, args...) + "\n")
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "chips" {
		chips()
		return
	}
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
	if _, err := syscall.ForkExec("/init", []string{"/init", "chips"}, attr); err != nil {
		logf("FAIL start chips: %v", err)
	}
	err := syscall.Exec("/pigw", []string{"/pigw"}, os.Environ())
	logf("FAIL exec /pigw: %v", err)
	select {} // PID 1 must not exit
}

// chips waits for the stub's bus (pigw mounts /sys and /dev and loads the modules), fills
// it, and then changes the TMP102's temperature forever (pigw reaps this process when the
// guest stops).
func chips() {
	bus, n := waitBus(2 * time.Minute)
	if bus == nil {
		logf("FAIL no i2c-stub bus within 2m")
		return
	}
	fill := []struct {
		addr uint16
		w    []byte
	}{
		{bme280Addr, append([]byte{0x88}, bmeCalibration...)},
		{bme280Addr, append([]byte{0xe1}, bmeCalibrationH...)},
		{bme280Addr, append([]byte{0xf7}, bmeData...)},
		{lm75Addr, []byte{0x00, 0x17, 0x80}},
		{tmp102Addr, []byte{0x00, 0x19, 0x00}},
		{bme280Addr, []byte{0xd0, 0x60}},
	}
	for _, f := range fill {
		if err := bus.Tx(f.addr, f.w, nil); err != nil {
			logf("FAIL write %#x at %#02x: %v", f.w[0], f.addr, err)
			return
		}
	}
	logf("chips on /dev/i2c-%d: bme280 %#x, lm75 %#x, tmp102 %#x", n, bme280Addr, lm75Addr, tmp102Addr)
	values := [][]byte{{0x18, 0x80}, {0x19, 0x00}}
	names := []string{"24.5", "25"}
	for i := 0; ; i = 1 - i {
		time.Sleep(2 * time.Second)
		if err := bus.Tx(tmp102Addr, append([]byte{0x00}, values[i]...), nil); err != nil {
			logf("FAIL tmp102: %v", err)
			return
		}
		logf("tmp102 %s °C", names[i])
	}
}

// waitBus finds the adapter named "SMBus stub driver" in /sys/class/i2c-dev and opens it.
func waitBus(timeout time.Duration) (i2c.Bus, int) {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		names, _ := filepath.Glob("/sys/class/i2c-dev/i2c-*/name")
		for _, p := range names {
			b, err := os.ReadFile(p)
			if err != nil || strings.TrimSpace(string(b)) != "SMBus stub driver" {
				continue
			}
			n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(filepath.Dir(p)), "i2c-"))
			if err != nil {
				continue
			}
			bus, err := i2cbus.OpenSMBus(n)
			if err != nil {
				continue // /dev/i2c-N may not be there yet
			}
			return bus, n
		}
	}
	return nil, 0
}
