package lwm2mtest

import (
	"context"
	"encoding/json"
	"fmt"
)

// Format names a content format in requests: the Accept of Read and Observe, the
// Content-Format of Write.
type Format string

// The formats the harness knows. "" sends no Accept (Read, Observe).
const (
	Text       Format = "text"
	LinkFormat Format = "link"
	Opaque     Format = "opaque"
	SenMLJSON  Format = "senml-json"
	SenMLCBOR  Format = "senml-cbor"
	TLV        Format = "tlv"
)

// Number is f's Content-Format number (RFC 7252, LwM2M 1.1), NoOption for "" or an unknown
// name.
func (f Format) Number() int {
	switch f {
	case Text:
		return 0
	case LinkFormat:
		return 40
	case Opaque:
		return 42
	case SenMLJSON:
		return 110
	case SenMLCBOR:
		return 112
	case TLV:
		return 11542
	}
	return NoOption
}

// Reply is the client's answer to a request, whatever its code.
type Reply struct {
	Code    string `json:"code"`    // "2.05", "4.04", ...
	Format  int    `json:"format"`  // its Content-Format, or NoOption
	Payload []byte `json:"payload"` // as received
	Observe int    `json:"observe"` // its Observe option, or NoOption
}

func (r Reply) String() string {
	return fmt.Sprintf("%s format=%d observe=%d %q", r.Code, r.Format, r.Observe, r.Payload)
}

// Attributes are Write-Attributes' parameters by name: pmin, pmax (seconds), gt, lt, st.
// lwm2m-node-lib refuses other names before sending anything.
type Attributes map[string]float64

// Registration is one entry of the server's registry.
type Registration struct {
	ID       string `json:"id"`
	Endpoint string `json:"ep"`
	Lifetime string `json:"lt"`
	Address  string `json:"address"` // where requests go: the source of the last Register or Update
}

type command struct {
	ID         int        `json:"id"`
	Op         string     `json:"op"`
	Endpoint   string     `json:"ep,omitempty"`
	Path       string     `json:"path,omitempty"`
	Accept     Format     `json:"accept,omitempty"`
	Format     Format     `json:"format,omitempty"`
	Payload    []byte     `json:"payload,omitempty"`
	Args       string     `json:"args,omitempty"`
	Attributes Attributes `json:"attributes,omitempty"`
	File       string     `json:"file,omitempty"`
	Block      int        `json:"block,omitempty"`
}

type reply struct {
	Reply
	ID            int            `json:"id"`
	OK            bool           `json:"ok"`
	Error         string         `json:"error"`
	Registrations []Registration `json:"registrations"`
	Blocks        int            `json:"blocks"`
	err           error
}

// Read sends GET path to the registered endpoint ep with Accept: accept ("" for none).
func (s *Server) Read(ctx context.Context, ep, path string, accept Format) (Reply, error) {
	return s.call(ctx, command{Op: "read", Endpoint: ep, Path: path, Accept: accept})
}

// Write sends PUT path with payload as Content-Format format.
func (s *Server) Write(ctx context.Context, ep, path string, format Format, payload []byte) (Reply, error) {
	return s.call(ctx, command{Op: "write", Endpoint: ep, Path: path, Format: format, Payload: payload})
}

// WriteBlocks sends the file at path file as PUT path, Content-Format format, block-wise:
// Block1 blocks of block bytes (16..1024), Size1 on the first, each sent after the previous
// one's 2.31 Continue, as an LwM2M server pushes a firmware package. It returns the last
// answer and how many blocks went.
func (s *Server) WriteBlocks(ctx context.Context, ep, path string, format Format, file string, block int) (Reply, int, error) {
	r, err := s.roundTrip(ctx, command{Op: "write-blocks", Endpoint: ep, Path: path, Format: format, File: file, Block: block})
	return r.Reply, r.Blocks, err
}

// Execute has lwm2m-node-lib send POST /O/I/R with args as the payload ("" for none). The
// library sends Content-Format text/plain even without a payload; a client must take that.
func (s *Server) Execute(ctx context.Context, ep, path, args string) (Reply, error) {
	return s.call(ctx, command{Op: "execute", Endpoint: ep, Path: path, Args: args})
}

// Discover has lwm2m-node-lib send GET path with Accept: link-format; the payload is the
// link-format answer.
func (s *Server) Discover(ctx context.Context, ep, path string) (Reply, error) {
	return s.call(ctx, command{Op: "discover", Endpoint: ep, Path: path})
}

// WriteAttributes has lwm2m-node-lib send PUT path?pmin=..&pmax=.. with no payload.
func (s *Server) WriteAttributes(ctx context.Context, ep, path string, attrs Attributes) (Reply, error) {
	return s.call(ctx, command{Op: "write-attributes", Endpoint: ep, Path: path, Attributes: attrs})
}

// Observe sends GET path with Observe: 0 and Accept: accept. The Reply is the first answer;
// when it is a success with an Observe option, every notification after it is a Notify event
// (confirmable ones acknowledged) until Cancel.
func (s *Server) Observe(ctx context.Context, ep, path string, accept Format) (Reply, error) {
	return s.call(ctx, command{Op: "observe", Endpoint: ep, Path: path, Accept: accept})
}

// Cancel ends the observation of path with a GET carrying Observe: 1 and the observation's
// token (RFC 7641 §3.6); the Reply is the client's answer to it. Notifications that still
// arrive are acknowledged and not reported; later ones are answered with RST.
func (s *Server) Cancel(ctx context.Context, ep, path string) (Reply, error) {
	return s.call(ctx, command{Op: "cancel", Endpoint: ep, Path: path})
}

// List returns the server's registrations.
func (s *Server) List(ctx context.Context) ([]Registration, error) {
	r, err := s.roundTrip(ctx, command{Op: "list"})
	return r.Registrations, err
}

func (s *Server) call(ctx context.Context, c command) (Reply, error) {
	r, err := s.roundTrip(ctx, c)
	return r.Reply, err
}

// roundTrip sends one command line and waits for the line with its id. An error means no
// answer from the client: the harness refused the command, or the request went unanswered.
func (s *Server) roundTrip(ctx context.Context, c command) (reply, error) {
	done := make(chan reply, 1)
	s.mu.Lock()
	if s.exit != nil {
		s.mu.Unlock()
		return reply{}, fmt.Errorf("%s %s: %w", c.Op, c.Path, s.exit)
	}
	s.nextID++
	c.ID = s.nextID
	s.calls[c.ID] = done
	s.mu.Unlock()
	line, err := json.Marshal(c)
	if err != nil {
		return reply{}, err
	}
	s.writeMu.Lock()
	_, err = s.stdin.Write(append(line, '\n'))
	s.writeMu.Unlock()
	if err != nil {
		s.forget(c.ID)
		return reply{}, fmt.Errorf("%s %s: send to the LwM2M harness: %w", c.Op, c.Path, err)
	}
	select {
	case r := <-done:
		switch {
		case r.err != nil:
			return reply{}, fmt.Errorf("%s %s at %q: %w", c.Op, c.Path, c.Endpoint, r.err)
		case !r.OK:
			return reply{}, fmt.Errorf("%s %s at %q: %s", c.Op, c.Path, c.Endpoint, r.Error)
		}
		return r, nil
	case <-ctx.Done():
		s.forget(c.ID)
		return reply{}, fmt.Errorf("%s %s at %q: %w", c.Op, c.Path, c.Endpoint, ctx.Err())
	}
}

func (s *Server) forget(id int) {
	s.mu.Lock()
	delete(s.calls, id)
	s.mu.Unlock()
}
