package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pigw/pigw/sensors"
)

// i2cDevice is where an I2C sensor answers.
type i2cDevice struct{ bus, addr int }

// sensors checks the sensors and fills in their defaults. It returns those
// with a valid name.
func (v *validator) sensors(ss []Sensor, path string) []namedEntry {
	var names []namedEntry
	first := map[i2cDevice]int{} // sensor index by bus and address
	for i := range ss {
		s := &ss[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		nameOK, dev, defaulted := v.sensor(s, p)
		if nameOK {
			names = append(names, namedEntry{s.Name, p})
		}
		if dev == nil {
			continue
		}
		if j, dup := first[*dev]; dup {
			prev := fmt.Sprintf("%s[%d]", path, j)
			what := ""
			if defaulted {
				what = fmt.Sprintf(" (%s's default)", s.Kind)
			}
			v.fail(p+".address", false, "bus %d, address %s%s is already used by %s%s",
				dev.bus, hexAddr(dev.addr), what, prev, v.where(prev, p+".address"))
			continue
		}
		first[*dev] = i
	}
	return names
}

// namedEntry is an entry of the sensors or gpio list with a valid name.
type namedEntry struct{ name, path string }

// uniqueNames reports the entries whose name an entry before them has: one
// before in the file, when all are in one file with known positions, else
// one before in the list.
func (v *validator) uniqueNames(entries []namedEntry) {
	at := make([]pos, len(entries))
	for i, e := range entries {
		at[i] = v.at(e.path, false)
		if at[i].line == 0 || at[i].file != at[0].file {
			at = nil
			break
		}
	}
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	if at != nil {
		slices.SortStableFunc(order, func(i, j int) int {
			if at[i].line != at[j].line {
				return at[i].line - at[j].line
			}
			return at[i].col - at[j].col
		})
	}
	first := map[string]string{} // the path of the first entry of each name
	for _, i := range order {
		e := entries[i]
		if prev, dup := first[e.name]; dup {
			v.fail(e.path+".name", false, "%q is already used by %s%s", e.name, prev, v.where(prev+".name", e.path+".name"))
			continue
		}
		first[e.name] = e.path
	}
}

// entryName checks the name of a sensor or GPIO pin at path, served as
// what says, and reports whether it is valid.
func (v *validator) entryName(name, path, example, served string) bool {
	switch msg := checkName(name); {
	case name == "":
		v.fail(path+".name", false, "missing (give a name such as %s; %s)", example, served)
	case msg != "":
		v.fail(path+".name", false, "%s", msg)
	default:
		return true
	}
	return false
}

// busFields are the fields of a Sensor that apply to the kinds on each bus.
var busFields = map[string][]string{
	busI2C:     {"bus", "address"},
	busOneWire: {"path", "id"},
	busSysfs:   {"path"},
	busNone:    {},
}

// onBus says where a sensor of kind is, for errors: "bme280 is on i2c".
func onBus(kind, bus string) string {
	switch bus {
	case busSysfs:
		return kind + " is read from sysfs"
	case busNone:
		return kind + " has no bus"
	}
	return kind + " is on " + bus
}

// sensor checks one sensor and fills in its defaults. It reports whether
// its name is valid and, for an I2C sensor whose bus and address are
// valid, where it answers and whether that address is the driver's default.
func (v *validator) sensor(s *Sensor, path string) (nameOK bool, dev *i2cDevice, defaulted bool) {
	nameOK = v.entryName(s.Name, path, "temp", "the sensor is served as /sensors/<name>")

	var drv sensors.Driver
	kindOK := false
	known := strings.Join(sensors.Kinds(), ", ")
	if s.Kind == "" {
		v.fail(path+".kind", false, "missing (give the sensor's kind, one of %s)", known)
	} else if d, err := sensors.Lookup(strings.ToLower(s.Kind)); err != nil {
		v.fail(path+".kind", false, "%q is not a known kind (known: %s)", s.Kind, known)
	} else {
		s.Kind, drv, kindOK = d.Kind, d, true
	}

	// The fields that depend on the bus: each is checked by itself when
	// the kind is not known.
	fields := []struct {
		name  string
		given bool
		check func(p string) bool // reports whether the value is valid
	}{
		{"bus", s.Bus != nil, func(p string) bool {
			if *s.Bus < 0 || *s.Bus > maxI2CBus {
				v.fail(p, false, "%d is out of range (0..%d, the N of /dev/i2c-N)", *s.Bus, maxI2CBus)
				return false
			}
			return true
		}},
		{"address", s.Address != nil, func(p string) bool {
			if *s.Address < minI2CAddr || *s.Address > maxI2CAddr {
				v.fail(p, false, "%s is out of range (%s..%s; the other 7-bit addresses are reserved)", hexAddr(*s.Address), hexAddr(minI2CAddr), hexAddr(maxI2CAddr))
				return false
			}
			return true
		}},
		{"path", s.Path != "", func(p string) bool {
			example := oneWireDevices + "/" + exampleOneWireID
			if drv.Bus == busSysfs {
				example = exampleThermalDir
			}
			switch {
			case strings.ContainsFunc(s.Path, func(r rune) bool { return r < 0x20 || r == 0x7f }):
				v.fail(p, false, "%q contains a control character", s.Path)
			case !strings.HasPrefix(s.Path, "/"):
				v.fail(p, false, "%q is not an absolute path (give it from /, such as %s)", s.Path, example)
			default:
				return true
			}
			return false
		}},
		{"id", s.ID != "", func(p string) bool {
			if !isOneWireID(s.ID) {
				v.fail(p, false, "%q is not a 1-Wire device id (the family code, '-' and 12 hex digits, in lower case, as under %s, such as %s)", s.ID, oneWireDevices, exampleOneWireID)
				return false
			}
			return true
		}},
	}
	valid := map[string]bool{}
	for _, f := range fields {
		p := path + "." + f.name
		switch {
		case !f.given:
		case kindOK && !slices.Contains(busFields[drv.Bus], f.name):
			v.fail(p, false, "%s: %s does not apply%s", onBus(drv.Kind, drv.Bus), f.name, takes(drv.Bus))
		default:
			valid[f.name] = f.check(p)
		}
	}

	switch {
	case !kindOK:
	case drv.Bus == busI2C:
		if s.Bus == nil {
			s.Bus, valid["bus"] = ptrTo(defaultI2CBus), true
		}
		if s.Address == nil && !v.failed(path+".address") {
			if drv.DefaultAddr == 0 {
				v.fail(path+".address", false, "missing (%s has no default address: give the device's, such as 0x76)", drv.Kind)
			} else {
				s.Address, valid["address"], defaulted = ptrTo(int(drv.DefaultAddr)), true, true
			}
		}
		if valid["bus"] && valid["address"] {
			dev = &i2cDevice{*s.Bus, *s.Address}
		}
	case drv.Bus == busOneWire:
		switch {
		case v.failed(path+".id") || v.failed(path+".path"):
		case s.ID == "" && s.Path == "":
			v.fail(path+".id", false, "missing (%s: give the device's id, such as %s, or its path)", onBus(drv.Kind, drv.Bus), exampleOneWireID)
		case s.ID != "" && s.Path != "":
			v.fail(path+".id", false, "%q: give id or path, not both; path is given too%s", s.ID, v.where(path+".path", path+".id"))
		}
	}

	switch iv := time.Duration(s.Interval); {
	case iv == 0:
		s.Interval = Duration(defaultInterval)
	case iv < minInterval || iv > maxInterval:
		v.fail(path+".interval", false, "%v is out of range (0s for the default, %v, or %v..%v)", iv, defaultInterval, minInterval, maxInterval)
	}

	switch t := s.Threshold; {
	case t == nil:
		if !v.failed(path + ".threshold") {
			s.Threshold = ptrTo(0.0)
		}
	case math.IsNaN(*t) || math.IsInf(*t, 0):
		v.fail(path+".threshold", false, "%v is not a finite number", *t)
	case *t < 0:
		v.fail(path+".threshold", false, "%v is negative (a threshold is 0 or more; 0 notifies every change)", *t)
	}

	keys := make([]string, 0, len(s.Options))
	for k := range s.Options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := childPath(path+".options", k)
		switch {
		case k == "":
			v.fail(p, true, "an option name may not be empty")
		case k == "addr":
			v.fail(p, true, "%q: give the I2C address as address:, not as an option", k)
		case k == "id":
			v.fail(p, true, "%q: give the 1-Wire device's id as id:, not as an option", k)
		case strings.ContainsFunc(k, func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_') }):
			v.fail(p, true, "option name %q may only hold a-z, 0-9 and '_'", k)
		}
	}
	return nameOK, dev, defaulted
}

// takes says what the kinds on bus take instead, for errors: " (it takes
// bus and address)".
func takes(bus string) string {
	f := busFields[bus]
	switch len(f) {
	case 0:
		return ""
	case 1:
		return " (it takes " + f[0] + ")"
	}
	sep := " and "
	if bus == busOneWire {
		sep = " or "
	}
	return " (it takes " + strings.Join(f, sep) + ")"
}

// isOneWireID reports whether id is a 1-Wire device's name as the kernel
// writes it: two hex digits of family code, '-', twelve of serial, in lower
// case.
func isOneWireID(id string) bool {
	family, serial, ok := strings.Cut(id, "-")
	return ok && len(family) == 2 && len(serial) == 12 && isLowerHex(family) && isLowerHex(serial)
}

func isLowerHex(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') })
}

// hexAddr writes an I2C address as 0x76.
func hexAddr(a int) string {
	if a < 0 {
		return strconv.Itoa(a)
	}
	return fmt.Sprintf("0x%02x", a)
}

// gpios checks the GPIO pins and fills in their defaults. It returns those
// with a valid name.
func (v *validator) gpios(gs []GPIO, path string) []namedEntry {
	var names []namedEntry
	first := map[int]int{} // pin index by BCM number
	for i := range gs {
		g := &gs[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		written := g.Pin
		nameOK, pin := v.gpio(g, p)
		if nameOK {
			names = append(names, namedEntry{g.Name, p})
		}
		if pin < 0 {
			continue
		}
		if j, dup := first[pin]; dup {
			prev := fmt.Sprintf("%s[%d]", path, j)
			what := strconv.Quote(written)
			if written != g.Pin {
				what += " (" + g.Pin + ")"
			}
			v.fail(p+".pin", false, "%s is already used by %s%s", what, prev, v.where(prev+".pin", p+".pin"))
			continue
		}
		first[pin] = i
	}
	return names
}

// gpio checks one GPIO pin and fills in its defaults. It reports whether
// its name is valid, and its BCM number, or -1 when the pin is not valid.
func (v *validator) gpio(g *GPIO, path string) (nameOK bool, pin int) {
	nameOK = v.entryName(g.Name, path, "button", "the pin is served as /gpio/<name>")

	pin = -1
	switch n, msg := parsePin(g.Pin); {
	case g.Pin == "":
		v.fail(path+".pin", false, "missing (give the pin's BCM number, such as GPIO17)")
	case msg != "":
		v.fail(path+".pin", false, "%s", msg)
	default:
		g.Pin, pin = gpioPrefix+strconv.Itoa(n), n
	}

	dir := strings.ToLower(g.Direction)
	switch dir {
	case "":
		v.fail(path+".direction", false, "missing (give in or out)")
	case GPIOIn, GPIOOut:
		g.Direction = dir
	default:
		v.fail(path+".direction", false, "%q is not a direction (in or out)", g.Direction)
		dir = ""
	}
	in, out := dir == GPIOIn, dir == GPIOOut
	notFor := func(field, holds string) {
		v.fail(path+"."+field, false, "direction is %s: %s does not apply (it is for %s)", dir, field, holds)
	}

	switch {
	case g.Pull == "":
		if in {
			g.Pull = PullNone
		}
	case out:
		notFor("pull", "inputs")
	default:
		g.Pull = v.oneOf(path+".pull", g.Pull, "a pull", PullUp, PullDown, PullNone)
	}

	switch {
	case g.Edge == "":
		if in {
			g.Edge = EdgeBoth
		}
	case out:
		notFor("edge", "inputs")
	default:
		g.Edge = v.oneOf(path+".edge", g.Edge, "an edge", EdgeBoth, EdgeRising, EdgeFalling, EdgeNone)
	}

	switch d := time.Duration(g.Debounce); {
	case d == 0:
	case out:
		notFor("debounce", "inputs")
	case d < 0 || d > maxDebounce:
		v.fail(path+".debounce", false, "%v is out of range (0s..%v)", d, maxDebounce)
	}

	switch {
	case g.Initial == nil:
		if out && !v.failed(path+".initial") {
			g.Initial = ptrTo(0)
		}
	case in:
		notFor("initial", "outputs")
	case *g.Initial != 0 && *g.Initial != 1:
		v.fail(path+".initial", false, "%d is not a level (0 or 1)", *g.Initial)
	}

	switch {
	case g.Restart == "":
		if out {
			g.Restart = RestartInitial
		}
	case in:
		notFor("restart", "outputs")
	default:
		g.Restart = v.oneOf(path+".restart", g.Restart, "a restart level", RestartInitial, RestartLast)
	}
	return nameOK, pin
}

// oneOf returns s in lower case if that is one of values, or else reports
// at path that s is not what, and returns s as it is.
func (v *validator) oneOf(path, s, what string, values ...string) string {
	if l := strings.ToLower(s); slices.Contains(values, l) {
		return l
	}
	list := strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
	v.fail(path, false, "%q is not %s (%s)", s, what, list)
	return s
}

// parsePin parses a pin written GPIO17 or BCM17, in any case, or says what
// is wrong with it.
func parsePin(s string) (int, string) {
	up := strings.ToUpper(s)
	digits, ok := strings.CutPrefix(up, gpioPrefix)
	if !ok {
		digits, ok = strings.CutPrefix(up, bcmPrefix)
	}
	allDigits := func(d string) bool {
		return d != "" && !strings.ContainsFunc(d, func(r rune) bool { return r < '0' || r > '9' })
	}
	switch {
	case !ok && allDigits(s):
		return 0, fmt.Sprintf("%q: write the BCM number as GPIO%s (a bare number could be the header's pin number)", s, s)
	case !ok || !allDigits(digits):
		return 0, fmt.Sprintf("%q is not a pin (write its BCM number as GPIO17 or BCM17)", s)
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n > maxHeaderGPIO {
		return 0, fmt.Sprintf("%q is not on the Pi's header (GPIO0..GPIO%d)", s, maxHeaderGPIO)
	}
	return n, ""
}
