package lwm2m

import (
	"errors"
	"fmt"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m/node"
	"github.com/pigw/pigw/appliance/lwm2m/senml"
	"github.com/pigw/pigw/appliance/lwm2m/tlv"
)

// The Content-Formats of LwM2M 1.1 that pigw reads and writes besides text/plain and
// link-format.
const (
	formatOpaque coap.MediaType = coap.AppOctetStream // 42
	formatTLV    coap.MediaType = 11542
)

// encode gives the records read at p in every format p has, the one for a request without
// Accept first: text/plain for a single resource (LwM2M 1.1 makes it mandatory), SenML CBOR
// for the rest (1.1 clients should not prefer the legacy TLV, Core §7.4).
func encode(p node.Path, recs []node.Record, single bool) ([]coap.Representation, error) {
	var reps []coap.Representation
	if single {
		reps = append(reps, coap.Representation{MediaType: coap.TextPlain, Value: []byte(formatText(recs[0].Value))})
		if recs[0].Value.Type() == node.TypeOpaque {
			reps = append(reps, coap.Representation{MediaType: formatOpaque, Value: recs[0].Value.Opaque()})
		}
	}
	var withValues []node.Record // SenML has no form for an empty instance or multiple resource
	for _, r := range recs {
		if r.Value.Type() != node.TypeNone {
			withValues = append(withValues, r)
		}
	}
	cbor, json := []byte{0x80}, []byte("[]") // nothing to show: an empty pack
	if len(withValues) > 0 {
		var err error
		if cbor, err = senml.EncodeCBOR(senml.Pack{Base: p, Records: withValues}); err != nil {
			return nil, err
		}
		if json, err = senml.EncodeJSON(senml.Pack{Base: p, Records: withValues}); err != nil {
			return nil, err
		}
	}
	t, err := tlv.Encode(p, recs)
	if err != nil {
		return nil, err
	}
	return append(reps,
		coap.Representation{MediaType: coap.AppSenMLCBOR, Value: cbor},
		coap.Representation{MediaType: coap.AppSenMLJSON, Value: json},
		coap.Representation{MediaType: formatTLV, Value: t}), nil
}

// errUnsupportedFormat is a Write in a Content-Format pigw does not take there: 4.15.
var errUnsupportedFormat = errors.New("unsupported Content-Format")

// decode reads a Write's payload sent to at in Content-Format cf into records, with the
// declared types.
func (t *Tree) decode(at node.Path, cf coap.MediaType, payload []byte) ([]node.Record, error) {
	switch cf {
	case coap.TextPlain, formatOpaque:
		r := t.resource(at)
		if at.Depth() != 3 || r == nil || r.Multiple {
			return nil, fmt.Errorf("%w: %s carries one value, and %s is not a single resource", errUnsupportedFormat, cf, at)
		}
		if cf == formatOpaque {
			if r.Type != node.TypeOpaque {
				return nil, fmt.Errorf("%w: %s is for opaque resources, and %s is a %s", errUnsupportedFormat, cf, at, r.Type)
			}
			return []node.Record{{Path: at, Value: node.OpaqueValue(payload)}}, nil
		}
		v, err := parseText(t.typeOf(at), payload)
		if err != nil {
			return nil, fmt.Errorf("%s as %s: %w", at, r.Type, err)
		}
		return []node.Record{{Path: at, Value: v}}, nil
	case formatTLV:
		return tlv.Decode(payload, at, t.typeOf)
	case coap.AppSenMLJSON:
		p, err := senml.DecodeJSON(payload, at, t.typeOf)
		return p.Records, err
	case coap.AppSenMLCBOR:
		p, err := senml.DecodeCBOR(payload, at, t.typeOf)
		return p.Records, err
	case coap.NoMediaType:
		return nil, fmt.Errorf("%w: a Write needs a Content-Format (text/plain, TLV 11542, SenML JSON 110 or SenML CBOR 112)", errUnsupportedFormat)
	}
	return nil, fmt.Errorf("%w: %s; pigw writes text/plain, opaque 42, TLV 11542, SenML JSON 110 and SenML CBOR 112", errUnsupportedFormat, cf)
}
