package coap

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// NoMaxAge marks a resource without a Max-Age: its responses carry no Max-Age option.
const NoMaxAge = -1

// Attribute is one link attribute of a resource, served in /.well-known/core as name="value".
type Attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Details are the original module's get_details()/set_details() fields.
type Details struct {
	URI       string
	MediaType MediaType // NoMediaType when the resource has none
	MaxAge    int       // seconds, or NoMaxAge
	ETag      bool
	ETagValue uint16 // the current ETag, 0 while ETag is off
}

// Resource is one CoAP resource of a Server. Its methods are safe for concurrent use; a
// change of its value notifies its observers.
type Resource struct {
	srv *Server
	uri string

	mu            sync.RWMutex
	value         []byte // replaced, never modified in place, so readers may keep a reference
	mediaType     MediaType
	maxAge        int
	etagOn        bool
	etag          uint16
	attrs         []Attribute
	methods       Method
	dynamic       bool
	removed       bool
	handlers      map[Method]Handler      // fixed once the resource is added
	blockHandlers map[Method]BlockHandler // likewise
	guard         Guard                   // likewise
	alts          []Representation        // the value in several formats; alts[0] is value and mediaType
	failure       string                  // while set, GET answers 5.03 with it (a sensor that cannot be read)
	hidden        bool                    // listed in /.well-known/core only when a query asks

	obs observerSet
}

// ResourceOption sets a property of a resource being added, like the keyword arguments of the
// original add_resource.
type ResourceOption func(*Resource) error

// WithValue sets the initial value.
func WithValue(v []byte) ResourceOption {
	return func(r *Resource) error { r.value = slices.Clone(v); return nil }
}

// WithMediaType sets the Content-Format served with the value.
func WithMediaType(m MediaType) ResourceOption {
	return func(r *Resource) error {
		if !m.Valid() {
			return fmt.Errorf("media type %d: must be 0..65535 or NoMediaType", m)
		}
		r.mediaType = m
		return nil
	}
}

// WithMaxAge sets the Max-Age in seconds sent with GET responses.
func WithMaxAge(seconds int) ResourceOption {
	return func(r *Resource) error {
		if seconds < NoMaxAge || int64(seconds) > 0xffffffff {
			return fmt.Errorf("max-age %d: must be 0..4294967295 seconds or NoMaxAge", seconds)
		}
		r.maxAge = seconds
		return nil
	}
}

// WithETag turns on the resource's ETag: a counter that starts at 1 and grows with every
// value change.
func WithETag() ResourceOption {
	return func(r *Resource) error { r.etagOn, r.etag = true, 1; return nil }
}

// WithMethods enables the given methods (the original's callback(ops, True)).
func WithMethods(m Method) ResourceOption {
	return func(r *Resource) error { r.methods |= m & AllMethods; return nil }
}

// WithHidden leaves the resource out of an unfiltered /.well-known/core; a query that matches
// it (?href=/sys*, ?rt=pigw*) lists it. The appliance's own resources are hidden, so a plain
// discovery shows what the user configured.
func WithHidden() ResourceOption {
	return func(r *Resource) error { r.hidden = true; return nil }
}

// WithAttribute adds a link attribute (the original's add_attribute).
func WithAttribute(name, value string) ResourceOption {
	return func(r *Resource) error { return r.addAttribute(name, value) }
}

// URI is the resource's path without a leading slash, such as "sensors/room/temperature".
func (r *Resource) URI() string { return r.uri }

// Value returns a copy of the current value.
func (r *Resource) Value() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.value)
}

// SetValue replaces the value, moves the ETag on and notifies observers. It fails when v is
// larger than the server's value limit.
func (r *Resource) SetValue(v []byte) error { return r.setValue(v, true) }

func (r *Resource) setValue(v []byte, notify bool) error {
	if max := r.srv.cfg.Limits.MaxValueSize; len(v) > max {
		return fmt.Errorf("set %s: value of %d bytes exceeds the limit of %d bytes", r.uri, len(v), max)
	}
	r.mu.Lock()
	if r.removed {
		r.mu.Unlock()
		return fmt.Errorf("set %s: resource was removed", r.uri)
	}
	r.value, r.alts, r.failure = slices.Clone(v), nil, ""
	r.bumpETagLocked()
	err := r.persistIfDynamicLocked()
	r.mu.Unlock()
	if notify {
		r.changed()
	}
	return err
}

// Representation is the value in one content format.
type Representation struct {
	MediaType MediaType
	Value     []byte
}

// SetRepresentations replaces the value with the same data in several formats (a sensor
// reading as text, JSON and SenML): a GET gets the one its Accept names (the first without
// Accept, 4.06 when none matches), and each observer the one it registered for. The ETag, when
// on, moves once for the change.
func (r *Resource) SetRepresentations(reps []Representation) error {
	return r.setRepresentations(reps, true)
}

func (r *Resource) setRepresentations(reps []Representation, notify bool) error {
	alts, err := checkRepresentations(reps, r.srv.cfg.Limits.MaxValueSize)
	if err != nil {
		return fmt.Errorf("set %s: %w", r.uri, err)
	}
	r.mu.Lock()
	if r.removed {
		r.mu.Unlock()
		return fmt.Errorf("set %s: resource was removed", r.uri)
	}
	r.alts, r.value, r.mediaType, r.failure = alts, alts[0].Value, alts[0].MediaType, ""
	r.bumpETagLocked()
	r.mu.Unlock()
	if notify {
		r.changed()
	}
	return nil
}

// WithRepresentations sets the initial value in several formats, as SetRepresentations does
// later: the resource is served complete from the moment it is added.
func WithRepresentations(reps []Representation) ResourceOption {
	return func(r *Resource) error {
		alts, err := checkRepresentations(reps, r.srv.cfg.Limits.MaxValueSize)
		if err != nil {
			return err
		}
		r.alts, r.value, r.mediaType = alts, alts[0].Value, alts[0].MediaType
		return nil
	}
}

// checkRepresentations copies reps, each with a media type and within max bytes.
func checkRepresentations(reps []Representation, max int) ([]Representation, error) {
	if len(reps) == 0 {
		return nil, errors.New("no representation")
	}
	alts := make([]Representation, len(reps))
	for i, rep := range reps {
		if len(rep.Value) > max {
			return nil, fmt.Errorf("%s representation of %d bytes exceeds the limit of %d bytes", rep.MediaType, len(rep.Value), max)
		}
		if !rep.MediaType.Valid() || rep.MediaType == NoMediaType {
			return nil, fmt.Errorf("representation %d needs a media type", i)
		}
		alts[i] = Representation{MediaType: rep.MediaType, Value: slices.Clone(rep.Value)}
	}
	return alts, nil
}

// SetFailure makes GET answer 5.03 Service Unavailable with diag as its diagnostic payload,
// until the next SetValue or SetRepresentations. Observers keep their registration and get
// nothing meanwhile (an error notification would end their observation, RFC 7641 §3.2).
func (r *Resource) SetFailure(diag string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failure = diag
}

// AddAttribute adds a link attribute served in /.well-known/core.
func (r *Resource) AddAttribute(name, value string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.addAttribute(name, value); err != nil {
		return err
	}
	return r.persistIfDynamicLocked()
}

func (r *Resource) addAttribute(name, value string) error {
	if err := validAttribute(name, value); err != nil {
		return fmt.Errorf("attribute of %s: %w", r.uri, err)
	}
	r.attrs = append(r.attrs, Attribute{Name: name, Value: value})
	return nil
}

func validAttribute(name, value string) error {
	if name == "" || name == "href" || strings.IndexFunc(name, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')
	}) >= 0 {
		return fmt.Errorf("name %q: must be letters, digits, '-', '_' or '.', and not href", name)
	}
	if strings.ContainsAny(value, "\"\n\r") {
		return fmt.Errorf("%s=%q: value must not contain a double quote or a line break", name, value)
	}
	return nil
}

// Attributes returns the link attributes in the order they were added.
func (r *Resource) Attributes() []Attribute {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.attrs)
}

// Allow enables or disables methods (the original's callback(ops, enable)).
func (r *Resource) Allow(m Method, enable bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if enable {
		r.methods |= m & AllMethods
	} else {
		r.methods &^= m
	}
	_ = r.persistIfDynamicLocked()
}

// Methods returns the enabled methods.
func (r *Resource) Methods() Method {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.methods
}

// Dynamic reports whether the resource was created by a client's PUT.
func (r *Resource) Dynamic() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.dynamic
}

// Details returns the URI, media type, max-age and ETag state.
func (r *Resource) Details() Details {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.detailsLocked()
}

func (r *Resource) detailsLocked() Details {
	d := Details{URI: r.uri, MediaType: r.mediaType, MaxAge: r.maxAge, ETag: r.etagOn}
	if r.etagOn {
		d.ETagValue = r.etag
	}
	return d
}

// SetDetails changes the media type, max-age and ETag switch (d.URI and d.ETagValue are
// ignored). Turning the ETag on starts the counter at 1.
func (r *Resource) SetDetails(d Details) error {
	if !d.MediaType.Valid() {
		return fmt.Errorf("details of %s: media type %d: must be 0..65535 or NoMediaType", r.uri, d.MediaType)
	}
	if d.MaxAge < NoMaxAge || int64(d.MaxAge) > 0xffffffff {
		return fmt.Errorf("details of %s: max-age %d: must be 0..4294967295 seconds or NoMaxAge", r.uri, d.MaxAge)
	}
	r.mu.Lock()
	r.mediaType, r.maxAge = d.MediaType, d.MaxAge
	if d.ETag && !r.etagOn && r.etag == 0 {
		r.etag = 1
	}
	r.etagOn = d.ETag
	err := r.persistIfDynamicLocked()
	r.mu.Unlock()
	r.changed()
	return err
}

// bumpETagLocked moves the ETag on after a value change: 1, 2, ... 65535, 1 (never 0).
func (r *Resource) bumpETagLocked() {
	if !r.etagOn {
		return
	}
	r.etag++
	if r.etag == 0 {
		r.etag = 1
	}
}
