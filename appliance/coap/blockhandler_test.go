package coap

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// sink is a BlockHandler that keeps what it received, so a client may resume, and fails
// once at failAt to break an upload off.
type sink struct {
	mu     sync.Mutex
	body   []byte
	max    int64
	failAt int64 // -1: never
	blocks []Block
}

func (s *sink) take(b Block) Answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocks = append(s.blocks, b)
	switch {
	case b.Size1 > s.max || b.Offset+int64(len(b.Payload)) > s.max:
		return Answer{Code: TooLarge, ContentFormat: NoMediaType, Payload: []byte("too large"), Size1: s.max}
	case b.Offset > int64(len(s.body)):
		return Answer{Code: Incomplete, ContentFormat: NoMediaType, Payload: []byte(fmt.Sprintf("resume at %d", len(s.body)))}
	case b.Offset == s.failAt:
		s.failAt = -1
		return Answer{Code: Unavailable, ContentFormat: NoMediaType, Payload: []byte("broken off")}
	}
	s.body = append(s.body[:b.Offset], b.Payload...)
	if b.More {
		return Answer{Code: Continue, ContentFormat: NoMediaType}
	}
	return Answer{Code: Changed, ContentFormat: TextPlain, Payload: []byte(fmt.Sprintf("%d bytes", len(s.body)))}
}

// held is what the sink holds and the blocks it took, read under its lock.
func (s *sink) held() ([]byte, []Block) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.body), slices.Clone(s.blocks)
}

func sinkServer(t *testing.T, s *sink) *Session {
	srv, addr := newTestServer(t, Config{})
	if _, err := srv.AddResource("up", WithBlockHandler(PUT, s.take)); err != nil {
		t.Fatal(err)
	}
	_, sess := testSession(t, addr, SessionOptions{})
	return sess
}

func TestUploadBlockHandler(t *testing.T) {
	body := bigValue(5000)
	for _, tc := range []struct {
		name      string
		blockSize int
		failAt    int64
		max       int64
		want      Code
		wantBody  []byte
		progress  []int64
		wantSize1 bool
	}{
		{name: "whole", failAt: -1, max: 1 << 20, want: Changed, wantBody: body, progress: []int64{1024, 2048, 3072, 4096, 5000}},
		{name: "64-byte blocks", blockSize: 64, failAt: -1, max: 1 << 20, want: Changed, wantBody: body},
		{name: "broken off", failAt: 3072, max: 1 << 20, want: Unavailable, wantBody: body[:3072], progress: []int64{1024, 2048, 3072}},
		{name: "too large", failAt: -1, max: 4000, want: TooLarge, wantSize1: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &sink{failAt: tc.failAt, max: tc.max}
			sess := sinkServer(t, s)
			req := NewRequest(PUT, "up")
			req.BlockSize = tc.blockSize
			var got []int64
			resp, err := sess.Upload(ctx(t), req, bytes.NewReader(body), int64(len(body)), 0, func(n int64) { got = append(got, n) })
			if err != nil {
				t.Fatal(err)
			}
			if resp.Code != tc.want {
				t.Fatalf("code %v %q, want %v", resp.Code, resp.Payload, tc.want)
			}
			body, blocks := s.held()
			if !bytes.Equal(body, tc.wantBody) {
				t.Errorf("sink holds %d bytes, want %d", len(body), len(tc.wantBody))
			}
			if tc.progress != nil && fmt.Sprint(got) != fmt.Sprint(tc.progress) {
				t.Errorf("progress %v, want %v", got, tc.progress)
			}
			if size1, ok := resp.uintOption(message.Size1); tc.wantSize1 && (!ok || int64(size1) != tc.max) {
				t.Errorf("Size1 %d %v, want %d", size1, ok, tc.max)
			}
			if blocks[0].Size1 != int64(len(bigValue(5000))) {
				t.Errorf("first block's Size1 %d, want 5000", blocks[0].Size1)
			}
		})
	}
}

// An upload that broke off resumes from where the server says it stopped, announcing Size1
// again, and the body arrives whole.
func TestUploadResume(t *testing.T) {
	body := bigValue(5000)
	s := &sink{failAt: 2048, max: 1 << 20}
	sess := sinkServer(t, s)
	req := NewRequest(PUT, "up")
	if resp, err := sess.Upload(ctx(t), req, bytes.NewReader(body), 5000, 0, nil); err != nil || resp.Code != Unavailable {
		t.Fatalf("first upload: %v %v", resp.Code, err)
	}
	held, _ := s.held()
	resp, err := sess.Upload(ctx(t), req, bytes.NewReader(body), 5000, int64(len(held)), nil)
	if err != nil || resp.Code != Changed {
		t.Fatalf("resumed upload: %v %q %v", resp.Code, resp.Payload, err)
	}
	held, blocks := s.held()
	if !bytes.Equal(held, body) {
		t.Fatalf("sink holds %d bytes, differs from the body", len(held))
	}
	resumed := blocks[3] // blocks 0, 1, the failed 2, then the resumed 2
	if resumed.Offset != 2048 || resumed.Size1 != 5000 {
		t.Errorf("resumed block: offset %d Size1 %d", resumed.Offset, resumed.Size1)
	}
	if _, err := sess.Upload(ctx(t), req, bytes.NewReader(body), 5000, 100, nil); err == nil || !strings.Contains(err.Error(), "multiple of the block size") {
		t.Errorf("upload from byte 100: %v", err)
	}
}

// What the server itself answers around a block handler, seen on the wire.
func TestBlockHandlerWire(t *testing.T) {
	s := &sink{failAt: -1, max: 1 << 20}
	srv, addr := newTestServer(t, Config{})
	if _, err := srv.AddResource("up", WithBlockHandler(PUT, s.take)); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddResource("bad", WithBlockHandler(PUT, func(Block) Answer { return Answer{Code: Continue} })); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	for _, tc := range []struct {
		name    string
		path    string
		payload string
		opts    []opt
		want    codes.Code
		block1  bool
	}{
		{"one message", "up", "hello", nil, codes.Changed, false},
		{"block 0 of 2", "up", strings.Repeat("a", 16), []opt{uintOpt(message.Block1, block(blockwise.SZX16, 0, true))}, codes.Continue, true},
		{"a gap", "up", strings.Repeat("a", 16), []opt{uintOpt(message.Block1, block(blockwise.SZX16, 9, true))}, codes.RequestEntityIncomplete, false},
		{"short block with more", "up", "abc", []opt{uintOpt(message.Block1, block(blockwise.SZX16, 1, true))}, codes.BadRequest, false},
		{"block size 2048", "up", "abc", []opt{uintOpt(message.Block1, 7)}, codes.BadOption, false},
		{"last block", "up", "end", []opt{uintOpt(message.Block1, block(blockwise.SZX16, 1, false))}, codes.Changed, true},
		{"continue after the last", "bad", "x", nil, codes.InternalServerError, false},
		{"GET is not enabled", "up", "", nil, codes.MethodNotAllowed, false},
	} {
		code := codes.PUT
		if tc.name == "GET is not enabled" {
			code = codes.GET
		}
		m := c.do(code, tc.path, tc.payload, tc.opts...)
		_, hasB1 := optUint(m, message.Block1)
		if m.Code != tc.want || hasB1 != tc.block1 {
			t.Errorf("%s: %v %q Block1 %v, want %v Block1 %v", tc.name, m.Code, m.Payload, hasB1, tc.want, tc.block1)
		}
	}
	if held, _ := s.held(); string(held) != strings.Repeat("a", 16)+"end" {
		t.Errorf("sink holds %q", held)
	}
	if _, err := srv.AddResource("get", WithBlockHandler(GET, s.take)); err == nil || !strings.Contains(err.Error(), "only PUT and POST") {
		t.Errorf("a block handler for GET: %v", err)
	}
}

// A guard refuses every method, observe registrations included, before any work.
func TestGuard(t *testing.T) {
	srv, addr := newTestServer(t, Config{})
	var calls atomic.Int32
	refuse := func(in Incoming) (Answer, bool) {
		calls.Add(1)
		return Answer{Code: Unauthorized, Payload: []byte("admins only")}, in.Secure
	}
	r, err := srv.AddResource("secret", WithValue([]byte("v")), WithMethods(GET|PUT), WithGuard(refuse))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	for _, tc := range []struct {
		code codes.Code
		opts []opt
		want codes.Code
	}{
		{codes.GET, nil, codes.Unauthorized},
		{codes.GET, []opt{uintOpt(message.Observe, 0)}, codes.Unauthorized},
		{codes.PUT, nil, codes.Unauthorized},
		{codes.DELETE, nil, codes.MethodNotAllowed}, // a method the resource lacks, before the guard
	} {
		m := c.do(tc.code, "secret", "x", tc.opts...)
		if m.Code != tc.want || (tc.want == codes.Unauthorized && string(m.Payload) != "admins only") {
			t.Errorf("%v: %v %q", tc.code, m.Code, m.Payload)
		}
	}
	if calls.Load() != 3 || srv.notify.observers() != 0 || string(r.Value()) != "v" {
		t.Errorf("guard called %d times, %d observers, value %q", calls.Load(), srv.notify.observers(), r.Value())
	}
}

// A representation that changes during a Block2 transfer is fetched again: the body is always
// one value whole, never blocks of two.
func TestBlock2ChangingValue(t *testing.T) {
	srv, addr := newTestServer(t, Config{})
	a, b := bytes.Repeat([]byte("a"), 3000), bytes.Repeat([]byte("b"), 3000)
	r, err := srv.AddResource("moving", WithValue(a), WithETag(), WithMethods(GET))
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = r.SetValue([][]byte{a, b}[i%2])
			time.Sleep(200 * time.Microsecond)
		}
	})
	defer func() { close(stop); wg.Wait() }()
	_, sess := testSession(t, addr, SessionOptions{})
	for range 100 {
		resp, err := sess.Do(ctx(t), NewRequest(GET, "moving"))
		if err != nil {
			if strings.Contains(err.Error(), "changed during each of 3") {
				continue // it moved every time: an error, not a mixed body
			}
			t.Fatal(err)
		}
		if !bytes.Equal(resp.Payload, a) && !bytes.Equal(resp.Payload, b) {
			t.Fatalf("a body of %d bytes mixes two values (%v)", len(resp.Payload), resp.Code)
		}
	}
}

// A guard sees the request's Accept and Observe options, and may answer in the resource's
// place with a Content-Format: an LwM2M client answers a Discover (Accept: link-format) of a
// resource that cannot be read now.
func TestIncomingAcceptObserve(t *testing.T) {
	srv, addr := newTestServer(t, Config{})
	seen := make(chan Incoming, 4)
	record := func(in Incoming) (Answer, bool) {
		seen <- in
		if in.Accept == AppLinkFormat {
			return Answer{Code: Content, ContentFormat: AppLinkFormat, Payload: []byte("</seen>")}, false
		}
		return Answer{}, true
	}
	if _, err := srv.AddResource("seen", WithValue([]byte("v")), WithMethods(GET), WithGuard(record)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	for _, tc := range []struct {
		opts    []opt
		accept  MediaType
		observe int
	}{
		{nil, NoMediaType, -1},
		{[]opt{uintOpt(message.Accept, 40)}, AppLinkFormat, -1},
		{[]opt{uintOpt(message.Observe, 0), uintOpt(message.Accept, 0)}, TextPlain, 0},
		{[]opt{uintOpt(message.Observe, 1)}, NoMediaType, 1},
	} {
		m := c.do(codes.GET, "seen", "", tc.opts...)
		in := <-seen
		if got, _ := m.Options.ContentFormat(); tc.accept == AppLinkFormat && (m.Code != codes.Content || got != 40 || string(m.Payload) != "</seen>") {
			t.Errorf("the guard's own answer: %v %v %q", m.Code, got, m.Payload)
		}
		if in.Accept != tc.accept || in.Observe != tc.observe {
			t.Errorf("options %v: Accept %v Observe %d, want %v %d", tc.opts, in.Accept, in.Observe, tc.accept, tc.observe)
		}
	}
}
