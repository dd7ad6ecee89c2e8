package coap

import (
	"fmt"
	"slices"
)

// Snapshot is what the server asks its Persister to keep about one resource, so that dynamic
// resources and values written by clients come back after a restart.
type Snapshot struct {
	URI        string      `json:"uri"`
	Deleted    bool        `json:"deleted,omitempty"` // a configured resource a client deleted
	Dynamic    bool        `json:"dynamic,omitempty"` // created by a client's PUT
	Value      []byte      `json:"value"`
	MediaType  MediaType   `json:"media_type"`
	MaxAge     int         `json:"max_age"`
	ETag       bool        `json:"etag"`
	ETagValue  uint16      `json:"etag_value"`
	Methods    Method      `json:"methods"`
	Attributes []Attribute `json:"attributes,omitempty"`
}

// Persister stores snapshots durably. The server calls it before it acknowledges a client's
// write, while holding the resource's lock, so what a client saw acknowledged is on disk and
// writes to one resource reach the disk in order.
type Persister interface {
	// Store keeps s, replacing any earlier snapshot of s.URI.
	Store(s Snapshot) error
	// Forget drops what is kept about uri.
	Forget(uri string) error
}

func (r *Resource) snapshotLocked() Snapshot {
	return Snapshot{
		URI: r.uri, Dynamic: r.dynamic, Value: r.value, MediaType: r.mediaType, MaxAge: r.maxAge,
		ETag: r.etagOn, ETagValue: r.etag, Methods: r.methods, Attributes: slices.Clone(r.attrs),
	}
}

// persistIfDynamicLocked keeps API changes of dynamic resources; changes of configured ones
// by the API (sensor samples, for instance) are not written, so flash is not worn out.
func (r *Resource) persistIfDynamicLocked() error {
	if !r.dynamic || r.removed {
		return nil
	}
	return r.srv.store(r.snapshotLocked())
}

func (s *Server) store(snap Snapshot) error {
	if s.cfg.Persister == nil {
		return nil
	}
	if err := s.cfg.Persister.Store(snap); err != nil {
		return fmt.Errorf("persist %s: %w", snap.URI, err)
	}
	return nil
}

func (s *Server) forget(uri string) error {
	if s.cfg.Persister == nil {
		return nil
	}
	if err := s.cfg.Persister.Forget(uri); err != nil {
		return fmt.Errorf("persist removal of %s: %w", uri, err)
	}
	return nil
}

// Restore applies a snapshot kept by the Persister, before Serve: a configured resource gets
// its stored value, media type and ETag back, a dynamic one is created again, and a deleted
// one is removed. It reports what it did in one word: "restored", "created" or "deleted".
func (s *Server) Restore(snap Snapshot) (string, error) {
	uri, err := s.normalizeURI(snap.URI)
	if err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	if snap.Deleted {
		s.mu.Lock()
		r := s.resources[uri]
		s.removeLocked(uri)
		s.mu.Unlock()
		if r != nil {
			r.markRemoved()
		}
		return "deleted", nil
	}
	if !snap.MediaType.Valid() {
		return "", fmt.Errorf("restore %s: media type %d: must be 0..65535 or none", uri, snap.MediaType)
	}
	if len(snap.Value) > s.cfg.Limits.MaxValueSize {
		return "", fmt.Errorf("restore %s: value of %d bytes exceeds the limit of %d bytes", uri, len(snap.Value), s.cfg.Limits.MaxValueSize)
	}
	if r := s.Resource(uri); r != nil {
		r.mu.Lock()
		r.value, r.mediaType = slices.Clone(snap.Value), snap.MediaType
		if r.etagOn && snap.ETagValue != 0 {
			r.etag = snap.ETagValue
		}
		r.mu.Unlock()
		return "restored", nil
	}
	if !snap.Dynamic {
		return "", fmt.Errorf("restore %s: not in the configuration and not dynamic", uri)
	}
	opts := []ResourceOption{WithValue(snap.Value), WithMediaType(snap.MediaType), WithMaxAge(snap.MaxAge), WithMethods(snap.Methods)}
	for _, a := range snap.Attributes {
		opts = append(opts, WithAttribute(a.Name, a.Value))
	}
	r, err := s.AddResource(uri, opts...)
	if err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	r.mu.Lock()
	r.dynamic, r.etagOn, r.etag = true, snap.ETag, snap.ETagValue
	r.mu.Unlock()
	return "created", nil
}
