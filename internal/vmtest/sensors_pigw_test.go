package vmtest

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/pigw/pigw/appliance/coap"
)

// The sensor test boots pigw with the kernel's i2c-stub as its I²C bus: pigw loads the
// module (with its chip addresses, from pigw.yaml) and i2c-dev, testdata/i2cinit writes a
// BME280, an LM75 and a TMP102 register map into it, and the host reads the values over
// CoAP. i2c-stub is an SMBus-only adapter, so pigw's drivers go through the SMBus fallback.

const sensorsYAML = `system:
  modules: ["i2c-stub chip_addr=0x76,0x48,0x49"]
sensors:
  - {name: climate, kind: bme280, bus: 0, address: 0x76, interval: 1s}
  - {name: lm75, kind: lm75, bus: 0, address: 0x48, interval: 1s}
  - {name: tmp102, kind: tmp102, bus: 0, address: 0x49, interval: 1s}
  - {name: absent, kind: lm75, bus: 0, address: 0x4a, interval: 1s}
`

// What the datasheet formulas give for i2cinit's register maps (the integer formulas, which
// the driver uses, as sensors/bme280_test.go works out).
const (
	wantTemperature = 25.08
	wantPressure    = 25767233.0 / 256 // Pa
	wantHumidity    = 56317.0 / 1024   // %RH
)

func bootSensors(t *testing.T) *VM {
	t.Helper()
	prog, err := os.ReadFile(pigwBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	perm, bootDisk := disks(t, sensorsYAML)
	return Start(t, Options{
		Init:       GuestProgram(t, "./internal/vmtest/testdata/i2cinit"),
		Files:      map[string][]byte{"/etc/pigw.yaml": []byte(etcConfig), "/pigw": prog},
		Modules:    append(append([]string(nil), pigwModules...), "i2c-stub", "i2c-dev"),
		PermDisk:   perm,
		BootDisk:   bootDisk,
		ForwardUDP: []int{5683},
		Memory:     "256M",
	})
}

func TestPigwSensorsI2CStub(t *testing.T) {
	vm := bootSensors(t)
	waitFor(t, vm, `i2cinit: chips on /dev/i2c-\d+`, 90*time.Second)
	s := session(t, vm, false)

	// The BME280 is read once pigw's driver, retrying, finds the chip id written last.
	req := coap.NewRequest(coap.GET, "sensors/climate")
	req.Accept = coap.AppJSON
	type quantity struct {
		Value float64
		Unit  string
	}
	var climate map[string]quantity
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := until(t, s, req, 30*time.Second)
		var fields map[string]json.RawMessage
		climate = map[string]quantity{}
		if r.Code == coap.Content && json.Unmarshal(r.Payload, &fields) == nil {
			for k, v := range fields {
				var q quantity
				if json.Unmarshal(v, &q) == nil {
					climate[k] = q
				}
			}
			if climate["temperature"].Value != 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /sensors/climate: %v %s\n%s", r.Code, r.Payload, vm.Console())
		}
		time.Sleep(500 * time.Millisecond)
	}
	for q, want := range map[string]struct {
		v    float64
		unit string
	}{"temperature": {wantTemperature, "Cel"}, "pressure": {wantPressure, "Pa"}, "humidity": {wantHumidity, "%RH"}} {
		if got := climate[q]; math.Abs(got.Value-want.v) > 1e-9 || got.Unit != want.unit {
			t.Errorf("/sensors/climate %s = %v %s, want %v %s", q, got.Value, got.Unit, want.v, want.unit)
		}
	}

	text := func(path string) coap.Response {
		r := until(t, s, coap.NewRequest(coap.GET, path), 10*time.Second)
		t.Logf("GET /%s: %v %q", path, r.Code, r.Payload)
		return r
	}
	if r := text("sensors/lm75/temperature"); r.Code != coap.Content || string(r.Payload) != "23.5 Cel\n" {
		t.Errorf("/sensors/lm75/temperature: %v %q, want 23.5 Cel", r.Code, r.Payload)
	}
	if r := text("sensors/absent"); r.Code != coap.Unavailable || !strings.Contains(string(r.Payload), "absent: ") {
		t.Errorf("/sensors/absent (no chip at 0x4a): %v %q, want 5.03 with why", r.Code, r.Payload)
	}

	checkSenMLCBOR(t, s)

	r := until(t, s, coap.NewRequest(coap.GET, ".well-known/core"), 10*time.Second)
	for _, l := range []string{`</sensors/climate/pressure>`, `rt="pressure"`, `unit="Pa"`, `if="core.s"`} {
		if !strings.Contains(string(r.Payload), l) {
			t.Errorf("/.well-known/core lacks %s:\n%s", l, r.Payload)
		}
	}

	observeTMP102(t, vm)
}

// checkSenMLCBOR decodes /sensors/climate as SenML CBOR (RFC 8428 §6: labels bn -2, bt -3,
// n 0, u 1, v 2).
func checkSenMLCBOR(t *testing.T, s *coap.Session) {
	t.Helper()
	req := coap.NewRequest(coap.GET, "sensors/climate")
	req.Accept = coap.AppSenMLCBOR
	r := until(t, s, req, 10*time.Second)
	if r.Code != coap.Content || r.ContentFormat() != coap.AppSenMLCBOR {
		t.Fatalf("SenML CBOR: %v, content format %v", r.Code, r.ContentFormat())
	}
	var pack []map[int]any
	if err := cbor.Unmarshal(r.Payload, &pack); err != nil {
		t.Fatalf("SenML CBOR: %v (% x)", err, r.Payload)
	}
	if len(pack) != 3 {
		t.Fatalf("SenML CBOR: %d records, want 3: %v", len(pack), pack)
	}
	bn, _ := pack[0][-2].(string)
	if !strings.HasSuffix(bn, ":climate:") {
		t.Errorf("base name %q, want …:climate:", bn)
	}
	if bt, ok := pack[0][-3].(float64); !ok || bt < 1e9 {
		if btu, ok := pack[0][-3].(uint64); !ok || btu < 1e9 {
			t.Errorf("base time %v (%T), want a Unix time", pack[0][-3], pack[0][-3])
		}
	}
	want := map[string]struct {
		unit string
		v    float64
	}{"temperature": {"Cel", wantTemperature}, "pressure": {"Pa", wantPressure}, "humidity": {"%RH", wantHumidity}}
	for _, rec := range pack {
		n, _ := rec[0].(string)
		u, _ := rec[1].(string)
		v, _ := rec[2].(float64)
		w, ok := want[n]
		if !ok || u != w.unit || math.Abs(v-w.v) > 1e-9 {
			t.Errorf("SenML record %v: want %s %v %s", rec, n, w.v, w.unit)
		}
		delete(want, n)
	}
}

// observeTMP102 runs libcoap's client as an observer for 12 s while i2cinit moves the
// TMP102 between 25 and 24.5 °C every 2 s: both values must reach it.
func observeTMP102(t *testing.T, vm *VM) {
	t.Helper()
	client, err := exec.LookPath("coap-client-notls")
	if err != nil {
		skipOrFatal(t, "observe: "+err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, client, "-s", "12", "-B", "14", "-m", "get",
		"coap://"+vm.HostAddr(5683)+"/sensors/tmp102/temperature").CombinedOutput()
	t.Logf("coap-client-notls -s 12: %v\n%s", err, out)
	for _, v := range []string{"25 Cel", "24.5 Cel"} {
		if !strings.Contains(string(out), v) {
			t.Errorf("the observer did not see %s", v)
		}
	}
	if n := strings.Count(string(out), "Cel"); n < 4 {
		t.Errorf("the observer saw %d values in 12 s, want a change every 2 s", n)
	}
}
