package lwm2m

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// peer plays the LwM2M server in unit tests: one UDP socket on loopback that takes the
// client's Register and then sends it requests over the registration's socket, as a server
// does. Messages that are not the answer awaited (notifications) go to notes.
type peer struct {
	t      *testing.T
	conn   *net.UDPConn
	client netip.AddrPort // the session's address, from its Register
	in     chan received
	notes  chan received

	mu  sync.Mutex
	mid uint16
	tok uint32
}

type received struct {
	m    *message.Message
	at   time.Time
	from netip.AddrPort
}

// opt is an option of a request the peer sends.
type opt struct {
	id message.OptionID
	v  []byte
}

func accept(mt coap.MediaType) opt { return opt{message.Accept, uintBytes(uint32(mt))} }
func format(mt coap.MediaType) opt { return opt{message.ContentFormat, uintBytes(uint32(mt))} }
func observe(v uint32) opt         { return opt{message.Observe, uintBytes(v)} }
func query(q string) opt           { return opt{message.URIQuery, []byte(q)} }
func uintBytes(v uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, v)
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// servedTree serves objs through a coap.Session that registered with a peer, as the
// appliance will: Tree.NewServer, Session.Serve, and a Register of the tree's Links.
func servedTree(t *testing.T, objs ...*Object) (*Tree, *peer) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, conn: conn, in: make(chan received, 64), notes: make(chan received, 1024), mid: 100}
	var wg sync.WaitGroup
	wg.Go(p.read)
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	tree, sess, _ := servingSession(t, conn.LocalAddr().String(), objs...)
	p.client = p.register(sess, tree.Links())
	return tree, p
}

// servingSession makes a tree of objs, serves it on a sessions-only server, and returns a
// session to addr that serves it, closed when the test ends, and the server.
func servingSession(t *testing.T, addr string, objs ...*Object) (*Tree, *coap.Session, *coap.Server) {
	t.Helper()
	tree, err := NewTree(slog.New(slog.DiscardHandler), objs...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tree.NewServer(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ctx) })
	client := coap.NewClient(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { client.Close(); cancel(); wg.Wait() })
	sess, err := client.NewSession(addr, coap.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Serve(srv); err != nil {
		t.Fatal(err)
	}
	return tree, sess, srv
}

// read sorts what arrives: everything goes to in, where do and register look for their
// answer and pass the rest on to notes.
func (p *peer) read() {
	for {
		b := make([]byte, 2048)
		n, from, err := p.conn.ReadFromUDPAddrPort(b)
		if err != nil {
			return
		}
		m := &message.Message{Options: make(message.Options, 0, 16)}
		if _, err := coder.DefaultCoder.Decode(b[:n], m); err != nil {
			p.t.Errorf("undecodable datagram % x: %v", b[:n], err)
			continue
		}
		r := received{m, time.Now(), from}
		if m.Code == codes.Content && m.Type != message.Acknowledgement && m.Options.HasOption(message.Observe) {
			p.notes <- r
			continue
		}
		p.in <- r
	}
}

// register is the test's own Register (the registration engine is not this package's): a CON
// POST rd?ep=..&lt=..&lwm2m=1.1&b=U with the tree's links, answered 2.01 rd/1.
func (p *peer) register(s *coap.Session, links string) netip.AddrPort {
	p.t.Helper()
	req := coap.NewRequest(coap.POST, "rd?ep=test&lt=300&lwm2m=1.1&b=U")
	req.ContentFormat, req.Payload = coap.AppLinkFormat, []byte(links)
	done := make(chan coap.Response, 1)
	go func() { r, _ := s.Do(context.Background(), req); done <- r }()
	var from netip.AddrPort
	select {
	case r := <-p.in:
		if r.m.Code != codes.POST || string(r.m.Payload) != links {
			p.t.Fatalf("register: got %v %q", r.m.Code, r.m.Payload)
		}
		from = r.from
		p.send(from, &message.Message{Type: message.Acknowledgement, Code: codes.Created, MessageID: r.m.MessageID, Token: r.m.Token,
			Options: message.Options{{ID: message.LocationPath, Value: []byte("rd/1")}}})
	case <-time.After(5 * time.Second):
		p.t.Fatal("no Register from the session")
	}
	if r := <-done; r.Code != coap.Code(codes.Created) {
		p.t.Fatalf("register: %v %v", r.Code, r.Err)
	}
	return from
}

func (p *peer) send(to netip.AddrPort, m *message.Message) {
	p.t.Helper()
	b := make([]byte, 4096)
	n, err := coder.DefaultCoder.Encode(*m, b)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDPAddrPort(b[:n], to); err != nil {
		p.t.Fatal(err)
	}
}

// do sends a CON request to the client and returns its piggybacked answer.
func (p *peer) do(code codes.Code, path string, payload []byte, opts ...opt) *message.Message {
	p.t.Helper()
	m, _ := p.doToken(nil, code, path, payload, opts...)
	return m
}

// doToken is do with the token tok (an observation's, to cancel it), or a new one for nil;
// it returns the token.
func (p *peer) doToken(tok []byte, code codes.Code, path string, payload []byte, opts ...opt) (*message.Message, []byte) {
	p.t.Helper()
	p.mu.Lock()
	p.mid++
	p.tok++
	mid := p.mid
	if tok == nil {
		tok = binary.BigEndian.AppendUint32(nil, p.tok)
	}
	p.mu.Unlock()
	m := &message.Message{Type: message.Confirmable, Code: code, MessageID: int32(mid), Token: tok, Payload: payload}
	for _, seg := range strings.Split(strings.Trim(path, "/"), "/") {
		m.Options = m.Options.Add(message.Option{ID: message.URIPath, Value: []byte(seg)})
	}
	for _, o := range opts {
		m.Options = m.Options.Add(message.Option{ID: o.id, Value: o.v})
	}
	p.send(p.client, m)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case r := <-p.in:
			if r.m.Type == message.Acknowledgement && r.m.MessageID == int32(mid) {
				return r.m, tok
			}
			p.t.Logf("unexpected %v %v mid %d", r.m.Type, r.m.Code, r.m.MessageID)
		case <-deadline:
			p.t.Fatalf("%v %s: no answer in 5 s", code, path)
		}
	}
}

// note waits up to d for the next notification.
func (p *peer) note(d time.Duration) (received, bool) {
	select {
	case r := <-p.notes:
		return r, true
	case <-time.After(d):
		return received{}, false
	}
}

func cf(m *message.Message) coap.MediaType {
	v, err := m.Options.ContentFormat()
	if err != nil {
		return coap.NoMediaType
	}
	return coap.MediaType(v)
}
