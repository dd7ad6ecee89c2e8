package coap

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

func testSession(t *testing.T, addr netip.AddrPort, opts SessionOptions) (*Client, *Session) {
	t.Helper()
	c := NewClient(slog.New(slog.DiscardHandler))
	s, err := c.NewSession(addr.String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, s
}

func ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestClientAgainstServer(t *testing.T) {
	srv, addr := seedServer(t, Config{})
	c, s := testSession(t, addr, SessionOptions{})
	var mu sync.Mutex
	var handled []Response
	c.OnResponse(func(r Response) { mu.Lock(); handled = append(handled, r); mu.Unlock() })

	put := NewRequest(PUT, "resource2")
	put.Payload, put.ContentFormat, put.Token = []byte("<x/>"), AppXML, []byte("token3")
	tests := []struct {
		name string
		req  Request
		code codes.Code
		body string
	}{
		{"GET", NewRequest(GET, "resource1"), codes.Content, "default_value"},
		{"GET with query", NewRequest(GET, ".well-known/core?title=resource1"), codes.Content, `</resource1>;title="resource1";ct=0;obs`},
		{"PUT with token and format", put, codes.Changed, ""},
		{"NON GET", func() Request { r := NewRequest(GET, "resource2"); r.NonConfirmable = true; return r }(), codes.Content, "<x/>"},
		{"DELETE not allowed", NewRequest(DELETE, "resource1"), codes.MethodNotAllowed, ""},
		{"FETCH", NewRequest(FETCH, "resource1"), codes.MethodNotAllowed, ""},
		{"Accept mismatch", func() Request { r := NewRequest(GET, "resource1"); r.Accept = AppJSON; return r }(), codes.NotAcceptable, ""},
	}
	for _, tt := range tests {
		r, err := s.Do(ctx(t), tt.req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if r.Code != Code(tt.code) || (tt.body != "" && string(r.Payload) != tt.body) {
			t.Errorf("%s: %s %q, want %s %q", tt.name, r.Code, r.Payload, Code(tt.code), tt.body)
		}
		if tt.req.Token != nil && !bytes.Equal(r.Token, tt.req.Token) {
			t.Errorf("%s: token %q", tt.name, r.Token)
		}
		if len(tt.req.Token) == 0 && len(r.Token) == 0 {
			t.Errorf("%s: no random token", tt.name)
		}
	}
	if got := Code(codes.Content).String(); got != "2.05" {
		t.Errorf("code prints %q", got)
	}
	mu.Lock()
	if len(handled) != len(tests) {
		t.Errorf("handler saw %d responses, want %d", len(handled), len(tests))
	}
	mu.Unlock()

	// Block1 and Block2 of 5000 bytes, at two block sizes.
	want := bigValue(5000)
	for _, bs := range []int{0, 64} {
		up := NewRequest(PUT, "big/value")
		up.Payload, up.BlockSize = want, bs
		if r, err := s.Do(ctx(t), up); err != nil || (r.Code != Code(codes.Created) && r.Code != Code(codes.Changed)) {
			t.Fatalf("block size %d: PUT %v %v", bs, r.Code, err)
		}
		if got := srv.Resource("big/value").Value(); !bytes.Equal(got, want) {
			t.Errorf("block size %d: server holds %d bytes", bs, len(got))
		}
		get := NewRequest(GET, "big/value")
		get.BlockSize = bs
		if r, err := s.Do(ctx(t), get); err != nil || !bytes.Equal(r.Payload, want) {
			t.Errorf("block size %d: GET %d bytes, %v", bs, len(r.Payload), err)
		}
	}
}

func TestSendRequestReturnsMID(t *testing.T) {
	_, addr := seedServer(t, Config{})
	c, s := testSession(t, addr, SessionOptions{})
	got := make(chan Response, 3)
	c.OnResponse(func(r Response) { got <- r })
	mids := map[uint16]string{}
	for _, path := range []string{"resource1", "resource2", "nothing"} {
		mid, err := s.SendRequest(NewRequest(GET, path))
		if err != nil {
			t.Fatal(err)
		}
		mids[mid] = path
	}
	for range 3 {
		select {
		case r := <-got:
			path, ok := mids[r.RequestMID]
			if !ok || r.MessageID != r.RequestMID || r.Type != ACK {
				t.Errorf("response %+v not paired (mids %v)", r, mids)
			}
			if path == "nothing" && r.Code != Code(codes.NotFound) {
				t.Errorf("nothing: %s", r.Code)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("handler not called")
		}
	}
}

func TestRequestErrors(t *testing.T) {
	_, addr := seedServer(t, Config{})
	_, s := testSession(t, addr, SessionOptions{})
	for _, tt := range []struct {
		req  Request
		want string
	}{
		{Request{Method: GET, Token: []byte("123456789")}, "longer than the 8 bytes"},
		{Request{Method: 3}, "method"},
		{Request{Method: GET, BlockSize: 100}, "block size 100"},
		{Request{Method: GET, Path: strings.Repeat("x", 300)}, "255"},
	} {
		if _, err := s.SendRequest(tt.req); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.req.Token, err, tt.want)
		}
	}
	c := NewClient(nil)
	for _, addr := range []string{"", "host:0", "host:99999", "[::1", "host:port"} {
		if _, err := c.NewSession(addr, SessionOptions{}); err == nil || !strings.Contains(err.Error(), "address") {
			t.Errorf("NewSession(%q): %v", addr, err)
		}
	}
	if _, err := c.NewSession("127.0.0.1", SessionOptions{PSK: []byte("k")}); err == nil || !strings.Contains(err.Error(), "identity") {
		t.Errorf("PSK without identity: %v", err)
	}
}

func TestClientObserve(t *testing.T) {
	srv, addr := seedServer(t, Config{})
	_, s := testSession(t, addr, SessionOptions{})
	got := make(chan string, 10)
	o, err := s.Observe(ctx(t), "resource1", func(r Response) { got <- string(r.Payload) })
	if err != nil {
		t.Fatal(err)
	}
	r := srv.Resource("resource1")
	big := string(bigValue(3000))
	for _, v := range []string{"one", "two", big} {
		_ = r.SetValue([]byte(v))
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"default_value", "one", "two", big} {
		select {
		case v := <-got:
			if v != want {
				t.Errorf("notification %.20q, want %.20q (%d vs %d bytes)", v, want, len(v), len(want))
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no notification for %.20q", want)
		}
	}
	o.Cancel()
	waitFor(t, func() bool { return srv.notify.observers() == 0 }, "deregistered at the server")
	select {
	case <-o.Done():
	default:
		t.Error("Done not closed")
	}
}

// peer is a scripted CoAP peer on a UDP socket.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
}

func newPeer(t *testing.T) *peer {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c}
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *peer) recv() (*message.Message, []byte, *net.UDPAddr) {
	buf := make([]byte, 2000)
	_ = p.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, from, err := p.conn.ReadFromUDP(buf)
	if err != nil {
		p.t.Fatalf("peer: %v", err)
	}
	m := &message.Message{Options: make(message.Options, 0, 16)}
	if _, err := coder.DefaultCoder.Decode(buf[:n], m); err != nil {
		p.t.Fatal(err)
	}
	return m, buf[:n], from
}

func (p *peer) send(to *net.UDPAddr, m message.Message) {
	b := make([]byte, 500)
	n, err := coder.DefaultCoder.Encode(m, b)
	if err != nil {
		p.t.Fatal(err)
	}
	_, _ = p.conn.WriteToUDP(b[:n], to)
}

func TestSeparateResponse(t *testing.T) {
	p := newPeer(t)
	_, s := testSession(t, p.addr(), SessionOptions{})
	done := make(chan Response, 1)
	go func() { r, _ := s.Do(ctx(t), NewRequest(GET, "async")); done <- r }()
	req, _, from := p.recv()
	p.send(from, message.Message{Type: message.Acknowledgement, Code: codes.Empty, MessageID: req.MessageID})
	resp := message.Message{Type: message.Confirmable, Code: codes.Content, MessageID: 777, Token: req.Token, Payload: []byte("later")}
	p.send(from, resp)
	if ack, _, _ := p.recv(); ack.Type != message.Acknowledgement || ack.MessageID != 777 {
		t.Errorf("separate response not ACKed: %v", ack)
	}
	p.send(from, resp) // a duplicate: ACKed again, not delivered twice
	if ack, _, _ := p.recv(); ack.MessageID != 777 {
		t.Errorf("duplicate not ACKed")
	}
	r := <-done
	if r.Err != nil || string(r.Payload) != "later" || r.Type != CON || r.MessageID != 777 {
		t.Errorf("separate response %+v", r)
	}
}

func TestResetAndTimeout(t *testing.T) {
	p := newPeer(t)
	_, s := testSession(t, p.addr(), SessionOptions{AckTimeout: 30 * time.Millisecond, MaxRetransmit: 2})
	go func() {
		req, _, from := p.recv()
		p.send(from, message.Message{Type: message.Reset, Code: codes.Empty, MessageID: req.MessageID})
	}()
	if _, err := s.Do(ctx(t), NewRequest(GET, "x")); !errors.Is(err, ErrReset) {
		t.Errorf("after RST: %v", err)
	}
	// Silence: the request is sent 1+2 times, then ErrTimeout.
	done := make(chan error, 1)
	go func() { _, err := s.Do(ctx(t), NewRequest(GET, "y")); done <- err }()
	var mids []int32
	for range 3 {
		m, _, _ := p.recv()
		mids = append(mids, m.MessageID)
	}
	if err := <-done; !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "3 transmissions") {
		t.Errorf("silent peer: %v", err)
	}
	if mids[0] != mids[1] || mids[1] != mids[2] {
		t.Errorf("retransmissions changed MID: %v", mids)
	}
	// NON: no retransmission; the context ends the wait.
	c2, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r := NewRequest(GET, "z")
	r.NonConfirmable = true
	if _, err := s.Do(c2, r); !errors.Is(err, ErrTimeout) {
		t.Errorf("NON to a silent peer: %v", err)
	}
}

func TestNoOptions(t *testing.T) {
	p := newPeer(t)
	_, s := testSession(t, p.addr(), SessionOptions{})
	req := NewRequest(GET, "ignored/path?q=1")
	req.NoOptions, req.Token, req.ContentFormat = true, []byte("12345678"), TextPlain
	req.Payload = []byte("abcd://server:1234/mypath.data")
	go func() { _, _ = s.Do(ctx(t), req) }()
	_, raw, from := p.recv()
	want := append([]byte{0x48, 0x01, raw[2], raw[3]}, "12345678"...)
	want = append(append(want, 0xff), req.Payload...)
	if !bytes.Equal(raw, want) {
		t.Errorf("no-options request\n got % x\nwant % x", raw, want)
	}
	m := &message.Message{}
	_, _ = coder.DefaultCoder.Decode(raw, m)
	p.send(from, message.Message{Type: message.Acknowledgement, Code: codes.Content, MessageID: m.MessageID, Token: m.Token})
}

func TestHostNameSendsUriHost(t *testing.T) {
	p := newPeer(t)
	c := NewClient(slog.New(slog.DiscardHandler))
	defer c.Close()
	s, err := c.NewSession("localhost:"+strconv.Itoa(int(p.addr().Port())), SessionOptions{})
	if err != nil {
		t.Skipf("localhost does not resolve here: %v", err)
	}
	if s.Peer().Addr().Is6() {
		t.Skip("localhost resolved to IPv6; the peer listens on IPv4")
	}
	go func() { _, _ = s.Do(ctx(t), NewRequest(GET, "x")) }()
	m, _, _ := p.recv()
	if h, err := m.Options.GetString(message.URIHost); err != nil || h != "localhost" {
		t.Errorf("Uri-Host %q %v", h, err)
	}
}
