package senml

import (
	"fmt"
	"math"
)

// Resolve returns the resolved form of a pack (RFC 8428 §4.6): every record with its full
// name, absolute time, unit, value and sum, and no base fields. This is what a consumer
// compares, since one pack can be written with or without base fields. Times below 2**28
// are relative to "now" (§4.5.3) and stay relative here.
func Resolve(pack []Record) ([]Record, error) {
	if err := checkVersion(pack); err != nil {
		return nil, fmt.Errorf("senml: %w", err)
	}
	var base Record // the base fields in effect
	out := make([]Record, len(pack))
	for i, r := range pack {
		if r.BaseName != "" {
			base.BaseName = r.BaseName
		}
		if r.BaseTime != 0 {
			base.BaseTime = r.BaseTime
		}
		if r.BaseUnit != "" {
			base.BaseUnit = r.BaseUnit
		}
		if r.BaseValue != 0 {
			base.BaseValue = r.BaseValue
		}
		if r.BaseSum != 0 {
			base.BaseSum = r.BaseSum
		}
		res := Record{
			Name:        base.BaseName + r.Name,
			Unit:        r.Unit,
			StringValue: r.StringValue,
			BoolValue:   r.BoolValue,
			DataValue:   r.DataValue,
			Time:        base.BaseTime + r.Time,
			UpdateTime:  r.UpdateTime,
		}
		if err := checkName(res.Name); err != nil {
			return nil, fmt.Errorf("senml: record %d: %w", i, err)
		}
		if res.Unit == "" {
			res.Unit = base.BaseUnit
		}
		if r.Value != nil {
			v := base.BaseValue + *r.Value
			res.Value = &v
		}
		if r.Sum != nil {
			s := base.BaseSum + *r.Sum
			res.Sum = &s
		}
		if err := checkFinite(res); err != nil {
			return nil, fmt.Errorf("senml: record %d (%s): %w", i, res.Name, err)
		}
		if res.Value == nil && res.StringValue == nil && res.BoolValue == nil && res.DataValue == nil && res.Sum == nil {
			return nil, fmt.Errorf("senml: record %d (%s): no value and no sum", i, res.Name)
		}
		out[i] = res
	}
	return out, nil
}

// checkFinite fails when a number of r is NaN or an infinity: SenML JSON has no such
// numbers, so a CBOR pack must not carry them either (Pack refuses them too), and a base
// added to a value must not overflow.
func checkFinite(r Record) error {
	for _, n := range []struct {
		label string
		v     *float64
	}{
		{"bt", &r.BaseTime}, {"bv", &r.BaseValue}, {"bs", &r.BaseSum},
		{"v", r.Value}, {"s", r.Sum}, {"t", &r.Time}, {"ut", &r.UpdateTime},
	} {
		if n.v != nil && (math.IsNaN(*n.v) || math.IsInf(*n.v, 0)) {
			return fmt.Errorf("%s is %v, not a finite number", n.label, *n.v)
		}
	}
	return nil
}
