package lwm2m

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m/node"
	"github.com/pigw/pigw/appliance/lwm2m/senml"
	"github.com/pigw/pigw/appliance/lwm2m/tlv"
	"github.com/pigw/pigw/internal/lwm2mtest"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// These tests run the objects against lwm2m-node-lib (internal/lwm2mtest), a server that is
// not pigw's: it registers them through a coap.Session that serves the tree, as the appliance
// will, and sends the requests a fleet server sends over the registration's socket.

// register is the tests' own Register, not the registration engine (another package's): a CON
// POST rd?ep=..&lt=..&lwm2m=1.1&b=U with the tree's links over the session that serves it. It
// returns the location, read from the raw Location-Path options: lwm2m-node-lib sends one
// option "rd/1", which go-coap's Options.LocationPath refuses.
func register(t *testing.T, s *coap.Session, ep string, links string) string {
	t.Helper()
	req := coap.NewRequest(coap.POST, "rd?ep="+ep+"&lt=300&lwm2m=1.1&b=U")
	req.ContentFormat, req.Payload = coap.AppLinkFormat, []byte(links)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.Do(ctx, req)
	if err != nil || r.Code != coap.Code(codes.Created) {
		t.Fatalf("register %s: %v %v", ep, r.Code, err)
	}
	var segs []string
	for _, o := range r.Options {
		if o.ID == uint16(message.LocationPath) {
			segs = append(segs, string(o.Value))
		}
	}
	return strings.Join(segs, "/")
}

// harnessClient starts the server and a fixture client registered with it as ep.
func harnessClient(t *testing.T, ep string) (*lwm2mtest.Server, *fixture, *Tree, *coap.Server) {
	t.Helper()
	srv := lwm2mtest.Start(t)
	f := newFixture(t)
	tree, sess, cs := servingSession(t, fmt.Sprintf("127.0.0.1:%d", srv.Port()), f.objects()...)
	if loc := register(t, sess, ep, tree.Links()); !strings.HasPrefix(loc, "rd/") {
		t.Fatalf("register: location %q", loc)
	}
	return srv, f, tree, cs
}

func harnessCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestHarnessOperations: the registration the server saw, and Read, Write, Execute and the
// error codes as it gets them.
func TestHarnessOperations(t *testing.T) {
	t.Parallel()
	const ep = "pigw-ops"
	srv, f, tree, _ := harnessClient(t, ep)
	ctx := harnessCtx(t, 30*time.Second)
	reg, err := srv.Next(ctx, lwm2mtest.Register)
	if err != nil {
		t.Fatal(err)
	}
	wantLinks := []string{`</>;rt="oma.lwm2m";ct="110 112 11542"`, "</1>;ver=1.1", "</1/0>", "</3>;ver=1.1", "</3/0>",
		"</3200/0>", "</3201/0>", "</3303/0>", "</3303/1>", "</3304/0>", "</3315/0>"}
	if !slices.Equal(reg.Links, wantLinks) || reg.Version != "1.1" || reg.Binding != "U" || reg.Format != 40 {
		t.Errorf("register: links %q lwm2m=%q b=%q format %d\nwant links %q", reg.Links, reg.Version, reg.Binding, reg.Format, wantLinks)
	}
	for _, l := range reg.Links {
		if strings.HasPrefix(l, "</0") {
			t.Errorf("object 0 registered: %s", l)
		}
	}
	f.sensors.Reading("room", "temperature", 21.25)
	f.sensors.Reading("room", "humidity", 48)
	f.sensors.Reading("room", "pressure", 101325)
	f.sensors.Reading("cellar", "temperature", 12.5)
	for _, tc := range []struct {
		path  string
		value string
	}{{"/3/0/0", "Raspberry Pi Ltd"}, {"/3303/0/5700", "21.25"}, {"/3304/0/5700", "48"}, {"/3315/0/5700", "101325"},
		{"/3303/1/5700", "12.5"}, {"/3303/1/5701", "Cel"}} {
		r, err := srv.Read(ctx, ep, tc.path, lwm2mtest.Text)
		if err != nil || r.Code != "2.05" || r.Format != 0 || string(r.Payload) != tc.value {
			t.Errorf("Read %s as text: %v %v, want 2.05 %q", tc.path, r, err, tc.value)
		}
	}
	for _, tc := range []struct {
		format lwm2mtest.Format
		decode func([]byte) ([]node.Record, error)
	}{
		{lwm2mtest.TLV, func(b []byte) ([]node.Record, error) { return tlv.Decode(b, node.Instance(3, 0), tree.typeOf) }},
		{lwm2mtest.SenMLJSON, func(b []byte) ([]node.Record, error) {
			p, err := senml.DecodeJSON(b, node.Instance(3, 0), tree.typeOf)
			return p.Records, err
		}},
	} {
		r, err := srv.Read(ctx, ep, "/3/0", tc.format)
		if err != nil || r.Code != "2.05" || r.Format != tc.format.Number() {
			t.Fatalf("Read /3/0 as %s: %v %v", tc.format, r, err)
		}
		recs, err := tc.decode(r.Payload)
		if err != nil || !slices.Equal(recs, deviceRecords()) {
			t.Errorf("Read /3/0 as %s decodes to %v %v\nwant %v", tc.format, recs, err, deviceRecords())
		}
	}

	if r, err := srv.Write(ctx, ep, "/1/0/1", lwm2mtest.Text, []byte("120")); err != nil || r.Code != "2.04" {
		t.Errorf("Write /1/0/1 120: %v %v", r, err)
	}
	if r, err := srv.Execute(ctx, ep, "/1/0/8", ""); err != nil || r.Code != "2.04" {
		t.Errorf("Execute /1/0/8: %v %v", r, err)
	}
	if lifetimes, triggers, _, _ := f.calls(); !slices.Equal(lifetimes, []int64{120}) || triggers != 1 {
		t.Errorf("the registration's callbacks got lifetimes %v and %d triggers, want [120] and 1", lifetimes, triggers)
	}
	if r, _ := srv.Read(ctx, ep, "/1/0/1", lwm2mtest.Text); string(r.Payload) != "120" {
		t.Errorf("Read /1/0/1 after the Write: %v", r)
	}

	for _, tc := range []struct {
		name string
		call func() (lwm2mtest.Reply, error)
		code string
	}{
		{"read unknown", func() (lwm2mtest.Reply, error) { return srv.Read(ctx, ep, "/3/0/99", lwm2mtest.Text) }, "4.04"},
		{"read unknown object", func() (lwm2mtest.Reply, error) { return srv.Read(ctx, ep, "/5/0", lwm2mtest.TLV) }, "4.04"},
		{"write read-only", func() (lwm2mtest.Reply, error) { return srv.Write(ctx, ep, "/3/0/0", lwm2mtest.Text, []byte("x")) }, "4.05"},
		{"execute not executable", func() (lwm2mtest.Reply, error) { return srv.Execute(ctx, ep, "/3/0/0", "") }, "4.05"},
		{"read executable", func() (lwm2mtest.Reply, error) { return srv.Read(ctx, ep, "/3/0/4", lwm2mtest.Text) }, "4.05"},
		{"write bad value", func() (lwm2mtest.Reply, error) { return srv.Write(ctx, ep, "/1/0/1", lwm2mtest.Text, []byte("soon")) }, "4.00"},
		{"write-attributes pmin > pmax", func() (lwm2mtest.Reply, error) {
			return srv.WriteAttributes(ctx, ep, "/3303/0/5700", lwm2mtest.Attributes{"pmin": 9, "pmax": 3})
		}, "4.00"},
		{"read instance as text", func() (lwm2mtest.Reply, error) { return srv.Read(ctx, ep, "/3/0", lwm2mtest.Text) }, "4.06"},
		{"read as opaque", func() (lwm2mtest.Reply, error) { return srv.Read(ctx, ep, "/3/0/0", lwm2mtest.Opaque) }, "4.06"},
	} {
		r, err := tc.call()
		if err != nil || r.Code != tc.code {
			t.Errorf("%s: %v %v, want %s", tc.name, r, err, tc.code)
		}
	}
	if lifetimes, _, _, _ := f.calls(); len(lifetimes) != 1 {
		t.Errorf("a refused Write reached the lifetime callback: %v", lifetimes)
	}
}

// TestHarnessObservePeriods: Write-Attributes pmin=2&pmax=5 on a sensor value, Discover
// showing them, then an observation while the value changes every 200 ms for 10 s and holds
// for 11 s: no two notifications closer than pmin, none farther apart than pmax (with
// tolerances for a busy CI machine; the gaps are printed).
func TestHarnessObservePeriods(t *testing.T) {
	t.Parallel()
	const ep = "pigw-periods"
	srv, f, _, _ := harnessClient(t, ep)
	ctx := harnessCtx(t, 60*time.Second)
	f.sensors.Reading("room", "temperature", 20)
	if r, err := srv.WriteAttributes(ctx, ep, "/3303/0/5700", lwm2mtest.Attributes{"pmin": 2, "pmax": 5}); err != nil || r.Code != "2.04" {
		t.Fatalf("Write-Attributes: %v %v", r, err)
	}
	r, err := srv.Discover(ctx, ep, "/3303/0/5700")
	if want := "</3303/0/5700>;pmin=2;pmax=5"; err != nil || r.Code != "2.05" || string(r.Payload) != want {
		t.Errorf("Discover /3303/0/5700: %v %v, want %s", r, err, want)
	}
	r, err = srv.Observe(ctx, ep, "/3303/0/5700", lwm2mtest.Text)
	if err != nil || r.Code != "2.05" || string(r.Payload) != "20" {
		t.Fatalf("Observe: %v %v", r, err)
	}
	start := time.Now()
	const changing, holding = 10 * time.Second, 11 * time.Second
	v := 20.0
	for i, tick := 1, time.NewTicker(200*time.Millisecond); time.Since(start) < changing; i, _ = i+1, <-tick.C {
		v = 20 + float64(i)/10
		f.sensors.Reading("room", "temperature", v)
	}
	time.Sleep(holding)

	var notes []lwm2mtest.Event
	for _, e := range srv.Events() {
		if e.Kind == lwm2mtest.Notify && e.Path == "/3303/0/5700" {
			notes = append(notes, e)
		}
	}
	const pmin, pmax = 2 * time.Second, 5 * time.Second
	const early, late = 300 * time.Millisecond, 1500 * time.Millisecond
	if len(notes) < 6 {
		t.Fatalf("%d notifications in 21 s, want one at least every pmax", len(notes))
	}
	for i := 1; i < len(notes); i++ {
		gap := notes[i].Time.Sub(notes[i-1].Time)
		t.Logf("notification %2d at %5.2f s: %-6s gap %v", notes[i].Observe, notes[i].Time.Sub(start).Seconds(), notes[i].Payload, gap)
		if gap < pmin-early || gap > pmax+late {
			t.Errorf("notification %d: %v after the one before, want %v..%v (pmin..pmax, tolerance -%v/+%v)", i, gap, pmin, pmax, early, late)
		}
	}
	if last := string(notes[len(notes)-1].Payload); last != strconv.FormatFloat(v, 'g', -1, 64) {
		t.Errorf("the last notification carries %s, want the last value %g", last, v)
	}
}

// TestHarnessLatencyCancel: with no attributes a reading notifies at once (the time from the
// reading to the server's notify event is printed), and after Cancel nothing arrives, not even
// at pmax.
func TestHarnessLatencyCancel(t *testing.T) {
	t.Parallel()
	const ep = "pigw-latency"
	srv, f, _, cs := harnessClient(t, ep)
	ctx := harnessCtx(t, 60*time.Second)
	f.sensors.Reading("cellar", "temperature", 10)
	if r, err := srv.Observe(ctx, ep, "/3303/1/5700", lwm2mtest.Text); err != nil || r.Code != "2.05" {
		t.Fatalf("Observe: %v %v", r, err)
	}
	var atServer, atTest []time.Duration
	for i := 1; i <= 20; i++ {
		v := strconv.FormatFloat(10+float64(i)/4, 'g', -1, 64)
		t0 := time.Now()
		f.sensors.Reading("cellar", "temperature", 10+float64(i)/4)
		e, err := srv.WaitEvent(ctx, func(e lwm2mtest.Event) bool { return e.Kind == lwm2mtest.Notify && string(e.Payload) == v })
		if err != nil {
			t.Fatal(err)
		}
		// The harness stamps in whole milliseconds.
		atServer = append(atServer, e.Time.Sub(t0.Truncate(time.Millisecond)))
		atTest = append(atTest, e.Received.Sub(t0))
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("reading → notify event at the server (ms clock): %s", spread(atServer))
	t.Logf("reading → the event's line read by the test:      %s", spread(atTest))

	if r, err := srv.WriteAttributes(ctx, ep, "/3303/1/5700", lwm2mtest.Attributes{"pmax": 1}); err != nil || r.Code != "2.04" {
		t.Fatalf("Write-Attributes pmax=1: %v %v", r, err)
	}
	if r, err := srv.Cancel(ctx, ep, "/3303/1/5700"); err != nil || r.Code != "2.05" {
		t.Fatalf("Cancel: %v %v", r, err)
	}
	// The harness drops, and answers with RST, what arrives after its Cancel: that the
	// observation ended at the Cancel shows on pigw's side.
	if n := cs.Observers(); n != 0 {
		t.Errorf("%d observers after Cancel, want 0", n)
	}
	cancelled := len(srv.Events())
	f.sensors.Reading("cellar", "temperature", 99)
	time.Sleep(2500 * time.Millisecond) // a reading and two pmax periods
	if _, err := srv.List(ctx); err != nil {
		t.Fatal(err)
	}
	for _, e := range srv.Events()[cancelled:] {
		if e.Kind == lwm2mtest.Notify {
			t.Errorf("a notification after Cancel: %v", e)
		}
	}
}

// spread prints durations as median and maximum.
func spread(ds []time.Duration) string {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return fmt.Sprintf("median %v, max %v over %d", s[len(s)/2], s[len(s)-1], len(s))
}
