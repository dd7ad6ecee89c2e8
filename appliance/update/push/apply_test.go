package push

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/update"
)

// device is a scripted /sys/update: each GET after the apply answers the next status of the
// script; POST commit is counted.
type device struct {
	mu      sync.Mutex
	before  update.Status
	script  []update.Status
	applied bool
	commits int
}

func (d *device) get(coap.Incoming) coap.Answer {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.before
	if d.applied && len(d.script) > 0 {
		st = d.script[0]
		if len(d.script) > 1 {
			d.script = d.script[1:]
		}
	}
	b, _ := json.Marshal(st)
	return coap.Answer{Code: coap.Content, ContentFormat: coap.AppJSON, Payload: b}
}

func (d *device) post(name string) coap.Handler {
	return func(coap.Incoming) coap.Answer {
		d.mu.Lock()
		defer d.mu.Unlock()
		if name == "apply" {
			d.applied = true
		} else {
			d.commits++
		}
		return coap.Answer{Code: coap.Changed, ContentFormat: coap.TextPlain, Payload: []byte("ok")}
	}
}

func startDevice(t *testing.T, d *device) *Pusher {
	t.Helper()
	srv, err := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for path, opt := range map[string]coap.ResourceOption{
		Path: coap.WithHandler(coap.GET, d.get), Path + "/apply": coap.WithHandler(coap.POST, d.post("apply")),
		Path + "/commit": coap.WithHandler(coap.POST, d.post("commit")),
	} {
		if _, err := srv.AddResource(path, opt); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	c := coap.NewClient(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { c.Close(); cancel(); <-done })
	return &Pusher{Dial: func() (*coap.Session, error) {
		return c.NewSession(srv.Addrs()[0].String(), coap.SessionOptions{Timeout: 2 * time.Second})
	}}
}

func root(slot, version string) update.Root { return update.Root{Slot: slot, Version: version} }

func TestApply(t *testing.T) {
	running := update.Status{Running: root("a", "v1"), Committed: root("a", "v1"), Other: root("b", "v2")}
	trial := func(waiting string, confirm bool) update.Status {
		return update.Status{Running: root("b", "v2"), Committed: root("a", "v1"),
			Trial: &update.Trial{Slot: "b", Stage: "booted", ConfirmAdmin: confirm, Waiting: waiting}}
	}
	done := update.Status{Running: root("b", "v2"), Committed: root("b", "v2"), Result: update.ResultSuccess}
	back := update.Status{Running: root("a", "v1"), Committed: root("a", "v1"), Result: update.ResultFailed, Reason: "the trial root did not come up"}
	for _, tc := range []struct {
		name    string
		script  []update.Status
		commits int
		want    error
	}{
		{"committed by the device", []update.Status{trial("healthy for 5s", false), done}, 0, nil},
		{"confirmed by the pusher", []update.Status{trial(update.WaitingForAdmin, true), done}, 1, nil},
		{"rolled back", []update.Status{trial("link eth0 has no address", false), back}, 0, &RolledBackError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &device{before: running, script: tc.script}
			p := startDevice(t, d)
			var seen []update.Status
			st, err := p.Apply(context.Background(), "v2", 30*time.Second, func(s update.Status) { seen = append(seen, s) })
			var rb *RolledBackError
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("Apply: %v", err)
			case tc.want != nil && (!errors.As(err, &rb) || rb.Result != update.ResultFailed || rb.Reason != back.Reason):
				t.Fatalf("Apply: %v, want a rollback with the device's reason", err)
			}
			d.mu.Lock()
			commits := d.commits
			d.mu.Unlock()
			if commits != tc.commits || len(seen) != len(tc.script) || (tc.want == nil && st.Running.Version != "v2") {
				t.Errorf("commits %d, statuses seen %d, last %+v", commits, len(seen), st)
			}
		})
	}
}
