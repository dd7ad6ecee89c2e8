package appliance

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
)

func TestResourceStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	st, err := openResourceStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("seg/", 60) + "end" // longer than a file name allows
	for _, snap := range []coap.Snapshot{
		{URI: "resource1", Value: []byte("v1"), MediaType: coap.TextPlain, MaxAge: coap.NoMaxAge},
		{URI: long, Dynamic: true, Value: []byte{0, 1, 2}, MediaType: coap.NoMediaType, MaxAge: 100, Methods: coap.AllMethods},
		{URI: "resource2", Deleted: true},
	} {
		if err := st.Store(snap); err != nil {
			t.Fatalf("store %s: %v", snap.URI, err)
		}
	}
	if err := st.Forget("resource1"); err != nil {
		t.Fatal(err)
	}
	st2, _ := openResourceStore(dir)
	snaps, err := st2.snapshots()
	if err != nil || len(snaps) != 2 {
		t.Fatalf("%d snapshots, %v", len(snaps), err)
	}
	for _, s := range snaps {
		if s.URI == long && (!s.Dynamic || !bytes.Equal(s.Value, []byte{0, 1, 2}) || s.MaxAge != 100) {
			t.Errorf("long URI snapshot %+v", s)
		}
	}
}

// The default config serves the tutorial's example; a resource created by PUT gets the details
// the tutorial's handler sets, and is logged with its fields.
func TestNewResourceDetailsApplied(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := config.Default()
	cfg.CoAP.Listen = []string{"127.0.0.1:0"}
	srv, err := newCoAPServer(&cfg.CoAP, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.LinkFormat(); got != `</resource1>;title="resource1";ct=0;obs,</resource2>;ct=41;obs` {
		t.Errorf("link format %s", got)
	}
	r, err := srv.AddResource("made", coap.WithValue([]byte("v")), coap.WithMediaType(coap.AppJSON))
	if err != nil {
		t.Fatal(err)
	}
	newResourceHandler(cfg.CoAP.NewResourceDetails, log)(r)
	if d := r.Details(); d.MediaType != coap.TextPlain || d.MaxAge != 100 || !d.ETag || d.ETagValue != 1 {
		t.Errorf("details %+v", d)
	}
	want := `msg="New resource has been created!" uri=made mediatype=application/json max_age=-1 etag=false etag_value=0 value=v`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log %q lacks %q", logs.String(), want)
	}
}
