package sensors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The SoC's own temperature, from the kernel's thermal framework: zone 0 on a Pi is the
// BCM283x/BCM2711 die sensor, which the firmware throttles the clock on (from 80 °C on the
// Pi 3B+ and 4). Serving it lets a user see that an appliance in a closed box runs hot
// before its readings or its WiFi suffer. The zone's temp file holds millidegrees Celsius;
// Path overrides the zone directory (or names the temp file itself), for another zone or a
// test.
func init() {
	Register(Driver{
		Kind:        "soc",
		Description: "SoC temperature from the kernel's thermal zone",
		Bus:         "sysfs",
		Quantities:  temperatureOnly(),
		Open:        openSoC,
	})
}

// socDefaultZone is the Pi's SoC sensor; laptops have it too, as some zone of their own.
const socDefaultZone = "/sys/class/thermal/thermal_zone0"

func openSoC(p Params) (Sensor, error) {
	if len(p.Options) > 0 {
		return nil, fmt.Errorf("soc: unknown options %q (it has none)", optionNames(p.Options))
	}
	path := p.Path
	if path == "" {
		path = socDefaultZone
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("soc: thermal zone: %w", err)
	}
	if fi.IsDir() {
		path = filepath.Join(path, "temp")
	}
	return &socTemp{path: path}, nil
}

// socTemp is one thermal zone; it holds no state but its file, so Reads may overlap.
type socTemp struct {
	path string // .../thermal_zoneN/temp
}

// Quantities implements Sensor.
func (s *socTemp) Quantities() []Quantity { return temperatureOnly() }

// Read implements Sensor.
func (s *socTemp) Read(ctx context.Context) ([]Reading, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("soc %s: %w", s.path, err)
	}
	m, err := readMilliFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("soc: %w", err)
	}
	return readings(s.Quantities(), float64(m)/1000), nil
}

// readMilliFile reads a sysfs attribute holding one integer in thousandths of a unit, as
// thermal zones and w1_therm's temperature file do.
func readMilliFile(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err // names the path
	}
	s := strings.TrimSpace(string(b))
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not an integer (thousandths)", path, s)
	}
	return v, nil
}

// optionNames lists the keys of opts, sorted, for errors about options a driver does not know.
func optionNames(opts map[string]string) []string {
	ks := make([]string, 0, len(opts))
	for k := range opts {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
