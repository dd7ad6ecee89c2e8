package senml

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// jsonRecord is a record in SenML JSON, its fields in the order they are written.
type jsonRecord struct {
	BN  *string      `json:"bn,omitempty"`
	BT  *float64     `json:"bt,omitempty"`
	N   *string      `json:"n,omitempty"`
	V   *json.Number `json:"v,omitempty"`
	VS  *string      `json:"vs,omitempty"`
	VB  *bool        `json:"vb,omitempty"`
	VD  *string      `json:"vd,omitempty"`
	VLO *string      `json:"vlo,omitempty"`
	T   *float64     `json:"t,omitempty"`
}

// EncodeJSON encodes p as SenML JSON: [{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},…].
// Opaque bytes are base64url without padding (RFC 8428 §4.3).
func EncodeJSON(p Pack) ([]byte, error) {
	es, err := entries(p)
	if err != nil {
		return nil, fmt.Errorf("senml json: %w", err)
	}
	rs := make([]jsonRecord, len(es))
	for i, e := range es {
		r := &rs[i]
		if e.hasBN {
			r.BN = &e.bn
		}
		if e.hasBT {
			r.BT = &e.bt
		}
		if e.hasN {
			r.N = &e.n
		}
		if e.hasT {
			r.T = &e.t
		}
		switch v := e.value; v.Type() {
		case node.TypeString:
			s := v.String()
			r.VS = &s
		case node.TypeBoolean:
			b := v.Bool()
			r.VB = &b
		case node.TypeOpaque:
			s := base64.RawURLEncoding.EncodeToString(v.Opaque())
			r.VD = &s
		case node.TypeObjLink:
			s := v.String()
			r.VLO = &s
		default: // the numbers: their String is a JSON number
			n := json.Number(v.String())
			r.V = &n
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rs); err != nil {
		return nil, fmt.Errorf("senml json: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// DecodeJSON decodes a SenML JSON payload sent to path at, with the types typeOf declares.
// It ignores labels it does not know (RFC 8428 §4.4) but refuses must-understand ones (a
// name ending in "_"), and base values and sums, which LwM2M does not use.
func DecodeJSON(b []byte, at node.Path, typeOf node.TypeOf) (Pack, error) {
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Pack{}, fmt.Errorf("senml json: %w", err)
	}
	fs := make([]fields, len(raw))
	for i, m := range raw {
		if err := fs[i].fromJSON(m); err != nil {
			return Pack{}, fmt.Errorf("senml json: record %d: %w", i, err)
		}
	}
	p, err := resolve(fs, at, typeOf)
	if err != nil {
		return Pack{}, fmt.Errorf("senml json: %w", err)
	}
	return p, nil
}

func (f *fields) fromJSON(m map[string]json.RawMessage) error {
	for k, raw := range m {
		var err error
		switch k {
		case "bn":
			f.bn, err = jsonAs[string](raw)
		case "n":
			f.n, err = jsonAs[string](raw)
		case "bt":
			f.bt, err = jsonAs[float64](raw)
		case "t":
			f.t, err = jsonAs[float64](raw)
		case "v":
			f.values++
			f.v, err = jsonNumber(raw)
		case "vs":
			f.values++
			f.vs, err = jsonAs[string](raw)
		case "vb":
			f.values++
			f.vb, err = jsonAs[bool](raw)
		case "vlo":
			f.values++
			f.vlo, err = jsonAs[string](raw)
		case "vd":
			f.values++
			var s *string
			if s, err = jsonAs[string](raw); err == nil {
				f.vd, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(*s, "="))
				f.hasVD = true
			}
		case "bver":
			var ver *float64
			if ver, err = jsonAs[float64](raw); err == nil && *ver > 10 {
				err = fmt.Errorf("version %v: this decoder reads SenML version 10 (RFC 8428 §4.4)", *ver)
			}
		default:
			if why := unsupported(k); why != "" {
				return fmt.Errorf("label %q: %s", k, why)
			}
		}
		if err != nil {
			return fmt.Errorf("%q: %w", k, err)
		}
	}
	return nil
}

// jsonAs decodes a JSON value that must be a T (null is not).
func jsonAs[T any](raw json.RawMessage) (*T, error) {
	var v T
	if bytes.Equal(raw, []byte("null")) {
		return nil, fmt.Errorf("null, where a %T is expected", v)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// jsonNumber decodes a JSON number exactly: integers as integers (up to 64 bits), others as
// floats.
func jsonNumber(raw json.RawMessage) (*number, error) {
	s := string(raw)
	if s == "" || s[0] != '-' && (s[0] < '0' || s[0] > '9') {
		return nil, fmt.Errorf("%s, where a number is expected", s)
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return &number{isInt: true, mag: u}, nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && i < 0 {
		return &number{isInt: true, neg: true, mag: uint64(-1 - i)}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%s is not a number a float64 holds", s)
	}
	return &number{f: f}, nil
}
