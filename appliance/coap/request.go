package coap

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// Request methods beyond the four a resource can enable (RFC 8132). A session can send them;
// a resource cannot enable them.
const (
	FETCH  Method = 16
	PATCH  Method = 32
	IPATCH Method = 64
)

var requestCodes = map[Method]codes.Code{GET: codes.GET, PUT: codes.PUT, POST: codes.POST, DELETE: codes.DELETE,
	FETCH: codes.FETCH, PATCH: codes.PATCH, IPATCH: codes.IPATCH}

// Code is a CoAP code with its raw value (class×32+detail); it prints as "2.05".
type Code uint8

func (c Code) String() string { return fmt.Sprintf("%d.%02d", c>>5, c&31) }

// Class is 2 for success, 4 for client errors, 5 for server errors.
func (c Code) Class() int { return int(c >> 5) }

// Type is a CoAP message type.
type Type uint8

// Message types (RFC 7252 §3).
const (
	CON Type = Type(message.Confirmable)
	NON Type = Type(message.NonConfirmable)
	ACK Type = Type(message.Acknowledgement)
	RST Type = Type(message.Reset)
)

func (t Type) String() string {
	switch t {
	case CON:
		return "CON"
	case NON:
		return "NON"
	case ACK:
		return "ACK"
	case RST:
		return "RST"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Option is a raw CoAP option, for options a Request has no field for.
type Option struct {
	ID    uint16
	Value []byte
}

// MaxTokenLength is the longest token RFC 7252 allows.
const MaxTokenLength = 8

// Request is one request of a session (the original's send_request arguments).
type Request struct {
	Method Method
	// Path is written as in a URI, "sensors/temp?unit=C": split at '/' into Uri-Path options and
	// at '&' into Uri-Query options, then each is percent-decoded, so "a%2Fb" is one segment
	// holding a slash and '+' stays '+' (RFC 7252 §6.4).
	Path          string
	ContentFormat MediaType // NoMediaType for none; NewRequest sets it
	Accept        MediaType // NoMediaType for none; NewRequest sets it
	Payload       []byte
	Token         []byte // up to 8 bytes; a random one when empty
	// NoOptions sends header, token and payload only (the original's include_options=False):
	// the payload then carries the full URI for servers that expect it there.
	NoOptions      bool
	NonConfirmable bool
	Options        []Option // more options, sent as given
	BlockSize      int      // Block1/Block2 size: 16..1024, a power of two; 0 means 1024
}

// NewRequest returns a request with no Content-Format and no Accept.
func NewRequest(m Method, path string) Request {
	return Request{Method: m, Path: path, ContentFormat: NoMediaType, Accept: NoMediaType}
}

// Response is what a session received for a request, or why it received nothing.
type Response struct {
	Code      Code
	MessageID uint16 // of the response message (for a piggybacked answer, the request's)
	Type      Type
	Token     []byte
	Payload   []byte
	Options   []Option
	// RequestMID is the message ID SendRequest returned, to pair requests with responses.
	RequestMID uint16
	RTT        time.Duration
	Peer       string
	Err        error // nil, or wraps ErrTimeout, ErrReset or a transport error
	// Sent and Received count the bytes of the CoAP messages of the request, as encoded in
	// the datagrams: every transmission and block, and the empty ACKs either way. UDP and IP
	// headers and DTLS records are not counted.
	Sent, Received int
}

// tally adds the byte counts of an earlier message of the same request.
func (r *Response) tally(earlier Response) {
	r.Sent += earlier.Sent
	r.Received += earlier.Received
}

// Errors a Response carries when no answer came.
var (
	ErrTimeout = errors.New("timeout")
	ErrReset   = errors.New("reset by peer (RST)")
	ErrClosed  = errors.New("session closed")
)

func (r Response) option(id message.OptionID) ([]byte, bool) {
	for _, o := range r.Options {
		if o.ID == uint16(id) {
			return o.Value, true
		}
	}
	return nil, false
}

func (r Response) uintOption(id message.OptionID) (uint32, bool) {
	v, ok := r.option(id)
	if !ok || len(v) > 4 {
		return 0, false
	}
	var n uint32
	for _, b := range v {
		n = n<<8 | uint32(b)
	}
	return n, true
}

// ContentFormat is the response's Content-Format, or NoMediaType.
func (r Response) ContentFormat() MediaType {
	v, ok := r.uintOption(message.ContentFormat)
	if !ok {
		return NoMediaType
	}
	return MediaType(v)
}

// check validates a request before anything is sent; errors name the value and the rule.
func (r *Request) check() error {
	if _, ok := requestCodes[r.Method]; !ok {
		return fmt.Errorf("method %v: must be one of GET, PUT, POST, DELETE, FETCH, PATCH, iPATCH", r.Method)
	}
	if len(r.Token) > MaxTokenLength {
		return fmt.Errorf("token %x: %d bytes, longer than the %d bytes CoAP allows", r.Token, len(r.Token), MaxTokenLength)
	}
	if !r.ContentFormat.Valid() || !r.Accept.Valid() {
		return fmt.Errorf("content format %d / accept %d: must be 0..65535 or none", r.ContentFormat, r.Accept)
	}
	if r.BlockSize != 0 {
		if _, err := szxOf(r.BlockSize); err != nil {
			return err
		}
	}
	segs, qs, err := splitPath(r.Path)
	if err != nil {
		return err
	}
	for _, seg := range append(segs, qs...) {
		if len(seg) > 255 {
			return fmt.Errorf("path %.40q: a part of %d bytes, longer than the 255 an option holds", r.Path, len(seg))
		}
	}
	return nil
}

// splitPath turns a URI path and query into Uri-Path and Uri-Query values.
func splitPath(p string) (segs, queries []string, err error) {
	path, query, _ := strings.Cut(p, "?")
	for _, seg := range strings.Split(strings.Trim(path, "/"), "/") {
		if seg == "" {
			continue
		}
		v, err := url.PathUnescape(seg)
		if err != nil {
			return nil, nil, fmt.Errorf("path %q: segment %q: %v", p, seg, err)
		}
		segs = append(segs, v)
	}
	for _, q := range strings.Split(query, "&") {
		if q == "" {
			continue
		}
		v, err := url.PathUnescape(q)
		if err != nil {
			return nil, nil, fmt.Errorf("path %q: query %q: %v", p, q, err)
		}
		queries = append(queries, v)
	}
	return segs, queries, nil
}

func randomToken() []byte {
	t := make([]byte, 4)
	_, _ = rand.Read(t)
	return t
}
