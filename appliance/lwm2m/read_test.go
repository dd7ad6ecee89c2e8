package lwm2m

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m/node"
	"github.com/pigw/pigw/appliance/lwm2m/senml"
	"github.com/pigw/pigw/appliance/lwm2m/tlv"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// The device object's values as records, for comparing what a Read answered.
func deviceRecords() []node.Record {
	return []node.Record{
		{Path: node.Resource(3, 0, 0), Value: node.StringValue("Raspberry Pi Ltd")},
		{Path: node.Resource(3, 0, 1), Value: node.StringValue("Raspberry Pi 3 Model B Rev 1.2")},
		{Path: node.Resource(3, 0, 2), Value: node.StringValue("00000000a1b2c3d4")},
		{Path: node.Resource(3, 0, 3), Value: node.StringValue("v0.9.0")},
		{Path: node.ResourceInstance(3, 0, 11, 0), Value: node.IntValue(0)},
		{Path: node.Resource(3, 0, 13), Value: node.TimeValue(fixtureNow)},
		{Path: node.Resource(3, 0, 16), Value: node.StringValue("U")},
	}
}

func TestRead(t *testing.T) {
	f := newFixture(t)
	tree, p := servedTree(t, f.objects()...)
	if err := f.sensors.Reading("room", "temperature", 21.5); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		accept coap.MediaType // NoMediaType: no Accept
		code   codes.Code
		format coap.MediaType
		text   string // the payload, for text answers
	}{
		{"3/0/0", coap.TextPlain, codes.Content, coap.TextPlain, "Raspberry Pi Ltd"},
		{"3/0/0", coap.NoMediaType, codes.Content, coap.TextPlain, "Raspberry Pi Ltd"},
		{"3/0/13", coap.TextPlain, codes.Content, coap.TextPlain, "1777718415"},
		{"1/0/6", coap.TextPlain, codes.Content, coap.TextPlain, "0"},
		{"1/0/1", coap.TextPlain, codes.Content, coap.TextPlain, "300"},
		{"3303/0/5700", coap.TextPlain, codes.Content, coap.TextPlain, "21.5"},
		{"3303/0/5750", coap.TextPlain, codes.Content, coap.TextPlain, "room"},
		{"3/0", coap.NoMediaType, codes.Content, coap.AppSenMLCBOR, ""},
		{"3/0/11", coap.NoMediaType, codes.Content, coap.AppSenMLCBOR, ""},
		{"3/0", coap.TextPlain, codes.NotAcceptable, coap.NoMediaType, ""},
		{"3/0/11", coap.TextPlain, codes.NotAcceptable, coap.NoMediaType, ""},
		{"3/0/0", coap.AppJSON, codes.NotAcceptable, coap.NoMediaType, ""},
		{"3/0/0", formatOpaque, codes.NotAcceptable, coap.NoMediaType, ""},
		{"3303/1/5700", coap.TextPlain, codes.ServiceUnavailable, coap.NoMediaType, "cellar: no reading yet"},
		{"3/0/4", coap.TextPlain, codes.MethodNotAllowed, coap.NoMediaType, errDiscoverOrRead},
		{"3/0/4", coap.NoMediaType, codes.MethodNotAllowed, coap.NoMediaType, errDiscoverOrRead},
		{"3/0/99", coap.TextPlain, codes.NotFound, coap.NoMediaType, ""},
		{"3/1", coap.NoMediaType, codes.NotFound, coap.NoMediaType, ""},
		{"4", coap.NoMediaType, codes.NotFound, coap.NoMediaType, ""},
		{"3/0/0/0", coap.NoMediaType, codes.NotFound, coap.NoMediaType, ""},
	} {
		var opts []opt
		if tc.accept != coap.NoMediaType {
			opts = append(opts, accept(tc.accept))
		}
		m := p.do(codes.GET, tc.path, nil, opts...)
		if m.Code != tc.code || cf(m) != tc.format || tc.text != "" && string(m.Payload) != tc.text && tc.code != codes.ServiceUnavailable {
			t.Errorf("GET /%s Accept %v: %v %v %q, want %v %v %q", tc.path, tc.accept, m.Code, cf(m), m.Payload, tc.code, tc.format, tc.text)
		}
		if tc.code == codes.ServiceUnavailable && string(m.Payload) == "" {
			t.Errorf("GET /%s: 5.03 without why", tc.path)
		}
	}
	// A Read reads again what changed without a Changed: the clock.
	f.setClock(fixtureNow.Add(time.Hour))
	if m := p.do(codes.GET, "3/0/13", nil); string(m.Payload) != "1777722015" {
		t.Errorf("Current Time an hour on reads %q, want 1777722015", m.Payload)
	}
	f.setClock(fixtureNow)
	// /3/0 in each format decodes, with the project's own decoders, to the device's values.
	decoders := map[coap.MediaType]func([]byte) ([]node.Record, error){
		formatTLV: func(b []byte) ([]node.Record, error) { return tlv.Decode(b, node.Instance(3, 0), tree.typeOf) },
		coap.AppSenMLJSON: func(b []byte) ([]node.Record, error) {
			pk, err := senml.DecodeJSON(b, node.Instance(3, 0), tree.typeOf)
			return pk.Records, err
		},
		coap.AppSenMLCBOR: func(b []byte) ([]node.Record, error) {
			pk, err := senml.DecodeCBOR(b, node.Instance(3, 0), tree.typeOf)
			return pk.Records, err
		},
	}
	for mt, dec := range decoders {
		m := p.do(codes.GET, "3/0", nil, accept(mt))
		if m.Code != codes.Content || cf(m) != mt {
			t.Fatalf("GET /3/0 Accept %v: %v %v", mt, m.Code, cf(m))
		}
		recs, err := dec(m.Payload)
		if err != nil || !slices.Equal(recs, deviceRecords()) {
			t.Errorf("GET /3/0 Accept %v: %v %v\nwant %v", mt, recs, err, deviceRecords())
		}
	}
	// An instance leaves out what cannot be read now; the object shows every instance.
	m := p.do(codes.GET, "3303", nil, accept(formatTLV))
	recs, err := tlv.Decode(m.Payload, node.Object(3303), tree.typeOf)
	want := []node.Record{
		{Path: node.Resource(3303, 0, 5700), Value: node.FloatValue(21.5)},
		{Path: node.Resource(3303, 0, 5701), Value: node.StringValue("Cel")},
		{Path: node.Resource(3303, 0, 5601), Value: node.FloatValue(21.5)},
		{Path: node.Resource(3303, 0, 5602), Value: node.FloatValue(21.5)},
		{Path: node.Resource(3303, 0, 5750), Value: node.StringValue("room")},
		{Path: node.Resource(3303, 1, 5701), Value: node.StringValue("Cel")},
		{Path: node.Resource(3303, 1, 5750), Value: node.StringValue("cellar")},
	}
	if err != nil || !slices.Equal(recs, want) {
		t.Errorf("GET /3303 TLV: %v %v\nwant %v", recs, err, want)
	}
}

// An instance with nothing readable now reads as nothing in every format, and an object shows
// it as an empty instance; a multiple resource with no instances reads as an empty one.
func TestReadEmpty(t *testing.T) {
	failing := func() (node.Value, error) { return node.Value{}, fmt.Errorf("%w: not yet", ErrUnavailable) }
	none := func() ([]node.Value, error) { return nil, nil }
	obj := &Object{ID: 5000, Instances: []*Instance{{ID: 0, Resources: []Resource{
		{ID: 1, Name: "Later", Type: node.TypeFloat, Ops: R, Read: failing},
		{ID: 2, Name: "Codes", Type: node.TypeInteger, Ops: R, Multiple: true, ReadAll: none},
	}}}}
	_, p := servedTree(t, obj)
	for _, tc := range []struct {
		path   string
		accept coap.MediaType
		want   string
	}{
		{"5000/0/2", formatTLV, "\x80\x02"}, // a multiple resource TLV of length 0
		{"5000/0", coap.AppSenMLJSON, "[]"},
		{"5000/0", coap.AppSenMLCBOR, "\x80"},
		{"5000/0/2", coap.AppSenMLJSON, "[]"},
	} {
		m := p.do(codes.GET, tc.path, nil, accept(tc.accept))
		if m.Code != codes.Content || string(m.Payload) != tc.want {
			t.Errorf("GET /%s Accept %v: %v % x, want % x", tc.path, tc.accept, m.Code, m.Payload, tc.want)
		}
	}
	m := p.do(codes.GET, "5000", nil, accept(formatTLV))
	recs, err := tlv.Decode(m.Payload, node.Object(5000), func(node.Path) node.Type { return node.TypeInteger })
	if want := []node.Record{{Path: node.Resource(5000, 0, 2)}}; err != nil || !slices.Equal(recs, want) {
		t.Errorf("GET /5000 TLV: % x decodes to %v %v, want %v", m.Payload, recs, err, want)
	}
}
