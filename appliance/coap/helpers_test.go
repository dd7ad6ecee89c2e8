package coap

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// startServer serves s on a loopback port until the test ends.
func startServer(t testing.TB, s *Server) netip.AddrPort {
	t.Helper()
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Serve(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return s.Addrs()[0]
}

func newTestServer(t testing.TB, cfg Config) (*Server, netip.AddrPort) {
	t.Helper()
	s, err := NewServer(withListen(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return s, startServer(t, s)
}

// seedServer is the tutorial's server example.
func seedServer(t testing.TB, cfg Config) (*Server, netip.AddrPort) {
	cfg.DynamicResources = true
	s, err := NewServer(withListen(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddResource("resource1", WithMediaType(TextPlain), WithValue([]byte("default_value")),
		WithAttribute("title", "resource1"), WithAttribute("ct", "0"), WithMethods(GET|POST|PUT)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddResource("resource2", WithMediaType(AppXML), WithETag(), WithMethods(GET|POST|PUT|DELETE)); err != nil {
		t.Fatal(err)
	}
	return s, startServer(t, s)
}

func withListen(cfg Config) Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Listen == nil {
		cfg.Listen = []string{"127.0.0.1:0"}
	}
	return cfg
}

// client is a raw CoAP client over one UDP socket.
type client struct {
	t    testing.TB
	conn *net.UDPConn
	mid  uint16
}

func dial(t testing.TB, to netip.AddrPort) *client {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, conn: c, mid: 100}
}

type opt struct {
	id  message.OptionID
	val []byte
}

func uintOpt(id message.OptionID, v uint32) opt {
	var b [4]byte
	n, _ := message.EncodeUint32(b[:], v)
	return opt{id, b[:n]}
}

// msg builds a request; path may hold "?query".
func msg(typ message.Type, code codes.Code, path string, payload string, opts ...opt) *message.Message {
	m := &message.Message{Type: typ, Code: code, Token: []byte{1, 2, 3, 4}}
	p, q, _ := strings.Cut(path, "?")
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		if seg != "" {
			m.Options = m.Options.Add(message.Option{ID: message.URIPath, Value: []byte(seg)})
		}
	}
	if q != "" {
		for _, qq := range strings.Split(q, "&") {
			m.Options = m.Options.Add(message.Option{ID: message.URIQuery, Value: []byte(qq)})
		}
	}
	for _, o := range opts {
		m.Options = m.Options.Add(message.Option{ID: o.id, Value: o.val})
	}
	if payload != "" {
		m.Payload = []byte(payload)
	}
	return m
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) send(m *message.Message) uint16 {
	c.t.Helper()
	c.mid++
	m.MessageID = int32(c.mid)
	buf := make([]byte, 70000)
	n, err := coder.DefaultCoder.Encode(*m, buf)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(buf[:n])
	return c.mid
}

// recv waits for a message; nil after the timeout.
func (c *client) recv(timeout time.Duration) *message.Message {
	c.t.Helper()
	buf := make([]byte, 70000)
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	n, err := c.conn.Read(buf)
	if err != nil {
		return nil
	}
	m := &message.Message{Options: make(message.Options, 0, 32)}
	if _, err := coder.DefaultCoder.Decode(buf[:n], m); err != nil {
		c.t.Fatalf("undecodable answer % x: %v", buf[:n], err)
	}
	return m
}

// do sends a CON request and returns its piggybacked answer.
func (c *client) do(code codes.Code, path, payload string, opts ...opt) *message.Message {
	c.t.Helper()
	mid := c.send(msg(message.Confirmable, code, path, payload, opts...))
	for {
		m := c.recv(2 * time.Second)
		if m == nil {
			c.t.Fatalf("%v %s: no answer", code, path)
		}
		if m.Type == message.Acknowledgement && uint16(m.MessageID) == mid {
			return m
		}
	}
}

func optUint(m *message.Message, id message.OptionID) (uint32, bool) {
	v, err := m.Options.GetUint32(id)
	return v, err == nil
}
