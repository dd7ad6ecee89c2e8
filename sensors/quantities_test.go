package sensors

import (
	"slices"
	"testing"
)

// Every kind says what it measures before it is opened, as the sensor does once open (the
// simulated one opens anywhere; bme280_test checks the BME280 and BMP280 on a fake bus).
func TestDriverQuantities(t *testing.T) {
	known := []string{nameTemperature, nameHumidity, namePressure, nameIlluminance}
	for _, kind := range Kinds() {
		d, err := Lookup(kind)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Quantities) == 0 {
			t.Errorf("%s: no quantities", kind)
		}
		for _, q := range d.Quantities {
			if !slices.Contains(known, q.Name) || q.Unit == "" {
				t.Errorf("%s: quantity %+v, want one of %v with a unit", kind, q, known)
			}
		}
		d.Quantities[0].Name = "changed by a caller"
		if again, _ := Lookup(kind); again.Quantities[0].Name == "changed by a caller" {
			t.Errorf("%s: a caller changed the registry's quantities", kind)
		}
	}
	d, _ := Lookup("simulated")
	s, err := d.Open(Params{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Quantities, s.Quantities()) {
		t.Errorf("simulated: driver says %v, the open sensor %v", d.Quantities, s.Quantities())
	}
}
