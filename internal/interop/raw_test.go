package interop

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// rawClient is a minimal CoAP client over one UDP socket, for what
// coap-client cannot send (malformed datagrams) or would be too slow for
// (thousands of requests). It is used from one goroutine.
type rawClient struct {
	conn *net.UDPConn
	mid  uint16
	tok  uint32
	buf  []byte
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{conn: c, mid: uint16(os.Getpid()), buf: make([]byte, 70000)}
}

// request builds a message with Uri-Path segments from path.
func request(typ message.Type, code codes.Code, path string, payload []byte, opts ...message.Option) message.Message {
	m := message.Message{Type: typ, Code: code}
	for _, seg := range strings.Split(path, "/") {
		if seg != "" {
			m.Options = m.Options.Add(message.Option{ID: message.URIPath, Value: []byte(seg)})
		}
	}
	for _, o := range opts {
		m.Options = m.Options.Add(o)
	}
	m.Payload = payload
	return m
}

func contentFormat(cf message.MediaType) message.Option {
	return message.Option{ID: message.ContentFormat, Value: []byte{byte(cf)}}
}

// encode gives m a fresh message ID and token and encodes it.
func (c *rawClient) encode(m message.Message) ([]byte, uint16, []byte) {
	c.mid++
	c.tok++
	m.MessageID = int32(c.mid)
	m.Token = fmt.Appendf(nil, "%04x", c.tok)
	b := make([]byte, 70000)
	n, err := coder.DefaultCoder.Encode(m, b)
	if err != nil {
		panic(err)
	}
	return b[:n], c.mid, m.Token
}

func (c *rawClient) write(b []byte) error {
	_, err := c.conn.Write(b)
	return err
}

// read returns the next decodable datagram, or an error after the deadline.
func (c *rawClient) read(deadline time.Time) (*message.Message, error) {
	_ = c.conn.SetReadDeadline(deadline)
	for {
		n, err := c.conn.Read(c.buf)
		if err != nil {
			return nil, err
		}
		m := &message.Message{Options: make(message.Options, 0, 32)}
		if _, err := coder.DefaultCoder.Decode(c.buf[:n], m); err != nil {
			return nil, fmt.Errorf("undecodable datagram % x: %w", c.buf[:min(n, 64)], err)
		}
		return m, nil
	}
}

var errNoAnswer = errors.New("no answer")

// do sends a CON request and waits for its piggybacked answer, sending the
// same datagram again (same message ID) after each wait, tries times.
func (c *rawClient) do(m message.Message, wait time.Duration, tries int) (*message.Message, error) {
	m.Type = message.Confirmable
	b, mid, tok := c.encode(m)
	for range tries {
		if err := c.write(b); err != nil {
			return nil, err
		}
		deadline := time.Now().Add(wait)
		for {
			r, err := c.read(deadline)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				if strings.Contains(err.Error(), "undecodable") {
					return nil, err
				}
				time.Sleep(10 * time.Millisecond) // ECONNREFUSED while the server is down
				if time.Now().After(deadline) {
					break
				}
				continue
			}
			if uint16(r.MessageID) == mid && r.Type == message.Acknowledgement && string(r.Token) == string(tok) {
				return r, nil
			}
		}
	}
	return nil, errNoAnswer
}

// drainAll returns the datagrams that arrive until none comes for quiet
// (at most 100).
func (c *rawClient) drainAll(quiet time.Duration) [][]byte {
	var out [][]byte
	for len(out) < 100 {
		_ = c.conn.SetReadDeadline(time.Now().Add(quiet))
		k, err := c.conn.Read(c.buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			continue
		}
		out = append(out, bytes.Clone(c.buf[:k]))
	}
	return out
}

// drain reads and counts datagrams until none comes for quiet.
func (c *rawClient) drain(quiet time.Duration) (n int, types map[string]int) {
	types = map[string]int{}
	for range 100000 {
		_ = c.conn.SetReadDeadline(time.Now().Add(quiet))
		k, err := c.conn.Read(c.buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return n, types
			}
			continue
		}
		n++
		m := &message.Message{Options: make(message.Options, 0, 32)}
		if _, err := coder.DefaultCoder.Decode(c.buf[:k], m); err != nil {
			types["undecodable"]++
			continue
		}
		types[fmt.Sprintf("%v %v", m.Type, m.Code)]++
	}
	return n, types
}
