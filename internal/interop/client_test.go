package interop

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// The tests in this file run pigw's CoAP client engine (appliance/coap
// Client and Session) in-process against libcoap's example servers, and
// read the servers' -v 7 traces to see what actually went on the wire.

// newTestClient is a client whose sessions are closed at cleanup.
func newTestClient(t *testing.T) *coap.Client {
	t.Helper()
	c := coap.NewClient(slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newTestSession(t *testing.T, c *coap.Client, addr string, opts coap.SessionOptions) *coap.Session {
	t.Helper()
	s, err := c.NewSession(addr, opts)
	if err != nil {
		t.Fatalf("NewSession(%s): %v", addr, err)
	}
	return s
}

// do runs one request with a 20 s bound.
func do(t *testing.T, s *coap.Session, req coap.Request) coap.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := s.Do(ctx, req)
	if err != nil {
		t.Fatalf("%v %q: %v", req.Method, req.Path, err)
	}
	return r
}

func option(r coap.Response, id uint16) ([]byte, bool) {
	for _, o := range r.Options {
		if o.ID == id {
			return o.Value, true
		}
	}
	return nil, false
}

func uintOf(b []byte) uint32 {
	var n uint32
	for _, c := range b {
		n = n<<8 | uint32(c)
	}
	return n
}

func randomBody(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

// TestClientRequests sends every request kind to coap-server-notls and
// checks both the answer and what libcoap says it received.
func TestClientRequests(t *testing.T) {
	t.Parallel()
	srv := startLibcoap(t, "coap-server-notls")
	c := newTestClient(t)
	s := newTestSession(t, c, srv.Addr(), coap.SessionOptions{})

	text := func(m coap.Method, path, payload string) coap.Request {
		r := coap.NewRequest(m, path)
		r.Payload = []byte(payload)
		return r
	}
	withCF := func(r coap.Request, cf coap.MediaType) coap.Request { r.ContentFormat = cf; return r }
	withAccept := func(r coap.Request, a coap.MediaType) coap.Request { r.Accept = a; return r }

	// The steps share the server's state and run in order.
	steps := []struct {
		name    string
		req     coap.Request
		code    string
		payload *string  // nil: not checked
		prefix  string   // the payload starts with this
		seen    string   // libcoap's trace of the request, such as "c:PUT"
		opts    []string // options libcoap must have received ("Name:value")
		noOpts  bool     // the request must have had no options at all
	}{
		{name: "GET /", req: coap.NewRequest(coap.GET, ""), code: "2.05", prefix: libcoapIndex, seen: "c:GET", noOpts: true},
		{name: "GET / with a query", req: coap.NewRequest(coap.GET, "?q=1&r=two"), code: "2.05", prefix: libcoapIndex,
			seen: "c:GET", opts: []string{"Uri-Query:q=1", "Uri-Query:r=two"}},
		{name: "GET /async with a bad query", req: coap.NewRequest(coap.GET, "async?0"), code: "4.00",
			seen: "c:GET", opts: []string{"Uri-Path:async", "Uri-Query:0"}},
		{name: "GET with Accept", req: withAccept(coap.NewRequest(coap.GET, "time"), coap.TextPlain), code: "2.05",
			seen: "c:GET", opts: []string{"Uri-Path:time", "Accept:text/plain"}},
		{name: "PUT creates", req: withCF(text(coap.PUT, "pigw/new", "hello"), coap.TextPlain), code: "2.01",
			seen: "c:PUT", opts: []string{"Uri-Path:pigw", "Uri-Path:new", "Content-Format:text/plain"}},
		{name: "GET the new resource", req: coap.NewRequest(coap.GET, "pigw/new"), code: "2.05", payload: ptr("hello"), seen: "c:GET"},
		{name: "PUT replaces", req: withCF(text(coap.PUT, "pigw/new", `{"a":1}`), coap.AppJSON), code: "2.04",
			seen: "c:PUT", opts: []string{"Content-Format:application/json"}},
		{name: "GET the new value", req: coap.NewRequest(coap.GET, "pigw/new"), code: "2.05", payload: ptr(`{"a":1}`), seen: "c:GET"},
		{name: "POST", req: text(coap.POST, "pigw/new", "posted"), code: "2.04", seen: "c:POST"},
		{name: "FETCH", req: text(coap.FETCH, "pigw/new", "x"), code: "4.05", payload: ptr("Method Not Allowed"), seen: "c:FETCH"},
		{name: "PATCH", req: text(coap.PATCH, "pigw/new", "x"), code: "4.05", seen: "c:PATCH"},
		{name: "iPATCH", req: text(coap.IPATCH, "pigw/new", "x"), code: "4.05", seen: "c:iPATCH"},
		{name: "DELETE", req: coap.NewRequest(coap.DELETE, "pigw/new"), code: "2.02", seen: "c:DELETE"},
		{name: "GET deleted", req: coap.NewRequest(coap.GET, "pigw/new"), code: "4.04", payload: ptr("Not Found"), seen: "c:GET"},
		{name: "PUT on / is not allowed", req: text(coap.PUT, "", "x"), code: "4.05", seen: "c:PUT"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := do(t, s, st.req)
			if got := r.Code.String(); got != st.code {
				t.Errorf("code %s, want %s (payload %q)", got, st.code, r.Payload)
			}
			if r.Type != coap.ACK {
				t.Errorf("type %v, want a piggybacked ACK", r.Type)
			}
			if st.payload != nil && string(r.Payload) != *st.payload {
				t.Errorf("payload %q, want %q", r.Payload, *st.payload)
			}
			if !strings.HasPrefix(string(r.Payload), st.prefix) {
				t.Errorf("payload %q, want it to start with %q", r.Payload, st.prefix)
			}
			if r.MessageID != r.RequestMID {
				t.Errorf("piggybacked answer has MID %d, request MID %d: want the same", r.MessageID, r.RequestMID)
			}
			if r.Peer == "" || r.RTT <= 0 {
				t.Errorf("Peer %q, RTT %v: want both set", r.Peer, r.RTT)
			}
			got := srv.ReceivedMID(t, r.RequestMID)
			if !strings.Contains(got.Line, "t:CON "+st.seen+" ") {
				t.Errorf("libcoap received %s, want a CON %s", got.Line, st.seen)
			}
			if got.Token != hex.EncodeToString(r.Token) {
				t.Errorf("libcoap received token {%s}, the answer has %x", got.Token, r.Token)
			}
			for _, o := range st.opts {
				if !strings.Contains(", "+strings.Join(got.Options, ", ")+", ", ", "+o+", ") {
					t.Errorf("libcoap received %s, want option %s", got.Line, o)
				}
			}
			if st.noOpts && len(got.Options) != 0 {
				t.Errorf("libcoap received options %v, want none", got.Options)
			}
			if strings.Contains(got.Line, "Uri-Host") {
				t.Errorf("a session made with an IP address sent Uri-Host: %s", got.Line)
			}
			if len(st.req.Payload) > 0 && got.Payload != string(st.req.Payload) {
				t.Errorf("libcoap received payload %q, want %q", got.Payload, st.req.Payload)
			}
		})
	}
}

// TestClientTokensTypes covers the token (given, or random), NON requests
// and requests without options.
func TestClientTokensTypes(t *testing.T) {
	t.Parallel()
	srv := startLibcoap(t, "coap-server-notls")
	c := newTestClient(t)
	s := newTestSession(t, c, srv.Addr(), coap.SessionOptions{})

	t.Run("given token is echoed", func(t *testing.T) {
		for _, tok := range [][]byte{{0xca, 0xfe}, {1}, []byte("12345678")} {
			req := coap.NewRequest(coap.GET, "")
			req.Token = tok
			r := do(t, s, req)
			if !bytes.Equal(r.Token, tok) {
				t.Errorf("token %x sent, answer has %x", tok, r.Token)
			}
			if got := srv.ReceivedMID(t, r.RequestMID); got.Token != hex.EncodeToString(tok) {
				t.Errorf("token %x sent, libcoap received {%s}", tok, got.Token)
			}
		}
	})
	t.Run("token of 9 bytes is refused", func(t *testing.T) {
		req := coap.NewRequest(coap.GET, "")
		req.Token = []byte("123456789")
		n := len(srv.Received())
		_, err := s.Do(context.Background(), req)
		if err == nil || !strings.Contains(err.Error(), "8") {
			t.Errorf("9-byte token: err %v, want an error naming the 8-byte limit", err)
		}
		time.Sleep(100 * time.Millisecond)
		if m := len(srv.Received()); m != n {
			t.Errorf("a request with a 9-byte token was sent anyway: %s", srv.Received()[m-1].Line)
		}
	})
	t.Run("random token", func(t *testing.T) {
		seen := map[string]bool{}
		for range 3 {
			r := do(t, s, coap.NewRequest(coap.GET, ""))
			if len(r.Token) == 0 || len(r.Token) > 8 {
				t.Fatalf("no token given: the request carried %x, want 1..8 random bytes", r.Token)
			}
			if got := srv.ReceivedMID(t, r.RequestMID); got.Token != hex.EncodeToString(r.Token) {
				t.Errorf("libcoap received token {%s}, the answer has %x", got.Token, r.Token)
			}
			seen[string(r.Token)] = true
		}
		if len(seen) != 3 {
			t.Errorf("3 requests without a token carried %d different tokens, want 3", len(seen))
		}
	})
	t.Run("NON", func(t *testing.T) {
		req := coap.NewRequest(coap.GET, "")
		req.NonConfirmable = true
		r := do(t, s, req)
		if r.Type != coap.NON || r.Code.String() != "2.05" || !strings.HasPrefix(string(r.Payload), libcoapIndex) {
			t.Errorf("NON GET /: %v %v %q, want NON 2.05 with the index", r.Type, r.Code, r.Payload)
		}
		if got := srv.ReceivedMID(t, r.RequestMID); got.Type != "NON" || got.Code != "GET" {
			t.Errorf("libcoap received %s, want a NON GET", got.Line)
		}
	})
	t.Run("no options", func(t *testing.T) {
		// Without options the path does not go out: libcoap answers for /.
		req := coap.NewRequest(coap.GET, "time?x=1")
		req.NoOptions = true
		req.Accept = coap.TextPlain
		r := do(t, s, req)
		if r.Code.String() != "2.05" || !strings.HasPrefix(string(r.Payload), libcoapIndex) {
			t.Errorf("GET time with NoOptions: %v %q, want 2.05 and the index of /", r.Code, r.Payload)
		}
		if got := srv.ReceivedMID(t, r.RequestMID); len(got.Options) != 0 || got.Code != "GET" {
			t.Errorf("libcoap received %s, want a GET without options", got.Line)
		}
	})
	t.Run("extra option", func(t *testing.T) {
		// 2048 is elective: libcoap ignores it. 9 is critical and unknown: 4.02.
		req := coap.NewRequest(coap.GET, "")
		req.Options = []coap.Option{{ID: 2048, Value: []byte{1}}}
		r := do(t, s, req)
		if r.Code.String() != "2.05" {
			t.Errorf("GET / with option 2048: %v, want 2.05", r.Code)
		}
		if got := srv.ReceivedMID(t, r.RequestMID); !strings.Contains(got.Line, `2048:\x01`) {
			t.Errorf("libcoap received %s, want option 2048 = 0x01", got.Line)
		}
		req.Options = []coap.Option{{ID: 9, Value: []byte{1}}}
		if r := do(t, s, req); r.Code.String() != "4.02" {
			t.Errorf("GET / with critical option 9: %v, want 4.02", r.Code)
		}
	})
}

// TestClientSendRequest checks SendRequest's message IDs against what the
// response handler gets: answers, a timeout from a silent port, and an RST.
func TestClientSendRequest(t *testing.T) {
	t.Parallel()
	srv := startLibcoap(t, "coap-server-notls")

	type handled struct {
		mu   sync.Mutex
		byID map[uint16]coap.Response
		ch   chan coap.Response
	}
	newHandled := func(c *coap.Client) *handled {
		h := &handled{byID: map[uint16]coap.Response{}, ch: make(chan coap.Response, 16)}
		c.OnResponse(func(r coap.Response) {
			h.mu.Lock()
			h.byID[r.RequestMID] = r
			h.mu.Unlock()
			h.ch <- r
		})
		return h
	}
	// wait returns the response for mid, within d.
	wait := func(t *testing.T, h *handled, mid uint16, d time.Duration) coap.Response {
		t.Helper()
		timeout := time.After(d)
		for {
			h.mu.Lock()
			r, ok := h.byID[mid]
			h.mu.Unlock()
			if ok {
				return r
			}
			select {
			case <-h.ch:
			case <-timeout:
				t.Fatalf("no call of the response handler for MID %d within %v", mid, d)
			}
		}
	}

	t.Run("answers pair with their MIDs", func(t *testing.T) {
		c := newTestClient(t)
		h := newHandled(c)
		s := newTestSession(t, c, srv.Addr(), coap.SessionOptions{})
		want := map[string]string{"": "2.05", "time": "2.05", "no/such": "4.04", "async?1": "2.05"}
		mids := map[string]uint16{}
		for path := range want {
			mid, err := s.SendRequest(coap.NewRequest(coap.GET, path))
			if err != nil {
				t.Fatalf("SendRequest GET %s: %v", path, err)
			}
			mids[path] = mid
		}
		if len(mids) != len(want) {
			t.Fatalf("SendRequest returned %v", mids)
		}
		for path, mid := range mids {
			r := wait(t, h, mid, 10*time.Second)
			if r.Err != nil || r.Code.String() != want[path] {
				t.Errorf("GET %s (MID %d): %v %v, want %s", path, mid, r.Code, r.Err, want[path])
			}
			if got := srv.ReceivedMID(t, mid); !strings.Contains(got.Line, "c:GET") {
				t.Errorf("MID %d: libcoap received %s, want the GET %s", mid, got.Line, path)
			} else if p := strings.Split(strings.SplitN(path, "?", 2)[0], "/")[0]; p != "" {
				if v, _ := got.Opt("Uri-Path"); v != p {
					t.Errorf("MID %d was returned for GET %s, but libcoap received %s with it", mid, path, got.Line)
				}
			}
		}
		if len(mids) == 4 && mids["time"] == mids[""] {
			t.Errorf("two requests got the same MID %d", mids["time"])
		}
	})

	t.Run("Do reaches the handler too", func(t *testing.T) {
		c := newTestClient(t)
		h := newHandled(c)
		s := newTestSession(t, c, srv.Addr(), coap.SessionOptions{})
		r := do(t, s, coap.NewRequest(coap.GET, "time"))
		got := wait(t, h, r.RequestMID, 5*time.Second)
		if got.Code != r.Code || !bytes.Equal(got.Payload, r.Payload) {
			t.Errorf("handler got %v %q, Do returned %v %q", got.Code, got.Payload, r.Code, r.Payload)
		}
	})

	t.Run("timeout from a silent port", func(t *testing.T) {
		silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		c := newTestClient(t)
		h := newHandled(c)
		s := newTestSession(t, c, silent.LocalAddr().String(), coap.SessionOptions{AckTimeout: 100 * time.Millisecond, MaxRetransmit: 2})
		start := time.Now()
		mid, err := s.SendRequest(coap.NewRequest(coap.GET, "x"))
		if err != nil {
			t.Fatal(err)
		}
		r := wait(t, h, mid, 5*time.Second)
		took := time.Since(start)
		if !errors.Is(r.Err, coap.ErrTimeout) {
			t.Fatalf("silent port: handler got err %v (code %v), want ErrTimeout", r.Err, r.Code)
		}
		// 100..150 ms, then twice and four times that: 0.7..1.05 s.
		if took < 600*time.Millisecond || took > 3*time.Second {
			t.Errorf("timeout after %v, want about 0.7..1.05 s (ACK timeout 100 ms, 2 retransmissions)", took)
		}
		// Only now read what arrived: the request and two retransmissions, same MID.
		var got []string
		buf := make([]byte, 2048)
		for range 10 {
			_ = silent.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			n, err := silent.Read(buf)
			if err != nil {
				break
			}
			if n < 4 {
				t.Fatalf("datagram of %d bytes", n)
			}
			got = append(got, fmt.Sprintf("type %d MID %d", buf[0]>>4&3, uint16(buf[2])<<8|uint16(buf[3])))
		}
		want := fmt.Sprintf("type 0 MID %d", mid)
		if len(got) != 3 || got[0] != want || got[1] != want || got[2] != want {
			t.Errorf("the silent port received %q, want 3 times %q", got, want)
		}
		// Do gives the same error.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.Do(ctx, coap.NewRequest(coap.GET, "x")); !errors.Is(err, coap.ErrTimeout) {
			t.Errorf("Do to a silent port: %v, want ErrTimeout", err)
		}
	})

	t.Run("RST", func(t *testing.T) {
		// libcoap rejects a message whose option has an impossible length
		// (Content-Format of 5 bytes) with RST.
		c := newTestClient(t)
		h := newHandled(c)
		s := newTestSession(t, c, srv.Addr(), coap.SessionOptions{})
		req := coap.NewRequest(coap.GET, "")
		req.Options = []coap.Option{{ID: 12, Value: []byte{1, 2, 3, 4, 5}}}
		mid, err := s.SendRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		r := wait(t, h, mid, 5*time.Second)
		if !errors.Is(r.Err, coap.ErrReset) {
			t.Errorf("handler got err %v (code %v type %v), want ErrReset", r.Err, r.Code, r.Type)
		}
		if r.Type != coap.RST {
			t.Errorf("type %v, want RST", r.Type)
		}
		// The session still works afterwards.
		if r := do(t, s, coap.NewRequest(coap.GET, "")); r.Code.String() != "2.05" {
			t.Errorf("GET / after the RST: %v", r.Code)
		}
	})
}

// TestClientSeparateResponse reads libcoap's /async?1: an empty ACK at once,
// then the answer as a CON of its own a second later.
func TestClientSeparateResponse(t *testing.T) {
	t.Parallel()
	srv := startLibcoap(t, "coap-server-notls")
	c := newTestClient(t)
	s := newTestSession(t, c, srv.Addr(), coap.SessionOptions{})
	start := time.Now()
	r := do(t, s, coap.NewRequest(coap.GET, "async?1"))
	took := time.Since(start)
	if r.Code.String() != "2.05" || string(r.Payload) != "done" {
		t.Errorf("GET async?1: %v %q, want 2.05 done", r.Code, r.Payload)
	}
	if r.Type != coap.CON {
		t.Errorf("type %v, want the separate response's CON", r.Type)
	}
	if r.MessageID == r.RequestMID {
		t.Errorf("the separate response has the request's MID %d, want its own", r.MessageID)
	}
	if took < 800*time.Millisecond {
		t.Errorf("answered after %v: the delay of 1 s did not happen", took)
	}
	// The separate response is ACKed, so libcoap does not send it again.
	ack := srv.ReceivedMID(t, r.MessageID)
	if ack.Type != "ACK" || ack.Code != "0.00" {
		t.Errorf("libcoap received %s for the separate response, want an empty ACK", ack.Line)
	}
	time.Sleep(3 * time.Second) // libcoap's first retransmission would come after 2..3 s
	n := 0
	for _, line := range strings.Split(srv.log.String(), "\n") {
		if strings.Contains(line, fmt.Sprintf("i:%04x", r.MessageID)) && strings.Contains(line, "c:2.05") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("libcoap sent the separate response %d times, want once (ACKed)", n)
	}
}

// TestClientObserve observes libcoap's /time, which changes every second.
func TestClientObserve(t *testing.T) {
	t.Parallel()
	srv := startLibcoap(t, "coap-server-notls")
	c := newTestClient(t)
	s := newTestSession(t, c, srv.Addr(), coap.SessionOptions{})
	var mu sync.Mutex
	var got []coap.Response
	ch := make(chan struct{}, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o, err := s.Observe(ctx, "time", func(r coap.Response) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		select {
		case ch <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatalf("Observe time: %v", err)
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	timeout := time.After(10 * time.Second)
	for count() < 3 { // the registration's answer and 2 notifications
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("%d callbacks within 10 s, want 3", count())
		}
	}
	o.Cancel()
	cancelled := count()
	select {
	case <-o.Done():
	case <-time.After(time.Second):
		t.Error("Done not closed after Cancel")
	}
	time.Sleep(2500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != cancelled {
		t.Errorf("%d callbacks after Cancel, want none", len(got)-cancelled)
	}
	var last uint32
	for i, r := range got {
		v, ok := option(r, 6)
		if r.Code.String() != "2.05" || !ok || len(r.Payload) == 0 || r.Err != nil {
			t.Errorf("callback %d: %v %q Observe %v err %v, want 2.05 with Observe and the time", i, r.Code, r.Payload, ok, r.Err)
			continue
		}
		if i > 0 && uintOf(v) <= last {
			t.Errorf("callback %d has Observe %d after %d: out of order", i, uintOf(v), last)
		}
		last = uintOf(v)
	}
	// libcoap got the deregistration (Observe 1), or an RST for the next notification.
	dereg := srv.eventually(func() bool {
		for _, p := range srv.Received() {
			if v, ok := p.Opt("Observe"); ok && v == "1" || p.Type == "RST" {
				return true
			}
		}
		return false
	})
	if !dereg {
		t.Errorf("libcoap received no deregistration (GET with Observe:1) nor RST:\n%s", pduLines(srv.Received()))
	}
}

// TestClientBlockwise moves 5000 bytes with Block1 and back with Block2.
func TestClientBlockwise(t *testing.T) {
	t.Parallel()
	srv := startLibcoap(t, "coap-server-notls")
	c := newTestClient(t)
	s := newTestSession(t, c, srv.Addr(), coap.SessionOptions{})

	t.Run("example_data", func(t *testing.T) {
		r := do(t, s, coap.NewRequest(coap.GET, "example_data"))
		if r.Code.String() != "2.05" || len(r.Payload) != 1500 || !strings.HasPrefix(string(r.Payload), "a123456789b123456789") {
			t.Errorf("GET example_data: %v, %d bytes, want 2.05 and the 1500 bytes", r.Code, len(r.Payload))
		}
	})
	for i, put := range []struct {
		name string
		size int
	}{{"block 64", 64}, {"default block", 0}, {"block 16", 16}} {
		t.Run("PUT "+put.name, func(t *testing.T) {
			body := randomBody(uint64(i+1), 5000)
			path := fmt.Sprintf("big/%d", i)
			req := coap.NewRequest(coap.PUT, path)
			req.Payload, req.BlockSize = body, put.size
			before := len(srv.Received())
			if r := do(t, s, req); r.Code.String() != "2.01" {
				t.Fatalf("PUT %s of 5000 bytes: %v %q, want 2.01", path, r.Code, r.Payload)
			}
			size := put.size
			if size == 0 {
				size = 1024
			}
			want, n := (5000+size-1)/size, 0
			srv.eventually(func() bool {
				n = 0
				for _, p := range srv.Received()[before:] {
					if v, ok := p.Opt("Block1"); ok && p.Code == "PUT" && strings.HasSuffix(v, fmt.Sprintf("/%d", size)) {
						n++
					}
				}
				return n == want
			})
			if n != want {
				t.Errorf("libcoap received %d PUT blocks of %d bytes, want %d", n, size, want)
			}
			for _, get := range []int{64, 0, 1024} {
				req := coap.NewRequest(coap.GET, path)
				req.BlockSize = get
				r := do(t, s, req)
				if r.Code.String() != "2.05" || !bytes.Equal(r.Payload, body) {
					t.Errorf("GET %s with block size %d: %v, %d bytes, want 2.05 and the 5000 bytes put", path, get, r.Code, len(r.Payload))
				}
			}
		})
	}
}

// TestClientDTLS runs sessions with a pre-shared key against
// coap-server-openssl.
func TestClientDTLS(t *testing.T) {
	t.Parallel()
	const key, hint = "pigw-interop-secret", "pigw-hint"
	srv := startLibcoap(t, "coap-server-openssl", "-k", key, "-h", hint)
	c := newTestClient(t)

	t.Run("right key", func(t *testing.T) {
		s := newTestSession(t, c, srv.DTLSAddr(), coap.SessionOptions{PSK: []byte(key), Identity: "pigw-client"})
		r := do(t, s, coap.NewRequest(coap.GET, ""))
		if r.Code.String() != "2.05" || !strings.HasPrefix(string(r.Payload), libcoapIndex) {
			t.Errorf("coaps GET /: %v %q", r.Code, r.Payload)
		}
		if !srv.traceHas("got psk_identity: 'pigw-client'") {
			t.Errorf("libcoap's trace does not show the identity pigw-client")
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		const wrong = "not-the-right-key-1234"
		start := time.Now()
		s, err := c.NewSession(srv.DTLSAddr(), coap.SessionOptions{PSK: []byte(wrong), Identity: "pigw-client", Timeout: 3 * time.Second})
		if err == nil {
			_ = c.RemoveSession(s)
			t.Fatal("NewSession with a wrong key: no error, want a failed handshake")
		}
		t.Logf("wrong key: %v after %v", err, time.Since(start).Round(time.Millisecond))
		if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), hex.EncodeToString([]byte(wrong))) {
			t.Errorf("the error shows the key: %v", err)
		}
		if !strings.Contains(strings.ToLower(err.Error()), "handshake") {
			t.Errorf("error %q does not say the handshake failed", err)
		}
	})
}

// TestClientObserveBlockwise observes libcoap's /example_data, whose
// notifications come block-wise (1500 bytes, then what a PUT stores).
func TestClientObserveBlockwise(t *testing.T) {
	t.Parallel()
	srv := startLibcoap(t, "coap-server-notls")
	c := newTestClient(t)
	s := newTestSession(t, c, srv.Addr(), coap.SessionOptions{})
	got := make(chan coap.Response, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o, err := s.Observe(ctx, "example_data", func(r coap.Response) {
		select {
		case got <- r:
		default:
		}
	})
	if err != nil {
		t.Fatalf("Observe example_data: %v", err)
	}
	defer o.Cancel()
	next := func(what string) coap.Response {
		t.Helper()
		select {
		case r := <-got:
			return r
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s within 10 s", what)
		}
		return coap.Response{}
	}
	first := next("first answer")
	if first.Code.String() != "2.05" || len(first.Payload) != 1500 || !strings.HasPrefix(string(first.Payload), "a123456789") {
		t.Errorf("first answer: %v, %d bytes %.20q, want 2.05 with the 1500 bytes of example_data", first.Code, len(first.Payload), first.Payload)
	}
	body := randomBody(5, 3000)
	put := coap.NewRequest(coap.PUT, "example_data")
	put.Payload = body
	if r := do(t, s, put); r.Code.String() != "2.04" {
		t.Fatalf("PUT example_data: %v %q", r.Code, r.Payload)
	}
	n := next("notification")
	if n.Code.String() != "2.05" || !bytes.Equal(n.Payload, body) {
		t.Errorf("notification: %v, %d bytes, want 2.05 with the 3000 bytes put", n.Code, len(n.Payload))
	}
}

// rawPeer is a UDP socket on loopback that a test answers by hand, for
// what libcoap cannot be made to do.
type rawPeer struct {
	conn *net.UDPConn
	buf  []byte
}

func newRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{conn: c, buf: make([]byte, 2048)}
}

func (p *rawPeer) Addr() string { return p.conn.LocalAddr().String() }

// recv returns the next message, or fails the test after d.
func (p *rawPeer) recv(t *testing.T, d time.Duration) (*message.Message, *net.UDPAddr) {
	t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := p.conn.ReadFromUDP(p.buf)
	if err != nil {
		t.Fatalf("raw peer: nothing within %v: %v", d, err)
	}
	m := &message.Message{Options: make(message.Options, 0, 16)}
	if _, err := coder.DefaultCoder.Decode(p.buf[:n], m); err != nil {
		t.Fatalf("raw peer: undecodable % x: %v", p.buf[:n], err)
	}
	return m, from
}

func (p *rawPeer) send(t *testing.T, m message.Message, to *net.UDPAddr) {
	t.Helper()
	b := make([]byte, 1024)
	n, err := coder.DefaultCoder.Encode(m, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDP(b[:n], to); err != nil {
		t.Fatal(err)
	}
}

// TestClientRawPeer covers exchanges a hand-driven peer makes happen.
func TestClientRawPeer(t *testing.T) {
	t.Parallel()
	t.Run("separate response sent twice", func(t *testing.T) {
		t.Parallel()
		// The peer's copy of the client's ACK is "lost", so it sends the
		// separate response again: RFC 7252 §4.5 wants it ACKed again,
		// and delivered only once.
		p := newRawPeer(t)
		c := newTestClient(t)
		var mu sync.Mutex
		calls := 0
		c.OnResponse(func(coap.Response) { mu.Lock(); calls++; mu.Unlock() })
		s := newTestSession(t, c, p.Addr(), coap.SessionOptions{})
		done := make(chan coap.Response, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r, _ := s.Do(ctx, coap.NewRequest(coap.GET, "slow"))
			done <- r
		}()
		req, from := p.recv(t, 5*time.Second)
		p.send(t, message.Message{Type: message.Acknowledgement, Code: codes.Empty, MessageID: req.MessageID}, from)
		resp := message.Message{Type: message.Confirmable, Code: codes.Content, MessageID: 0x4242, Token: req.Token, Payload: []byte("late")}
		p.send(t, resp, from)
		ack1, _ := p.recv(t, 5*time.Second)
		if ack1.Type != message.Acknowledgement || ack1.MessageID != 0x4242 {
			t.Fatalf("the separate response got %v MID %#x, want ACK MID 0x4242", ack1.Type, ack1.MessageID)
		}
		r := <-done
		if r.Err != nil || string(r.Payload) != "late" {
			t.Fatalf("Do: %v %q", r.Err, r.Payload)
		}
		p.send(t, resp, from)
		ack2, _ := p.recv(t, 5*time.Second)
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		n := calls
		mu.Unlock()
		if n != 1 {
			t.Errorf("the handler ran %d times, want once", n)
		}
		if ack2.Type != message.Acknowledgement || ack2.MessageID != 0x4242 {
			t.Errorf("a CON separate response received again after the client ACKed it gets %v MID %#x, "+
				"want ACK MID 0x4242 (RFC 7252 §4.5)", ack2.Type, ack2.MessageID)
		}
	})
	t.Run("NON without an answer", func(t *testing.T) {
		t.Parallel()
		p := newRawPeer(t)
		c := newTestClient(t)
		s := newTestSession(t, c, p.Addr(), coap.SessionOptions{Timeout: 500 * time.Millisecond})
		req := coap.NewRequest(coap.GET, "x")
		req.NonConfirmable = true
		start := time.Now()
		_, err := s.Do(context.Background(), req)
		if !errors.Is(err, coap.ErrTimeout) {
			t.Errorf("NON to a silent peer: %v, want ErrTimeout", err)
		}
		if took := time.Since(start); took < 400*time.Millisecond || took > 3*time.Second {
			t.Errorf("gave up after %v, want the session's Timeout of 500 ms", took)
		}
		m, _ := p.recv(t, time.Second)
		if m.Type != message.NonConfirmable {
			t.Errorf("sent %v, want NON", m.Type)
		}
		_ = p.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := p.conn.Read(p.buf); err == nil {
			t.Error("a NON request was retransmitted")
		}
	})
	t.Run("RST from a raw peer", func(t *testing.T) {
		t.Parallel()
		p := newRawPeer(t)
		c := newTestClient(t)
		s := newTestSession(t, c, p.Addr(), coap.SessionOptions{})
		errc := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := s.Do(ctx, coap.NewRequest(coap.GET, "x"))
			errc <- err
		}()
		req, from := p.recv(t, 5*time.Second)
		p.send(t, message.Message{Type: message.Reset, Code: codes.Empty, MessageID: req.MessageID}, from)
		if err := <-errc; !errors.Is(err, coap.ErrReset) {
			t.Errorf("Do answered with RST: %v, want ErrReset", err)
		}
	})
	t.Run("RemoveSession ends pending requests", func(t *testing.T) {
		t.Parallel()
		p := newRawPeer(t)
		c := newTestClient(t)
		got := make(chan coap.Response, 1)
		c.OnResponse(func(r coap.Response) { got <- r })
		s := newTestSession(t, c, p.Addr(), coap.SessionOptions{})
		other := newTestSession(t, c, p.Addr(), coap.SessionOptions{})
		if n := len(c.Sessions()); n != 2 {
			t.Errorf("Sessions: %d, want 2", n)
		}
		mid, err := s.SendRequest(coap.NewRequest(coap.GET, "x"))
		if err != nil {
			t.Fatal(err)
		}
		p.recv(t, 5*time.Second)
		if err := c.RemoveSession(s); err != nil {
			t.Errorf("RemoveSession: %v", err)
		}
		select {
		case r := <-got:
			if !errors.Is(r.Err, coap.ErrClosed) || r.RequestMID != mid {
				t.Errorf("handler got err %v MID %d, want ErrClosed for MID %d", r.Err, r.RequestMID, mid)
			}
		case <-time.After(5 * time.Second):
			t.Error("no call of the handler within 5 s of RemoveSession")
		}
		if ss := c.Sessions(); len(ss) != 1 || ss[0] != other {
			t.Errorf("Sessions after RemoveSession: %v, want the other one", ss)
		}
		if _, err := s.SendRequest(coap.NewRequest(coap.GET, "x")); err == nil {
			// Accepted: the answer must be ErrClosed then.
			select {
			case r := <-got:
				if !errors.Is(r.Err, coap.ErrClosed) {
					t.Errorf("request on a removed session: %v, want ErrClosed", r.Err)
				}
			case <-time.After(5 * time.Second):
				t.Error("a request on a removed session never reached the handler")
			}
		}
	})
}
