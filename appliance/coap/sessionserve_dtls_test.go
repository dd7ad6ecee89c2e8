package coap

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"

	"github.com/pigw/pigw/internal/dtlspsk"
)

// TestSessionServeDTLS: a DTLS session serves too. The peer is pigw's own DTLS server
// (package dtlspsk) playing a coaps LwM2M server: it answers the session's register, then
// sends requests of its own over the same DTLS connection.
func TestSessionServeDTLS(t *testing.T) {
	srv := sessionsOnlyServer(t, Config{})
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ln := dtlspsk.New(udp, dtlspsk.Config{PSK: func(id []byte) ([]byte, error) {
		if string(id) != "pigw-ep" {
			return nil, fmt.Errorf("unknown identity %q", id)
		}
		return []byte("lwm2m-key"), nil
	}})
	answers := make(chan string, 4)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { ln.Serve(ctx, func(_ context.Context, c *dtlspsk.Conn) { dtlsPeer(c, answers) }) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	_, s := testSession(t, ln.Addr(), SessionOptions{Identity: "pigw-ep", PSK: []byte("lwm2m-key"), Timeout: 3 * time.Second})
	if err := s.Serve(srv); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Do(ctx, NewRequest(POST, "rd?ep=pigw")); err != nil || r.Code != Code(codes.Created) {
		t.Fatalf("register over DTLS: %s %v", r.Code, err)
	}
	for _, want := range []string{"Content pigw", "Content secure"} {
		select {
		case got := <-answers:
			if got != want {
				t.Errorf("the peer got %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the peer got no answer, want %q", want)
		}
	}
}

// dtlsPeer answers the first request on c with 2.01, then GETs 3/0/0 and sec and sends what
// it got (code and payload, or the failure) to answers.
func dtlsPeer(c *dtlspsk.Conn, answers chan<- string) {
	buf := make([]byte, 2048)
	read := func() (*message.Message, error) {
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		m := &message.Message{Options: make(message.Options, 0, 16)}
		_, err = coder.DefaultCoder.Decode(buf[:n], m)
		return m, err
	}
	write := func(m message.Message) {
		out := make([]byte, 2048)
		n, _ := coder.DefaultCoder.Encode(m, out)
		_, _ = c.Write(out[:n])
	}
	reg, err := read()
	if err != nil {
		answers <- "register: " + err.Error()
		return
	}
	write(message.Message{Type: message.Acknowledgement, Code: codes.Created, MessageID: reg.MessageID, Token: reg.Token})
	for i, path := range []string{"3/0/0", "sec"} {
		m := msg(message.Confirmable, codes.GET, path, "")
		m.MessageID = int32(100 + i)
		write(*m)
		a, err := read()
		switch {
		case err != nil:
			answers <- path + ": " + err.Error()
		case a.Type != message.Acknowledgement || a.MessageID != m.MessageID:
			answers <- fmt.Sprintf("%s: %v MID %d", path, a.Type, a.MessageID)
		default:
			answers <- fmt.Sprintf("%v %s", a.Code, a.Payload)
		}
	}
}
