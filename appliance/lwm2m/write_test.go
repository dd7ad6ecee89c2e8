package lwm2m

import (
	"slices"
	"strings"
	"testing"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m/node"
	"github.com/pigw/pigw/appliance/lwm2m/senml"
	"github.com/pigw/pigw/appliance/lwm2m/tlv"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

func mustEncode(t *testing.T, mt coap.MediaType, at node.Path, recs ...node.Record) []byte {
	t.Helper()
	var b []byte
	var err error
	switch mt {
	case formatTLV:
		b, err = tlv.Encode(at, recs)
	case coap.AppSenMLJSON:
		b, err = senml.EncodeJSON(senml.Pack{Base: at, Records: recs})
	case coap.AppSenMLCBOR:
		b, err = senml.EncodeCBOR(senml.Pack{Base: at, Records: recs})
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A Write of the lifetime in every format reaches the registration's callback, and a Read
// shows it; a Write the callback refuses changes nothing.
func TestWrite(t *testing.T) {
	f := newFixture(t)
	_, p := servedTree(t, f.objects()...)
	lt := func(v int64) node.Record { return node.Record{Path: node.Resource(1, 0, 1), Value: node.IntValue(v)} }
	for _, tc := range []struct {
		code    codes.Code
		path    string
		format  coap.MediaType
		payload []byte
	}{
		{codes.PUT, "1/0/1", coap.TextPlain, []byte("120")},
		{codes.PUT, "1/0/1", formatTLV, mustEncode(t, formatTLV, node.Resource(1, 0, 1), lt(121))},
		{codes.PUT, "1/0/1", coap.AppSenMLJSON, mustEncode(t, coap.AppSenMLJSON, node.Resource(1, 0, 1), lt(122))},
		{codes.PUT, "1/0/1", coap.AppSenMLCBOR, mustEncode(t, coap.AppSenMLCBOR, node.Resource(1, 0, 1), lt(123))},
		{codes.PUT, "1/0", formatTLV, mustEncode(t, formatTLV, node.Instance(1, 0), lt(124))},
		{codes.POST, "1/0", coap.AppSenMLJSON, mustEncode(t, coap.AppSenMLJSON, node.Instance(1, 0), lt(125))},
	} {
		if m := p.do(tc.code, tc.path, tc.payload, format(tc.format)); m.Code != codes.Changed {
			t.Errorf("%v /%s %v: %v %q", tc.code, tc.path, tc.format, m.Code, m.Payload)
		}
	}
	if m := p.do(codes.PUT, "1/0/1", []byte("5"), format(coap.TextPlain)); m.Code != codes.BadRequest || !strings.Contains(string(m.Payload), "want 10 s or more") {
		t.Errorf("lifetime 5 s: %v %q, want 4.00 with the callback's reason", m.Code, m.Payload)
	}
	lifetimes, _, _, _ := f.calls()
	if want := []int64{120, 121, 122, 123, 124, 125}; !slices.Equal(lifetimes, want) {
		t.Errorf("lifetime callback got %v, want %v", lifetimes, want)
	}
	if m := p.do(codes.GET, "1/0/1", nil, accept(coap.TextPlain)); string(m.Payload) != "125" {
		t.Errorf("lifetime reads %q after the writes, want 125", m.Payload)
	}
	// The LED: 5550 written as text and as SenML CBOR (a boolean), Set called each time.
	p.do(codes.PUT, "3201/0/5550", []byte("1"), format(coap.TextPlain))
	if m := p.do(codes.GET, "3201/0/5550", nil); string(m.Payload) != "1" {
		t.Errorf("LED reads %q, want 1", m.Payload)
	}
	p.do(codes.PUT, "3201/0/5550", mustEncode(t, coap.AppSenMLCBOR, node.Resource(3201, 0, 5550),
		node.Record{Path: node.Resource(3201, 0, 5550), Value: node.BoolValue(false)}), format(coap.AppSenMLCBOR))
	if _, _, _, leds := f.calls(); !slices.Equal(leds, []bool{true, false}) {
		t.Errorf("LED set to %v, want [true false]", leds)
	}
	if m := p.do(codes.GET, "3201/0/5550", nil); string(m.Payload) != "0" {
		t.Errorf("LED reads %q, want 0", m.Payload)
	}
}

// Execute calls the resource's function; Reset Min/Max starts them again from the value.
func TestExecute(t *testing.T) {
	f := newFixture(t)
	_, p := servedTree(t, f.objects()...)
	for _, path := range []string{"1/0/8", "3/0/4"} {
		// lwm2m-node-lib sends Content-Format text/plain even without arguments.
		if m := p.do(codes.POST, path, nil, format(coap.TextPlain)); m.Code != codes.Changed {
			t.Errorf("POST /%s: %v %q", path, m.Code, m.Payload)
		}
	}
	if _, triggers, reboots, _ := f.calls(); triggers != 1 || reboots != 1 {
		t.Errorf("update trigger called %d times, reboot %d, want 1 and 1", triggers, reboots)
	}
	for _, v := range []float64{20, 25, 15, 18} {
		f.sensors.Reading("room", "temperature", v)
	}
	read := func(path string) string { return string(p.do(codes.GET, path, nil).Payload) }
	if lo, hi := read("3303/0/5601"), read("3303/0/5602"); lo != "15" || hi != "25" {
		t.Errorf("min/max %s/%s, want 15/25", lo, hi)
	}
	p.do(codes.POST, "3303/0/5605", nil)
	if lo, hi := read("3303/0/5601"), read("3303/0/5602"); lo != "18" || hi != "18" {
		t.Errorf("min/max after the reset %s/%s, want 18/18", lo, hi)
	}
}

// Each refusal has LwM2M's code and says why.
func TestErrors(t *testing.T) {
	f := newFixture(t)
	_, p := servedTree(t, f.objects()...)
	for _, tc := range []struct {
		code    codes.Code
		path    string
		payload string
		opts    []opt
		want    codes.Code
		why     string
	}{
		{codes.GET, "3/0/77", "", nil, codes.NotFound, ""},
		{codes.PUT, "9/0/1", "1", []opt{format(coap.TextPlain)}, codes.NotFound, ""},
		{codes.PUT, "3/0/0", "x", []opt{format(coap.TextPlain)}, codes.MethodNotAllowed, "not writable"},
		{codes.PUT, "3/0", "", []opt{format(formatTLV)}, codes.Changed, ""}, // nothing to write
		{codes.PUT, "3/0", string(mustEncode(t, formatTLV, node.Instance(3, 0), node.Record{Path: node.Resource(3, 0, 0), Value: node.StringValue("x")})),
			[]opt{format(formatTLV)}, codes.MethodNotAllowed, "/3/0/0 (Manufacturer)"},
		{codes.PUT, "3", "", []opt{format(formatTLV)}, codes.MethodNotAllowed, "name an instance"},
		{codes.POST, "3/0/0", "", nil, codes.MethodNotAllowed, "not executable"},
		{codes.POST, "1/0/1", "", nil, codes.MethodNotAllowed, "not executable"},
		{codes.POST, "3", "", []opt{format(formatTLV)}, codes.MethodNotAllowed, "Create"},
		{codes.DELETE, "3/0", "", nil, codes.MethodNotAllowed, ""},
		{codes.PUT, "1/0/1", "abc", []opt{format(coap.TextPlain)}, codes.BadRequest, `"abc" is not a decimal integer`},
		{codes.PUT, "1/0/1", "0", []opt{format(coap.TextPlain)}, codes.BadRequest, "want 1..4294967295"},
		{codes.PUT, "3201/0/5550", "yes", []opt{format(coap.TextPlain)}, codes.BadRequest, "0 or 1"},
		{codes.PUT, "1/0/1", "\xc2\x01", []opt{format(formatTLV)}, codes.BadRequest, "tlv"},
		{codes.PUT, "1/0/1", "120", []opt{format(coap.AppJSON)}, codes.UnsupportedMediaType, "application/json"},
		{codes.PUT, "1/0/1", "120", nil, codes.UnsupportedMediaType, "needs a Content-Format"},
		{codes.PUT, "1/0", "120", []opt{format(coap.TextPlain)}, codes.UnsupportedMediaType, "not a single resource"},
		{codes.PUT, "1/0/1", "120", []opt{format(formatOpaque)}, codes.UnsupportedMediaType, "opaque"},
		{codes.PUT, "3303/0/5700", "", []opt{query("pmin=1"), query("foo=2")}, codes.BadRequest, `unknown attribute "foo"`},
		{codes.PUT, "3303/0/5700", "", []opt{query("pmin=10"), query("pmax=5")}, codes.BadRequest, "pmin 10 is greater than pmax 5"},
		{codes.PUT, "3303/0/5700", "", []opt{query("pmin=-1")}, codes.BadRequest, "pmin=\"-1\""},
		{codes.PUT, "3303/0/5700", "", []opt{query("gt=warm")}, codes.BadRequest, "gt=\"warm\""},
		{codes.PUT, "3303/0/5700", "", []opt{query("gt=10"), query("lt=20")}, codes.BadRequest, "lt 20 must be less than gt 10"},
		{codes.PUT, "3303/0/5700", "", []opt{query("gt=30"), query("lt=20"), query("st=5")}, codes.BadRequest, "2×st"},
		{codes.PUT, "3303/0/5700", "", []opt{query("st=-1")}, codes.BadRequest, "not negative"},
		{codes.PUT, "3303/0/5701", "", []opt{query("gt=1")}, codes.BadRequest, "numeric"},
		{codes.PUT, "3303/0", "", []opt{query("st=1")}, codes.BadRequest, "applies to a resource"},
		{codes.PUT, "3303/0/5605", "", []opt{query("pmin=1")}, codes.BadRequest, "executable"},
		{codes.PUT, "3303/0/5700", "", []opt{query("pmin=1"), query("pmin=2")}, codes.BadRequest, "given twice"},
		{codes.PUT, "3303/0/5700", "1", []opt{query("pmin=1"), format(coap.TextPlain)}, codes.BadRequest, "a Write has no query"},
	} {
		m := p.do(tc.code, tc.path, []byte(tc.payload), tc.opts...)
		if m.Code != tc.want || !strings.Contains(string(m.Payload), tc.why) {
			t.Errorf("%v /%s %q %v: %v %q, want %v with %q", tc.code, tc.path, tc.payload, tc.opts, m.Code, m.Payload, tc.want, tc.why)
		}
	}
	// An inherited pmin above a resource's own pmax is refused where it is written.
	p.do(codes.PUT, "3304/0/5700", nil, query("pmax=5"))
	if m := p.do(codes.PUT, "3304", nil, query("pmin=10")); m.Code != codes.BadRequest || !strings.Contains(string(m.Payload), "/3304/0/5700: pmin 10 is greater than pmax 5") {
		t.Errorf("pmin 10 on /3304 over pmax 5 on /3304/0/5700: %v %q", m.Code, m.Payload)
	}
	if lifetimes, _, _, _ := f.calls(); len(lifetimes) != 0 {
		t.Errorf("refused writes reached the lifetime callback: %v", lifetimes)
	}
}
