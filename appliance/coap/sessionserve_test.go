package coap

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// rawPeer plays an LwM2M server: one UDP socket that answers the session's requests and sends
// requests of its own to the address the session sent from.
type rawPeer struct {
	t    *testing.T
	conn *net.UDPConn
	mid  uint16
}

func newRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, conn: c, mid: 7000}
}

func (p *rawPeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// send sends m to the session at to; a zero MessageID takes the peer's next one.
func (p *rawPeer) send(to netip.AddrPort, m *message.Message) uint16 {
	p.t.Helper()
	if m.MessageID == 0 {
		p.mid++
		m.MessageID = int32(p.mid)
	}
	buf := make([]byte, 2048)
	n, err := coder.DefaultCoder.Encode(*m, buf)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDPAddrPort(buf[:n], to); err != nil {
		p.t.Fatal(err)
	}
	return uint16(m.MessageID)
}

// recv waits for a message; nil after the timeout.
func (p *rawPeer) recv(timeout time.Duration) (*message.Message, netip.AddrPort) {
	p.t.Helper()
	buf := make([]byte, 2048)
	_ = p.conn.SetReadDeadline(time.Now().Add(timeout))
	n, from, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil, netip.AddrPort{}
	}
	m := &message.Message{Options: make(message.Options, 0, 16)}
	if _, err := coder.DefaultCoder.Decode(buf[:n], m); err != nil {
		p.t.Fatalf("undecodable % x: %v", buf[:n], err)
	}
	return m, from
}

// register has the session send a CON POST rd to the peer, answers it with 2.01, and returns
// the session's address as the peer saw it.
func (p *rawPeer) register(s *Session) netip.AddrPort {
	p.t.Helper()
	done := make(chan Response, 1)
	go func() { r, _ := s.Do(context.Background(), NewRequest(POST, "rd?ep=pigw")); done <- r }()
	m, from := p.recv(3 * time.Second)
	if m == nil || m.Code != codes.POST {
		p.t.Fatalf("no register from the session: %v", m)
	}
	p.send(from, &message.Message{Type: message.Acknowledgement, Code: codes.Created, MessageID: m.MessageID, Token: m.Token})
	if r := <-done; r.Code != Code(codes.Created) {
		p.t.Fatalf("register: %s %v", r.Code, r.Err)
	}
	return from
}

// sessionsOnlyServer is a server without sockets with the resources an LwM2M client serves,
// run until the test ends.
func sessionsOnlyServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.SessionsOnly, cfg.Logger = true, slog.New(slog.DiscardHandler)
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		uri  string
		opts []ResourceOption
	}{
		{"3/0/0", []ResourceOption{WithValue([]byte("pigw")), WithMediaType(TextPlain), WithMethods(GET)}},
		{"1/0/1", []ResourceOption{WithValue([]byte("300")), WithMethods(GET | PUT)}},
		{"sec", []ResourceOption{WithHandler(GET, func(in Incoming) Answer {
			s := "plain"
			if in.Secure {
				s = "secure"
			}
			return Answer{Code: Content, ContentFormat: TextPlain, Payload: []byte(s)}
		})}},
	} {
		if _, err := srv.AddResource(r.uri, r.opts...); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return srv
}

func TestSessionServe(t *testing.T) {
	srv := sessionsOnlyServer(t, Config{})
	peer := newRawPeer(t)
	_, s := testSession(t, peer.addr(), SessionOptions{Timeout: 3 * time.Second})
	if err := s.Serve(srv); err != nil {
		t.Fatal(err)
	}
	at := peer.register(s)
	for _, tt := range []struct {
		name    string
		m       *message.Message
		typ     message.Type
		code    codes.Code
		payload string
	}{
		{"GET", msg(message.Confirmable, codes.GET, "3/0/0", ""), message.Acknowledgement, codes.Content, "pigw"},
		{"NON GET", msg(message.NonConfirmable, codes.GET, "3/0/0", ""), message.NonConfirmable, codes.Content, "pigw"},
		{"unknown path", msg(message.Confirmable, codes.GET, "3/0/99", ""), message.Acknowledgement, codes.NotFound, ""},
		{"PUT", msg(message.Confirmable, codes.PUT, "1/0/1", "120"), message.Acknowledgement, codes.Changed, ""},
		{"handler sees plain UDP", msg(message.Confirmable, codes.GET, "sec", ""), message.Acknowledgement, codes.Content, "plain"},
		{"ping", &message.Message{Type: message.Confirmable, Code: codes.Empty}, message.Reset, codes.Empty, ""},
	} {
		mid := peer.send(at, tt.m)
		a, from := peer.recv(2 * time.Second)
		switch {
		case a == nil:
			t.Errorf("%s: no answer", tt.name)
		case from != at:
			t.Errorf("%s: answer from %s, want the session's %s", tt.name, from, at)
		case a.Type != tt.typ || a.Code != tt.code || string(a.Payload) != tt.payload:
			t.Errorf("%s: %v %v %q, want %v %v %q", tt.name, a.Type, a.Code, a.Payload, tt.typ, tt.code, tt.payload)
		case tt.typ != message.NonConfirmable && uint16(a.MessageID) != mid:
			t.Errorf("%s: answer MID %d, want %d", tt.name, a.MessageID, mid)
		}
	}
	if v := string(srv.Resource("1/0/1").Value()); v != "120" {
		t.Errorf("after PUT: %q", v)
	}

	// Anyone but the peer is not answered and changes nothing.
	stranger := newRawPeer(t)
	stranger.mid = 9000 // not taken for a retransmission of the peer's requests
	stranger.send(at, msg(message.Confirmable, codes.PUT, "1/0/1", "999"))
	stranger.send(at, msg(message.Confirmable, codes.GET, "3/0/0", ""))
	if a, _ := stranger.recv(300 * time.Millisecond); a != nil {
		t.Errorf("a datagram from another port was answered: %v %v", a.Type, a.Code)
	}
	if v := string(srv.Resource("1/0/1").Value()); v != "120" {
		t.Errorf("another port's PUT was served: %q", v)
	}
	if err := s.Serve(srv); err == nil {
		t.Error("a second Serve was accepted")
	}
}

func TestSessionWithoutServeRejects(t *testing.T) {
	peer := newRawPeer(t)
	_, s := testSession(t, peer.addr(), SessionOptions{Timeout: 3 * time.Second})
	at := peer.register(s)
	mid := peer.send(at, msg(message.Confirmable, codes.GET, "3/0/0", ""))
	if a, _ := peer.recv(2 * time.Second); a == nil || a.Type != message.Reset || uint16(a.MessageID) != mid {
		t.Fatalf("a request to a session that does not serve: %v, want RST", a)
	}
}

func TestSessionsOnlyConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"sessions only", Config{SessionsOnly: true}, true},
		{"forgot listen", Config{}, false},
		{"sessions only with listen", Config{SessionsOnly: true, Listen: []string{"127.0.0.1:0"}}, false},
		{"sessions only with discovery", Config{SessionsOnly: true, ServiceDiscovery: true}, false},
	} {
		_, err := NewServer(tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// TestSessionServeObserve: an observation registered through the session notifies over it,
// and the peer's ACK of a notification settles it while a request of the session is in
// flight. The two message-ID counters start equal, as two random counters may: only one
// message-ID space per socket keeps the ACKs apart.
func TestSessionServeObserve(t *testing.T) {
	srv := sessionsOnlyServer(t, Config{Observe: ObserveConfig{ConEvery: 1}})
	srv.ackTimeout = 50 * time.Millisecond
	peer := newRawPeer(t)
	_, s := testSession(t, peer.addr(), SessionOptions{Timeout: 3 * time.Second})
	if err := s.Serve(srv); err != nil {
		t.Fatal(err)
	}
	at := peer.register(s)
	obs := msg(message.Confirmable, codes.GET, "3/0/0", "", opt{message.Observe, nil})
	obs.Token = []byte("ob")
	peer.send(at, obs)
	if a, _ := peer.recv(2 * time.Second); a == nil || a.Code != codes.Content || !a.Options.HasOption(message.Observe) {
		t.Fatalf("observe registration: %v", a)
	}

	s.mu.Lock()
	s.mid = uint16(srv.mid.Load())
	s.mu.Unlock()
	done := make(chan Response, 1)
	go func() { r, _ := s.Do(context.Background(), NewRequest(POST, "rd/1")); done <- r }()
	req, _ := peer.recv(2 * time.Second)
	if req == nil || req.Code != codes.POST {
		t.Fatalf("no update from the session: %v", req)
	}
	_ = srv.Resource("3/0/0").SetValue([]byte("v2"))
	n, _ := peer.recv(2 * time.Second)
	if n == nil || n.Type != message.Confirmable || string(n.Token) != "ob" || string(n.Payload) != "v2" {
		t.Fatalf("notification: %v", n)
	}
	if n.MessageID == req.MessageID {
		t.Errorf("the notification and the session's request share MID %d", n.MessageID)
	}
	peer.send(at, &message.Message{Type: message.Acknowledgement, Code: codes.Empty, MessageID: n.MessageID})
	peer.send(at, &message.Message{Type: message.Acknowledgement, Code: codes.Changed, MessageID: req.MessageID, Token: req.Token})
	if r := <-done; r.Code != Changed {
		t.Errorf("the session's request: %s %v", r.Code, r.Err)
	}
	if again, _ := peer.recv(10 * srv.ackTimeout); again != nil {
		t.Errorf("after the ACK: %v MID %d (notification %d)", again.Type, again.MessageID, n.MessageID)
	}
	if got := srv.notify.observers(); got != 1 {
		t.Fatalf("%d observers, want 1", got)
	}
	s.Close()
	if got := srv.notify.observers(); got != 0 {
		t.Errorf("%d observers after the session closed, want 0", got)
	}
}
