package lwm2m

import (
	"fmt"
	"math"
	"sync"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// The IPSO sensor objects (OMA LwM2M registry, version 1.0) by the quantity pigw's sensors
// name.
var ipsoObjects = map[string]uint16{
	"temperature": 3303,
	"humidity":    3304,
	"pressure":    3315, // Barometer
	"illuminance": 3301,
}

// IPSOObject is the IPSO object id for a quantity of pigw's sensors ("temperature" → 3303).
func IPSOObject(quantity string) (uint16, bool) {
	id, ok := ipsoObjects[quantity]
	return id, ok
}

// The resources of an IPSO sensor instance that pigw serves.
const (
	SensorValue       = 5700
	SensorUnits       = 5701
	SensorMin         = 5601 // Min Measured Value
	SensorMax         = 5602 // Max Measured Value
	SensorResetMinMax = 5605
	ApplicationType   = 5750 // the name pigw's config gives the sensor or pin
)

// Quantity is one quantity of one configured sensor: an instance of its IPSO object.
type Quantity struct {
	Sensor string // the sensor's name in the config, as /sensors/<name>
	Name   string // temperature, humidity, pressure or illuminance
	Unit   string // as the sensor reports it ("Cel", "%RH", "Pa", "lx")
}

// Sensors are the IPSO objects of the configured sensors, fed by the appliance's one sampler
// (Reading, Fail) with the same values /sensors/<name> shows.
type Sensors struct {
	objs  []*Object
	insts map[[2]string]*sensorInstance // by sensor and quantity
}

type sensorInstance struct {
	obj *Object
	id  uint16

	mu       sync.Mutex
	value    float64
	min, max float64
	has      bool   // a reading since the start
	failure  string // why the sensor cannot be read now
}

// NewSensors makes an instance of the IPSO object of each quantity, numbered per object in
// the order given: a BME280 "room" and a BME280 "cellar" give /3303/0 (room), /3303/1
// (cellar), /3304/0, ...
func NewSensors(qs []Quantity) (*Sensors, error) {
	s := &Sensors{insts: map[[2]string]*sensorInstance{}}
	byID := map[uint16]*Object{}
	for _, q := range qs {
		id, ok := IPSOObject(q.Name)
		if !ok {
			return nil, fmt.Errorf("lwm2m sensors: %s/%s: no IPSO object for the quantity %q", q.Sensor, q.Name, q.Name)
		}
		key := [2]string{q.Sensor, q.Name}
		if s.insts[key] != nil {
			return nil, fmt.Errorf("lwm2m sensors: %s/%s: given twice", q.Sensor, q.Name)
		}
		o := byID[id]
		if o == nil {
			o = &Object{ID: id}
			byID[id] = o
			s.objs = append(s.objs, o)
		}
		si := &sensorInstance{obj: o, id: uint16(len(o.Instances))}
		o.Instances = append(o.Instances, &Instance{ID: si.id, Resources: si.resources(q)})
		s.insts[key] = si
	}
	return s, nil
}

// Objects are the IPSO objects, for the Tree.
func (s *Sensors) Objects() []*Object { return s.objs }

func (si *sensorInstance) resources(q Quantity) []Resource {
	read := func(f func() float64) func() (node.Value, error) {
		return func() (node.Value, error) {
			si.mu.Lock()
			defer si.mu.Unlock()
			switch {
			case si.failure != "":
				return node.Value{}, fmt.Errorf("%w: %s", ErrUnavailable, si.failure)
			case !si.has:
				return node.Value{}, fmt.Errorf("%w: %s: no reading yet", ErrUnavailable, q.Sensor)
			}
			return node.FloatValue(f()), nil
		}
	}
	return []Resource{
		{ID: SensorValue, Name: "Sensor Value", Type: node.TypeFloat, Ops: R, Read: read(func() float64 { return si.value })},
		{ID: SensorUnits, Name: "Sensor Units", Type: node.TypeString, Ops: R, Read: constant(node.StringValue(q.Unit))},
		{ID: SensorMin, Name: "Min Measured Value", Type: node.TypeFloat, Ops: R, Read: read(func() float64 { return si.min })},
		{ID: SensorMax, Name: "Max Measured Value", Type: node.TypeFloat, Ops: R, Read: read(func() float64 { return si.max })},
		{ID: SensorResetMinMax, Name: "Reset Min and Max Measured Values", Ops: E, Execute: func(string) error { si.resetMinMax(); return nil }},
		{ID: ApplicationType, Name: "Application Type", Type: node.TypeString, Ops: R, Read: constant(node.StringValue(q.Sensor))},
	}
}

// Reading is a new value of a sensor's quantity: it updates the value and the measured
// minimum and maximum, and notifies their observers as their attributes say.
func (s *Sensors) Reading(sensor, quantity string, v float64) error {
	si := s.insts[[2]string{sensor, quantity}]
	if si == nil {
		return fmt.Errorf("lwm2m sensors: no instance for %s/%s", sensor, quantity)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("lwm2m sensors: %s/%s: %v is not a finite reading", sensor, quantity, v)
	}
	si.mu.Lock()
	if !si.has {
		si.min, si.max = v, v
	}
	si.value, si.has, si.failure = v, true, ""
	si.min, si.max = min(si.min, v), max(si.max, v)
	si.mu.Unlock()
	for _, r := range []uint16{SensorValue, SensorMin, SensorMax} {
		si.obj.Changed(si.id, r)
	}
	return nil
}

// Fail marks every quantity of a sensor unreadable until its next Reading: a Read of its
// values answers 5.03 with diag, as /sensors/<name> does.
func (s *Sensors) Fail(sensor, diag string) {
	for key, si := range s.insts {
		if key[0] != sensor {
			continue
		}
		si.mu.Lock()
		si.failure = diag
		si.mu.Unlock()
		for _, r := range []uint16{SensorValue, SensorMin, SensorMax} {
			si.obj.Changed(si.id, r)
		}
	}
}

// resetMinMax starts the measured minimum and maximum again from the current value.
func (si *sensorInstance) resetMinMax() {
	si.mu.Lock()
	si.min, si.max = si.value, si.value
	si.mu.Unlock()
	si.obj.Changed(si.id, SensorMin)
	si.obj.Changed(si.id, SensorMax)
}
