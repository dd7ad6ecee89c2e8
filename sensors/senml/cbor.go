package senml

import (
	"fmt"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/pigw/pigw/sensors"
)

// cborModes holds the encoder and decoder; built per call, because the package keeps no
// mutable state and the options are cheap to validate.
func cborModes() (cbor.EncMode, cbor.DecMode, error) {
	// Core deterministic encoding (RFC 8949 §4.2): sorted labels and the shortest float
	// that keeps the value (45 as a half-precision float, 23.1 as a double), so the same
	// readings give the same bytes, and an ETag can be their hash.
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		return nil, nil, err
	}
	dm, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF}.DecMode()
	if err != nil {
		return nil, nil, err
	}
	return em, dm, nil
}

// CBOR encodes readings as a SenML CBOR pack (application/senml+cbor), with the integer labels
// of RFC 8428 §6; see Pack.
func CBOR(base string, t time.Time, readings []sensors.Reading) ([]byte, error) {
	rs, err := Pack(base, t, readings)
	if err != nil {
		return nil, err
	}
	b, err := EncodeCBOR(rs)
	if err != nil {
		return nil, fmt.Errorf("senml pack %q: %w", base, err)
	}
	return b, nil
}

// EncodeCBOR encodes records as a SenML CBOR pack, deterministically; see EncodeJSON. Like
// JSON, it takes only finite numbers.
func EncodeCBOR(rs []Record) ([]byte, error) {
	em, _, err := cborModes()
	if err != nil {
		return nil, fmt.Errorf("CBOR: %w", err)
	}
	for i, r := range rs {
		if err := checkFinite(r); err != nil {
			return nil, fmt.Errorf("CBOR: record %d: %w", i, err)
		}
	}
	b, err := em.Marshal(rs)
	if err != nil {
		return nil, fmt.Errorf("CBOR: %w", err)
	}
	return b, nil
}

// RFC 8428 §6 Table 4 numbers the labels Record knows from -6 (bs) to 8 (vd), all in use.
const cborLabelMin, cborLabelMax = -6, 8

// DecodeCBOR decodes a SenML CBOR pack, with DecodeJSON's rules for unknown labels (RFC 8428
// §6: extensions have text labels; must-understand ones end in "_") and versions. Numbers must
// be finite, as in JSON: a NaN or an infinity is an error.
func DecodeCBOR(b []byte) ([]Record, error) {
	em, dm, err := cborModes()
	if err != nil {
		return nil, fmt.Errorf("senml CBOR: %w", err)
	}
	var raw []map[any]cbor.RawMessage
	if err := dm.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("senml CBOR: %w", err)
	}
	rs := make([]Record, len(raw))
	for i, m := range raw {
		for k := range m {
			switch k := k.(type) {
			case string:
				if strings.HasSuffix(k, "_") {
					return nil, fmt.Errorf("senml CBOR: record %d: must-understand label %q not supported", i, k)
				}
				delete(m, k)
			case uint64:
				if k > cborLabelMax {
					delete(m, k)
				}
			case int64:
				if k < cborLabelMin || k > cborLabelMax {
					delete(m, k)
				}
			default:
				delete(m, k)
			}
		}
		known, err := em.Marshal(m)
		if err == nil {
			err = dm.Unmarshal(known, &rs[i])
		}
		if err == nil {
			err = checkFinite(rs[i])
		}
		if err != nil {
			return nil, fmt.Errorf("senml CBOR: record %d: %w", i, err)
		}
	}
	if err := checkVersion(rs); err != nil {
		return nil, fmt.Errorf("senml CBOR: %w", err)
	}
	return rs, nil
}
