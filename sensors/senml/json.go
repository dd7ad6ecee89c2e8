package senml

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pigw/pigw/sensors"
)

// JSON encodes readings as a SenML JSON pack (application/senml+json); see Pack.
func JSON(base string, t time.Time, readings []sensors.Reading) ([]byte, error) {
	rs, err := Pack(base, t, readings)
	if err != nil {
		return nil, err
	}
	b, err := EncodeJSON(rs)
	if err != nil {
		return nil, fmt.Errorf("senml pack %q: %w", base, err)
	}
	return b, nil
}

// EncodeJSON encodes records as a SenML JSON pack: for packs of several devices, each
// device's records from Pack one after the other (a base name or time in a record holds
// until the next record that sets one, RFC 8428 §4.5).
func EncodeJSON(rs []Record) ([]byte, error) {
	b, err := json.Marshal(rs)
	if err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	return b, nil
}

// jsonLabel tells whether k is a label Record knows, exactly as RFC 8428 spells it.
func jsonLabel(k string) bool {
	switch k {
	case "bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut":
		return true
	}
	return false
}

// DecodeJSON decodes a SenML JSON pack. As RFC 8428 §4.4 asks, it ignores labels it does not
// know, but fails on a must-understand label (ending in "_") and on a version above 10.
// Labels are matched exactly: "V" is not "v".
func DecodeJSON(b []byte) ([]Record, error) {
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("senml JSON: %w", err)
	}
	rs := make([]Record, len(raw))
	for i, m := range raw {
		for k := range m {
			if strings.HasSuffix(k, "_") {
				return nil, fmt.Errorf("senml JSON: record %d: must-understand label %q not supported", i, k)
			}
			if !jsonLabel(k) {
				delete(m, k) // an extension we may ignore; also keeps json's case folding out
			}
		}
		known, err := json.Marshal(m)
		if err == nil {
			d := json.NewDecoder(bytes.NewReader(known))
			err = d.Decode(&rs[i])
		}
		if err != nil {
			return nil, fmt.Errorf("senml JSON: record %d: %w", i, err)
		}
	}
	if err := checkVersion(rs); err != nil {
		return nil, fmt.Errorf("senml JSON: %w", err)
	}
	return rs, nil
}

// Data is a data value ("vd"): bytes in CBOR, base64url without padding in JSON (RFC 8428
// §4.3, §5).
type Data []byte

// MarshalJSON implements json.Marshaler.
func (d Data) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.RawURLEncoding.EncodeToString(d))
}

// UnmarshalJSON implements json.Unmarshaler; it accepts padding, which RFC 8428 §5 asks
// receivers to tolerate.
func (d *Data) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("vd: %w", err)
	}
	v, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return fmt.Errorf("vd: not base64url: %w", err)
	}
	*d = v
	return nil
}

// checkVersion fails if a record asks for a SenML version newer than this package's.
func checkVersion(rs []Record) error {
	for i, r := range rs {
		if r.BaseVersion > Version {
			return fmt.Errorf("record %d: version %d is newer than %d", i, r.BaseVersion, Version)
		}
	}
	return nil
}
