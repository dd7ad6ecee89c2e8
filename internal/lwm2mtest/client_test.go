package lwm2mtest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// lwClient is the smallest LwM2M client these tests need: one UDP socket on loopback, CoAP
// messages built by hand, no retransmission (loopback loses nothing). It is used from the
// test's goroutine only.
type lwClient struct {
	t    *testing.T
	conn *net.UDPConn
	srv  *net.UDPAddr
	mid  uint16
	tok  uint16
}

func newClient(t *testing.T, port int) *lwClient {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &lwClient{t: t, conn: conn, srv: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, mid: uint16(os.Getpid())}
}

func (c *lwClient) addr() string { return c.conn.LocalAddr().String() }

func (c *lwClient) send(m message.Message) {
	c.t.Helper()
	b := make([]byte, 2048)
	n, err := coder.DefaultCoder.Encode(m, b)
	if err != nil {
		c.t.Fatalf("encode %v: %v", m, err)
	}
	if _, err := c.conn.WriteToUDP(b[:n], c.srv); err != nil {
		c.t.Fatal(err)
	}
}

// receive returns the next datagram from the server's port, or fails the test after 10 s.
func (c *lwClient) receive() message.Message {
	c.t.Helper()
	m, ok := c.receiveWithin(10 * time.Second)
	if !ok {
		c.t.Fatalf("client %s: nothing from the server in 10 s", c.addr())
	}
	return m
}

// receiveWithin returns the next datagram from the server's port, false after d.
func (c *lwClient) receiveWithin(d time.Duration) (message.Message, bool) {
	c.t.Helper()
	b := make([]byte, 2048)
	c.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := c.conn.ReadFromUDP(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return message.Message{}, false
	}
	if err != nil {
		c.t.Fatalf("client %s: %v", c.addr(), err)
	}
	if from.Port != c.srv.Port {
		c.t.Fatalf("a datagram from %s, not from the server's port %d", from, c.srv.Port)
	}
	m := message.Message{Options: make(message.Options, 0, 16)}
	if _, err := coder.DefaultCoder.Decode(b[:n], &m); err != nil {
		c.t.Fatalf("undecodable datagram % x: %v", b[:n], err)
	}
	return m, true
}

// request sends a CON request to the server and returns its piggybacked answer.
func (c *lwClient) request(code codes.Code, path string, query []string, cf int, payload []byte) message.Message {
	c.t.Helper()
	c.mid++
	c.tok++
	m := message.Message{Type: message.Confirmable, Code: code, MessageID: int32(c.mid), Token: binary.BigEndian.AppendUint16(nil, c.tok), Payload: payload}
	for _, seg := range strings.Split(path, "/") {
		m.Options = m.Options.Add(message.Option{ID: message.URIPath, Value: []byte(seg)})
	}
	for _, q := range query {
		m.Options = m.Options.Add(message.Option{ID: message.URIQuery, Value: []byte(q)})
	}
	if cf >= 0 {
		m.Options = m.Options.Add(message.Option{ID: message.ContentFormat, Value: uintOpt(uint32(cf))})
	}
	c.send(m)
	r := c.receive()
	if r.Type != message.Acknowledgement || r.MessageID != m.MessageID || string(r.Token) != string(m.Token) {
		c.t.Fatalf("%v %s: answer %v, want the ACK of message %d", code, path, r, m.MessageID)
	}
	return r
}

// answer acknowledges req with a piggybacked response.
func (c *lwClient) answer(req message.Message, code codes.Code, cf int, observe int, payload []byte) {
	c.t.Helper()
	m := message.Message{Type: message.Acknowledgement, Code: code, MessageID: req.MessageID, Token: req.Token, Payload: payload}
	if observe >= 0 {
		m.Options = m.Options.Add(message.Option{ID: message.Observe, Value: uintOpt(uint32(observe))})
	}
	if cf >= 0 {
		m.Options = m.Options.Add(message.Option{ID: message.ContentFormat, Value: uintOpt(uint32(cf))})
	}
	c.send(m)
}

// notify sends a notification for the observation with token tok.
func (c *lwClient) notify(typ message.Type, tok []byte, seq uint32, payload string) message.Message {
	c.t.Helper()
	c.mid++
	m := message.Message{Type: typ, Code: codes.Content, MessageID: int32(c.mid), Token: tok, Payload: []byte(payload)}
	m.Options = m.Options.Add(message.Option{ID: message.Observe, Value: uintOpt(seq)})
	m.Options = m.Options.Add(message.Option{ID: message.ContentFormat, Value: uintOpt(0)})
	c.send(m)
	return m
}

func uintOpt(v uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, v)
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// register registers ep and returns the registration id from the Location-Path.
func (c *lwClient) register(ep string, lifetime int, links string) string {
	c.t.Helper()
	q := []string{"ep=" + ep, "lt=" + strconv.Itoa(lifetime), "lwm2m=1.1", "b=U"}
	r := c.request(codes.POST, "rd", q, 40, []byte(links))
	// lwm2m-node-lib sends one Location-Path option "rd/<id>", not two: join what came.
	var segs []string
	for _, o := range r.Options {
		if o.ID == message.LocationPath {
			segs = append(segs, string(o.Value))
		}
	}
	loc := strings.Join(segs, "/")
	if r.Code != codes.Created || !strings.HasPrefix(loc, "rd/") {
		c.t.Fatalf("register: %v, Location-Path %q, want 2.01 with rd/<id>", r.Code, loc)
	}
	return strings.TrimPrefix(loc, "rd/")
}

// served runs call, which makes the server send the client one request, hands that request
// to handle on the test's goroutine (which checks it and answers), and returns call's result.
func served(t *testing.T, c *lwClient, call func(context.Context) (Reply, error), handle func(req message.Message)) Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type result struct {
		r   Reply
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := call(ctx)
		done <- result{r, err}
	}()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if m, ok := c.receiveWithin(100 * time.Millisecond); ok {
			handle(m)
			break
		}
		select {
		case res := <-done:
			t.Fatalf("the client got no request; the call returned %v, %v", res.r, res.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("client %s: no request in 10 s", c.addr())
		}
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res.r
}

// describe prints a request as the tests compare it: type, code, path, options by name.
func describe(m message.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %v", m.Type, m.Code)
	for _, o := range m.Options {
		switch o.ID {
		case message.URIPath:
			fmt.Fprintf(&b, " /%s", o.Value)
		case message.URIQuery:
			fmt.Fprintf(&b, " ?%s", o.Value)
		default:
			fmt.Fprintf(&b, " %v=%d", o.ID, decodeUint(o.Value))
		}
	}
	return b.String()
}

func decodeUint(b []byte) uint32 {
	var v uint32
	for _, x := range b {
		v = v<<8 | uint32(x)
	}
	return v
}
