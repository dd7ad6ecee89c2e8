package sensors

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Maxim DS18B20 1-Wire temperature sensors, read through the kernel's w1-gpio and w1_therm
// drivers (dtoverlay=w1-gpio on the Pi) rather than by timing 1-Wire slots from user space,
// which a preemptible process cannot hold to the microsecond. w1_therm shows each sensor as
// a directory /sys/bus/w1/devices/<family>-<serial>; reading its w1_slave file runs a
// conversion (up to 750 ms at the default 12 bits, datasheet "Operation — Measuring
// Temperature") and returns the scratchpad, the kernel's CRC verdict and the temperature:
//
//	72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//	72 01 4b 46 7f ff 0e 10 57 t=23125
//
// Kernels without w1_slave offer a temperature file holding the millidegrees alone, which the
// driver reads instead. w1_therm handles the DS18S20 (family 10), DS1822 (22), DS1825 and
// MAX31850 (3b) and DS28EA00 (42) the same way, so those work too.
//
// Params.Path is the device directory; else option id ("28-0316a2794dff") names it under
// /sys/bus/w1/devices.
//
// Three answers pass the CRC but are no temperature, and Read rejects them: a scratchpad of
// nine zero bytes (a sensor gone from the bus, or its data line held low, reads as zeros,
// whose CRC is zero); the power-on value of the temperature register, +85 °C (datasheet
// "Memory": the conversion did not run, typically too little current in parasite power mode;
// a true 85.000 °C is rejected with it); and values outside the rated −55 to +125 °C.
func init() {
	Register(Driver{
		Kind:        "ds18b20",
		Description: "Maxim DS18B20 1-Wire temperature sensor, through the kernel's w1_therm",
		Bus:         "1-wire",
		Quantities:  temperatureOnly(),
		Open:        openDS18B20,
	})
}

const ds18b20Devices = "/sys/bus/w1/devices"

// ds18b20ID tells whether id is a w1_therm device name: a family code w1_therm handles, a
// dash, the 48-bit serial in lower-case hex, as the kernel writes it.
func ds18b20ID(id string) bool {
	family, serial, ok := strings.Cut(id, "-")
	switch family {
	case "10", "22", "28", "3b", "42":
	default:
		return false
	}
	if !ok || len(serial) != 12 {
		return false
	}
	for _, c := range serial {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func openDS18B20(p Params) (Sensor, error) {
	for k := range p.Options {
		if k != "id" {
			return nil, fmt.Errorf("ds18b20: unknown options %q (known: id)", optionNames(p.Options))
		}
	}
	dir := p.Path
	if id, ok := p.Options["id"]; ok {
		if !ds18b20ID(id) {
			return nil, fmt.Errorf("ds18b20: option id %q: want <family>-<12 hex digits> as under %s, such as 28-0316a2794dff", id, ds18b20Devices)
		}
		if dir == "" {
			dir = filepath.Join(ds18b20Devices, id)
		} else if filepath.Base(dir) != id {
			return nil, fmt.Errorf("ds18b20: option id %q contradicts path %s", id, dir)
		}
	}
	if dir == "" {
		return nil, errors.New("ds18b20: no device: give a path or option id (28-...)")
	}
	d := &ds18b20{name: "ds18b20 " + filepath.Base(dir)}
	for _, f := range []string{"w1_slave", "temperature"} {
		path := filepath.Join(dir, f)
		if _, err := os.Stat(path); err == nil {
			d.path, d.slave = path, f == "w1_slave"
			return d, nil
		}
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("%s: not on the 1-Wire bus (is dtoverlay=w1-gpio set and the sensor wired?): %w", d.name, err)
	}
	return nil, fmt.Errorf("%s: %s has neither w1_slave nor temperature: not a w1_therm sensor", d.name, dir)
}

// ds18b20 is one sensor; the kernel serialises access to the 1-Wire bus, so Reads may overlap.
type ds18b20 struct {
	name  string // "ds18b20 28-0316a2794dff", for errors
	path  string // its w1_slave or temperature file
	slave bool   // path is w1_slave
}

// Quantities implements Sensor.
func (d *ds18b20) Quantities() []Quantity { return temperatureOnly() }

// Read implements Sensor.
func (d *ds18b20) Read(ctx context.Context) ([]Reading, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	var milli int64
	if d.slave {
		b, err := os.ReadFile(d.path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
		if milli, err = parseW1Slave(string(b)); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", d.name, d.path, err)
		}
	} else {
		var err error
		if milli, err = readMilliFile(d.path); err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
	}
	switch {
	case milli == 85000:
		return nil, fmt.Errorf("%s: 85 °C is the power-on value: the conversion did not run (parasite power too weak?)", d.name)
	case milli < -55000 || milli > 125000:
		return nil, fmt.Errorf("%s: %.3f °C is outside the sensor's range (-55 to 125 °C)", d.name, float64(milli)/1000)
	}
	return readings(d.Quantities(), float64(milli)/1000), nil
}

// parseW1Slave returns the millidegrees of a w1_slave text after checking its CRC verdict
// and scratchpad.
func parseW1Slave(s string) (int64, error) {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) != 2 {
		return 0, fmt.Errorf("%q: want two lines (scratchpad and CRC verdict, then t=)", s)
	}
	pad, verdict, ok := strings.Cut(lines[0], ":")
	if !ok {
		return 0, fmt.Errorf("%q: no CRC verdict", lines[0])
	}
	if v := strings.TrimSpace(verdict); !strings.HasSuffix(v, "YES") {
		return 0, fmt.Errorf("CRC mismatch (%s): bad contact or a long, unterminated wire", v)
	}
	if strings.Trim(pad, " 0") == "" {
		return 0, errors.New("scratchpad is all zeros: the sensor is gone or its data line is held low")
	}
	_, t, ok := strings.Cut(lines[1], "t=")
	if !ok {
		return 0, fmt.Errorf("%q: no t=", lines[1])
	}
	milli, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: t= is not an integer", lines[1])
	}
	return milli, nil
}
