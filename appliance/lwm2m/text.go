package lwm2m

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// The plain text format of a single value (LwM2M 1.1 Core §7.4.1): numbers in decimal,
// booleans as 0 and 1, times as seconds since the epoch, opaque bytes in base64, object links
// as object:instance.

func formatText(v node.Value) string {
	switch v.Type() {
	case node.TypeBoolean:
		if v.Bool() {
			return "1"
		}
		return "0"
	case node.TypeOpaque:
		return base64.StdEncoding.EncodeToString(v.Opaque())
	}
	return v.String()
}

func parseText(t node.Type, b []byte) (node.Value, error) {
	s := string(b)
	switch t {
	case node.TypeString:
		return node.StringValue(s), nil
	case node.TypeInteger, node.TypeTime:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return node.Value{}, fmt.Errorf("%q is not a decimal integer", s)
		}
		if t == node.TypeTime {
			return node.UnixTimeValue(n), nil
		}
		return node.IntValue(n), nil
	case node.TypeUnsigned:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return node.Value{}, fmt.Errorf("%q is not a decimal unsigned integer", s)
		}
		return node.UintValue(n), nil
	case node.TypeFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return node.Value{}, fmt.Errorf("%q is not a finite decimal number", s)
		}
		return node.FloatValue(f), nil
	case node.TypeBoolean:
		switch strings.TrimSpace(s) {
		case "0":
			return node.BoolValue(false), nil
		case "1":
			return node.BoolValue(true), nil
		}
		return node.Value{}, fmt.Errorf("%q is not a boolean: LwM2M writes 0 or 1", s)
	case node.TypeOpaque:
		d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil {
			return node.Value{}, fmt.Errorf("%q is not base64 (opaque bytes as text)", s)
		}
		return node.OpaqueValue(d), nil
	case node.TypeObjLink:
		o, i, ok := strings.Cut(strings.TrimSpace(s), ":")
		on, err1 := strconv.ParseUint(o, 10, 16)
		in, err2 := strconv.ParseUint(i, 10, 16)
		if !ok || err1 != nil || err2 != nil {
			return node.Value{}, fmt.Errorf("%q is not an object link (object:instance, each 0..65535)", s)
		}
		return node.LinkValue(uint16(on), uint16(in)), nil
	}
	return node.Value{}, fmt.Errorf("type %s has no text form", t)
}
