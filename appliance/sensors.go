package appliance

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/sensors"
	"github.com/pigw/pigw/sensors/i2cbus"
	"github.com/pigw/pigw/sensors/senml"
	"periph.io/x/conn/v3/i2c"
)

// sensorResources publishes samples at /sensors/<name> (every quantity) and
// /sensors/<name>/<quantity>, each as text/plain, JSON, SenML JSON and SenML CBOR by Accept,
// observable; a sensor that cannot be read answers 5.03 with why and the age of its last good
// value.
type sensorResources struct {
	srv  *coap.Server
	log  *slog.Logger
	base string // SenML base name: urn:dev:pigw:<hostname>:

	names []string // the sensors, in the config's order

	mu      sync.Mutex
	res     map[string]*coap.Resource // by path under sensors/
	last    map[string]float64        // the value each quantity's resource shows
	failing map[string]bool           // resources answering 5.03 until the next good sample
	samples map[string]sensors.Sample // by sensor: what its resource shows
}

func newSensorResources(srv *coap.Server, names []string, hostname string, log *slog.Logger) (*sensorResources, error) {
	sr := &sensorResources{srv: srv, log: log, base: "urn:dev:pigw:" + hostname + ":", names: names, res: map[string]*coap.Resource{},
		last: map[string]float64{}, failing: map[string]bool{}, samples: map[string]sensors.Sample{}}
	for _, n := range names {
		r, err := srv.AddResource("sensors/"+n, coap.WithMethods(coap.GET), coap.WithAttribute("rt", "pigw.sensor"),
			coap.WithAttribute("if", "core.s"), coap.WithMediaType(coap.TextPlain))
		if err != nil {
			return nil, fmt.Errorf("sensor %s: %w", n, err)
		}
		r.SetFailure("no reading yet")
		sr.res[n] = r
	}
	return sr, nil
}

// Publish turns a sample into the representations of the sensor's resources.
func (sr *sensorResources) Publish(name string, s sensors.Sample) {
	if err := sr.set(name, name, s.Time, s.Readings); err != nil {
		sr.log.Error("publish sensor", "sensor", name, "err", err)
	}
	sr.mu.Lock()
	sr.samples[name] = s
	sr.mu.Unlock()
	for _, rd := range s.Readings {
		path := name + "/" + rd.Name
		sr.mu.Lock()
		prev, seen := sr.last[path]
		sr.last[path] = rd.Value
		failing := sr.failing[path]
		sr.mu.Unlock()
		if seen && prev == rd.Value && !failing {
			continue // this quantity did not change: its observers hear nothing
		}
		if err := sr.set(path, name, s.Time, []sensors.Reading{rd}); err != nil {
			sr.log.Error("publish sensor", "sensor", path, "err", err)
		}
	}
}

// Fail marks the sensor's resources unavailable.
func (sr *sensorResources) Fail(name string, err error, lastGood time.Time) {
	diag := fmt.Sprintf("%s: %v; no good value yet", name, err)
	if !lastGood.IsZero() {
		diag = fmt.Sprintf("%s: %v; last good value %s ago", name, err, time.Since(lastGood).Round(time.Second))
	}
	sr.mu.Lock()
	defer sr.mu.Unlock()
	for path, r := range sr.res {
		if path == name || strings.HasPrefix(path, name+"/") {
			r.SetFailure(diag)
			sr.failing[path] = true
		}
	}
}

// Snapshot is the readings of the named sensors ("*": all of them) that their resources show
// now, as one SenML pack (JSON or CBOR by mt): each sensor's records with its base name and
// the time of its sample. Sensors with no good reading now are left out; n is how many are
// in.
func (sr *sensorResources) Snapshot(names []string, mt coap.MediaType) (pack []byte, n int, err error) {
	if len(names) == 1 && names[0] == "*" {
		names = sr.names
	}
	var rs []senml.Record
	sr.mu.Lock()
	for _, name := range names {
		s, ok := sr.samples[name]
		if !ok || sr.failing[name] {
			continue
		}
		p, err := senml.Pack(sr.base+name+":", s.Time, s.Readings)
		if err != nil {
			sr.mu.Unlock()
			return nil, 0, err
		}
		rs, n = append(rs, p...), n+1
	}
	sr.mu.Unlock()
	if rs == nil {
		rs = []senml.Record{}
	}
	if mt == coap.AppSenMLCBOR {
		pack, err = senml.EncodeCBOR(rs)
	} else {
		pack, err = senml.EncodeJSON(rs)
	}
	return pack, n, err
}

// set publishes readings at sensors/<path>, making the resource of a quantity on first use.
func (sr *sensorResources) set(path, sensor string, t time.Time, rs []sensors.Reading) error {
	reps, err := sr.representations(sensor, t, rs)
	if err != nil {
		return err
	}
	sr.mu.Lock()
	delete(sr.failing, path)
	r := sr.res[path]
	if r == nil {
		// Added with its first reading, so that no GET and no /.well-known/core finds it
		// without a value or its content formats.
		q := rs[0]
		r, err = sr.srv.AddResource("sensors/"+path, coap.WithMethods(coap.GET), coap.WithAttribute("rt", q.Name),
			coap.WithAttribute("if", "core.s"), coap.WithAttribute("unit", q.Unit), coap.WithRepresentations(reps))
		if err == nil {
			sr.res[path] = r
		}
		sr.mu.Unlock()
		return err
	}
	sr.mu.Unlock()
	return r.SetRepresentations(reps)
}

// representations are readings as text, JSON, SenML JSON and SenML CBOR.
func (sr *sensorResources) representations(sensor string, t time.Time, rs []sensors.Reading) ([]coap.Representation, error) {
	var text strings.Builder
	fields := map[string]any{"time": t.UTC().Format(time.RFC3339Nano)}
	for _, rd := range rs {
		if len(rs) == 1 {
			fmt.Fprintf(&text, "%g %s\n", rd.Value, rd.Unit)
			fields["value"], fields["unit"], fields["quantity"] = rd.Value, rd.Unit, rd.Name
		} else {
			fmt.Fprintf(&text, "%s %g %s\n", rd.Name, rd.Value, rd.Unit)
			fields[rd.Name] = map[string]any{"value": rd.Value, "unit": rd.Unit}
		}
	}
	sj, err := senml.JSON(sr.base+sensor+":", t, rs)
	if err != nil {
		return nil, err
	}
	sc, err := senml.CBOR(sr.base+sensor+":", t, rs)
	if err != nil {
		return nil, err
	}
	return []coap.Representation{
		{MediaType: coap.TextPlain, Value: []byte(text.String())},
		{MediaType: coap.AppJSON, Value: marshal(fields)},
		{MediaType: coap.AppSenMLJSON, Value: sj},
		{MediaType: coap.AppSenMLCBOR, Value: sc},
	}, nil
}

// sensorSpecs turns the sensors section into the sampler's specs, with one bus per I2C bus
// number (with the SMBus fallback). A bus that is not there yet is opened again at the
// sensor's next retry, so an adapter that comes up late is used without a restart.
func sensorSpecs(cfg []config.Sensor) ([]sensors.Spec, func()) {
	buses := map[int]i2c.BusCloser{}
	var specs []sensors.Spec
	for _, sc := range cfg {
		sp := sensors.Spec{Name: sc.Name, Kind: sc.Kind, Interval: time.Duration(sc.Interval), Params: sensors.Params{Path: sc.Path, Options: map[string]string{}}}
		if sc.Threshold != nil {
			sp.Threshold = *sc.Threshold
		}
		for k, v := range sc.Options {
			sp.Params.Options[k] = v
		}
		if sc.ID != "" {
			sp.Params.Options["id"] = sc.ID
		}
		if sc.Address != nil {
			sp.Params.Addr = uint16(*sc.Address)
		}
		if sc.Bus != nil {
			if buses[*sc.Bus] == nil {
				buses[*sc.Bus] = i2cbus.Retrying(*sc.Bus)
			}
			sp.Params.Bus = buses[*sc.Bus]
		}
		specs = append(specs, sp)
	}
	return specs, func() {
		for _, b := range buses {
			_ = b.Close()
		}
	}
}
