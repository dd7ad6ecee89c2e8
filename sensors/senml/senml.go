// Package senml encodes sensor readings as SenML packs (RFC 8428), the representation CoAP
// clients of sensors understand without a schema: a JSON array of records
// (application/senml+json, Content-Format 110) or the same in CBOR with small integer labels
// (application/senml+cbor, 112), about half the size, which matters in a CoAP datagram.
//
// A pack from JSON or CBOR names the device once, in the base name of its first record, and
// gives the time once, as its base time; every record then carries one quantity's name, unit
// and value. Decoding is here too, for tests and for clients of the appliance.
package senml

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/pigw/pigw/sensors"
)

// Version is the SenML version this package writes and reads (RFC 8428 §4.4).
const Version = 10

// Record is one SenML record (RFC 8428 §4.1, §4.2), with the JSON labels and CBOR integer
// labels of RFC 8428 §6 Table 4. Value, StringValue, BoolValue and Sum are pointers because a
// zero value (0 °C, "", false) must still be sent.
type Record struct {
	BaseName    string   `json:"bn,omitempty" cbor:"-2,keyasint,omitempty"`
	BaseTime    float64  `json:"bt,omitempty" cbor:"-3,keyasint,omitempty"`
	BaseUnit    string   `json:"bu,omitempty" cbor:"-4,keyasint,omitempty"`
	BaseValue   float64  `json:"bv,omitempty" cbor:"-5,keyasint,omitempty"`
	BaseSum     float64  `json:"bs,omitempty" cbor:"-6,keyasint,omitempty"`
	BaseVersion int      `json:"bver,omitempty" cbor:"-1,keyasint,omitempty"`
	Name        string   `json:"n,omitempty" cbor:"0,keyasint,omitempty"`
	Unit        string   `json:"u,omitempty" cbor:"1,keyasint,omitempty"`
	Value       *float64 `json:"v,omitempty" cbor:"2,keyasint,omitempty"`
	StringValue *string  `json:"vs,omitempty" cbor:"3,keyasint,omitempty"`
	BoolValue   *bool    `json:"vb,omitempty" cbor:"4,keyasint,omitempty"`
	DataValue   Data     `json:"vd,omitzero" cbor:"8,keyasint,omitzero"` // nil: none; empty: zero bytes
	Sum         *float64 `json:"s,omitempty" cbor:"5,keyasint,omitempty"`
	Time        float64  `json:"t,omitempty" cbor:"6,keyasint,omitempty"`
	UpdateTime  float64  `json:"ut,omitempty" cbor:"7,keyasint,omitempty"`
}

// Pack turns readings of the device named base into records: base and t (unless zero) in the
// first record as base name and base time, then each reading's name, unit and value. The base
// name usually ends in a separator, as in "urn:dev:mac:b827eb123456:", since each record's
// name is appended to it.
func Pack(base string, t time.Time, readings []sensors.Reading) ([]Record, error) {
	if len(readings) == 0 {
		return nil, fmt.Errorf("senml pack %q: no readings (a pack has at least one record)", base)
	}
	rs := make([]Record, len(readings))
	for i, r := range readings {
		if err := checkName(base + r.Name); err != nil {
			return nil, fmt.Errorf("senml pack %q: reading %d: %w", base, i, err)
		}
		if !utf8.ValidString(r.Unit) {
			return nil, fmt.Errorf("senml pack %q: %s: unit %q is not UTF-8 text, which JSON would change", base, r.Name, r.Unit)
		}
		if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
			return nil, fmt.Errorf("senml pack %q: %s: value %v is not a number SenML can carry", base, r.Name, r.Value)
		}
		v := r.Value
		rs[i] = Record{Name: r.Name, Unit: r.Unit, Value: &v}
	}
	rs[0].BaseName = base
	if !t.IsZero() {
		rs[0].BaseTime = seconds(t)
	}
	return rs, nil
}

// seconds is t as SenML time: seconds since the Unix epoch, with its fraction (to about a
// microsecond for present-day times, the precision of a float64).
func seconds(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// Time converts SenML time (seconds since the Unix epoch) to a time.Time, to the microsecond.
func Time(s float64) time.Time {
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}

// checkName enforces RFC 8428 §4.5.1: a name of A–Z, a–z, 0–9, "-", ":", ".", "/" and "_",
// starting with a letter or digit.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("empty name")
	}
	for i, c := range []byte(name) {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != ':' && c != '.' && c != '/' && c != '_') {
			return fmt.Errorf("name %q: character %q at %d is not allowed (RFC 8428 §4.5.1)", name, c, i)
		}
	}
	return nil
}
