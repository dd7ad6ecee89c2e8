package coap

import (
	"errors"
	"sync"
	"testing"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// memStore is a Persister in memory that can be told to fail.
type memStore struct {
	mu   sync.Mutex
	m    map[string]Snapshot
	fail bool
}

func (s *memStore) Store(snap Snapshot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("disk full")
	}
	s.m[snap.URI] = snap
	return nil
}

func (s *memStore) Forget(uri string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("disk full")
	}
	delete(s.m, uri)
	return nil
}

func TestPersistAndRestore(t *testing.T) {
	store := &memStore{m: map[string]Snapshot{}}
	_, addr := seedServer(t, Config{Persister: store})
	c := dial(t, addr)
	c.do(codes.POST, "resource1", "posted", uintOpt(message.ContentFormat, 0))
	c.do(codes.PUT, "dyn/a", "made", uintOpt(message.ContentFormat, 50))
	c.do(codes.PUT, "dyn/b", "gone")
	c.do(codes.DELETE, "dyn/b", "")
	c.do(codes.PUT, "resource2", "<x/>")
	c.do(codes.DELETE, "resource2", "")
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.m) != 3 {
		t.Fatalf("stored %v", store.m)
	}

	// A second server from the same configuration gets the state back.
	s2, err := NewServer(withListen(Config{DynamicResources: true}))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s2.AddResource("resource1", WithMediaType(TextPlain), WithValue([]byte("default_value")), WithMethods(GET|POST|PUT))
	_, _ = s2.AddResource("resource2", WithMediaType(AppXML), WithETag(), WithMethods(AllMethods))
	got := map[string]int{}
	for _, snap := range store.m {
		what, err := s2.Restore(snap)
		if err != nil {
			t.Fatal(err)
		}
		got[what]++
	}
	if got["restored"] != 1 || got["created"] != 1 || got["deleted"] != 1 {
		t.Errorf("restore counts %v", got)
	}
	if v := string(s2.Resource("resource1").Value()); v != "posted" {
		t.Errorf("resource1 %q", v)
	}
	if r := s2.Resource("dyn/a"); r == nil || string(r.Value()) != "made" || !r.Dynamic() || r.Details().MediaType != AppJSON {
		t.Errorf("dyn/a %+v", r)
	}
	if s2.Resource("resource2") != nil || s2.Resource("dyn/b") != nil {
		t.Error("deleted resources came back")
	}
}

// A write that cannot be stored is not acknowledged and changes nothing.
func TestPersistFailure(t *testing.T) {
	store := &memStore{m: map[string]Snapshot{}, fail: true}
	s, addr := seedServer(t, Config{Persister: store})
	c := dial(t, addr)
	for _, tt := range []struct {
		code codes.Code
		path string
	}{{codes.PUT, "resource1"}, {codes.PUT, "new"}, {codes.DELETE, "resource2"}} {
		if m := c.do(tt.code, tt.path, "x"); m.Code != codes.InternalServerError {
			t.Errorf("%v %s: %v", tt.code, tt.path, m.Code)
		}
	}
	if string(s.Resource("resource1").Value()) != "default_value" || s.Resource("new") != nil || s.Resource("resource2") == nil {
		t.Error("state changed by unstored writes")
	}
	if d := s.Resource("resource2").Details(); d.ETagValue != 1 {
		t.Errorf("ETag moved: %d", d.ETagValue)
	}
}
