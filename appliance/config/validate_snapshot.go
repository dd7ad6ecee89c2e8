package config

import (
	"fmt"
	"strings"

	"github.com/pigw/pigw/appliance/coap"
)

// snapshot checks a request that sends sensor readings, whose names sessionSensors checks
// once the sensors section is known.
func (v *validator) snapshot(r *SessionRequest, path string) {
	if r.Method != "POST" && r.Method != "PUT" {
		v.fail(path+".sensors", false, "sensor readings are sent with POST or PUT, not %s", r.Method)
	}
	if r.Payload != "" {
		v.fail(path+".payload", false, "give either payload or sensors, not both")
	}
	switch {
	case r.ContentFormat == nil:
		r.ContentFormat = ptrTo(MediaType(coap.AppSenMLJSON))
	case coap.MediaType(*r.ContentFormat) != coap.AppSenMLJSON && coap.MediaType(*r.ContentFormat) != coap.AppSenMLCBOR:
		v.fail(path+".content_format", false, "%d: sensor readings are sent as SenML JSON (110) or SenML CBOR (112)", *r.ContentFormat)
	}
	if len(r.Sensors) == 0 {
		v.fail(path+".sensors", false, "empty (name sensors, or [\"*\"] for all of them)")
	}
}

// sessionSensors checks that the sensors requests send are configured ones.
func (v *validator) sessionSensors(ss []Session, configured []Sensor, path string) {
	known := map[string]bool{}
	var names []string
	for _, s := range configured {
		known[s.Name] = true
		names = append(names, s.Name)
	}
	for i, s := range ss {
		for j, r := range s.Requests {
			for k, name := range r.Sensors {
				p := fmt.Sprintf("%s[%d].requests[%d].sensors[%d]", path, i, j, k)
				switch {
				case name == "*" && len(r.Sensors) > 1:
					v.fail(p, false, "\"*\" stands for all sensors; list it alone")
				case name == "*" && len(configured) == 0:
					v.fail(p, false, "\"*\": the sensors section has none")
				case name != "*" && !known[name]:
					v.fail(p, false, "%q is not in the sensors section (%s)", name, knownList(names))
				}
			}
		}
	}
}

// knownList names what there is, for an error.
func knownList(names []string) string {
	if len(names) == 0 {
		return "which has none"
	}
	return "known: " + strings.Join(names, ", ")
}
