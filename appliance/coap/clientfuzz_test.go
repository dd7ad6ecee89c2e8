package coap

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/fuzzcheck"
)

// fuzzToken is the token of the fuzzed requests: libcoap's captured answers carry it.
const fuzzToken = "\xca\xfe"

// fuzzMaxBody is the session's limit on reassembled bodies, small so that fuzzed Block2
// answers reach it.
const fuzzMaxBody = 64

// FuzzClientResponse drives a session's response path (decoding, matching by message ID and
// token, empty ACKs and separate responses, RST, duplicates, Block2 reassembly up to MaxBody,
// Block1 with the server asking for smaller blocks) with what any server on the LAN could send.
// The input's first byte picks the request (a GET, a PUT of 100 bytes in 16-byte blocks, a
// NON GET); then come datagrams, each as a flag byte, a length byte and the datagram. Flag bit
// 0 puts the message ID of the request in flight into the datagram, bit 1 its token, so that
// datagrams reach past the matching. Whatever comes, the request ends with a response for its
// token or an error, the body stays within MaxBody, and no exchange is left behind.
func FuzzClientResponse(f *testing.F) {
	for name, ds := range libcoapResponses(f) {
		in := []byte{0}
		if name == "put-small" {
			in[0] = 1
		}
		for _, d := range ds {
			if len(d) <= 255 {
				in = append(in, 1, byte(len(d)))
				in = append(in, d...)
			}
		}
		f.Add(in)
	}
	f.Add([]byte{0, 1, 4, 0x60, 0, 0, 0, 2, 6, 0x52, 0x45, 0, 0, 0xca, 0xfe}) // empty ACK, then a NON 2.05
	f.Add([]byte{2, 3, 4, 0x70, 0, 0, 0})                                     // RST
	// A Block2 body of 60 bytes and a last block of 200: past MaxBody once put together.
	first := append([]byte{0x62, 0x45, 0, 0, 0xca, 0xfe, 0xd1, 0x0a, 0x0a, 0xff}, make([]byte, 60)...)
	last := append([]byte{0x62, 0x45, 0, 0, 0xca, 0xfe, 0xd1, 0x0a, 0x12, 0xff}, make([]byte, 200)...)
	f.Add(append(append(append([]byte{0, 1, byte(len(first))}, first...), 1, byte(len(last))), last...))

	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { peer.Close() })
	go func() { // the requests, ACKs and RSTs the client sends, read and dropped
		buf := make([]byte, maxDatagram)
		for {
			if _, _, err := peer.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	c := NewClient(slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.Cleanup(func() { c.Close() })
	// No retransmissions and no timers firing during an execution: what happens depends only
	// on the datagrams.
	s, err := c.NewSession(peer.LocalAddr().String(), SessionOptions{AckTimeout: time.Hour, MaxRetransmit: -1, MaxBody: fuzzMaxBody})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		req := NewRequest(GET, "x")
		switch in[0] % 3 {
		case 1:
			req = NewRequest(PUT, "x")
			req.Payload, req.BlockSize = make([]byte, 100), 16
		case 2:
			req.NonConfirmable = true
		}
		req.Token = []byte(fuzzToken)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan Response, 1)
		go func() {
			r, _ := s.Do(ctx, req)
			done <- r
		}()
		var resp Response
		ended := false
		cur := fuzzWaitExchange(t, s, nil, done, &resp, &ended)
		longest := 0
		for rest := in[1:]; len(rest) >= 2 && !ended; {
			flags, n := rest[0], int(rest[1])
			d := append([]byte(nil), rest[2:2+min(n, len(rest)-2)]...)
			rest = rest[2+len(d):]
			longest = max(longest, len(d))
			if flags&1 != 0 && len(d) >= 4 {
				d[2], d[3] = byte(cur.mid>>8), byte(cur.mid)
			}
			if flags&2 != 0 && len(d) >= 4 && int(d[0]&0xf) == len(fuzzToken) && len(d) >= 4+len(fuzzToken) {
				copy(d[4:], fuzzToken)
			}
			fuzzcheck.Bounded(t, len(d), 64, func() { s.datagram(d) })
			s.mu.Lock()
			still := s.byToken[fuzzToken] == cur
			s.mu.Unlock()
			if !still {
				cur = fuzzWaitExchange(t, s, cur, done, &resp, &ended)
			}
		}
		if !ended {
			cancel()
			resp = <-done
		}
		if resp.Err == nil {
			if resp.Code.Class() < 2 || string(resp.Token) != fuzzToken {
				t.Fatalf("a response with code %v and token %x ended the request", resp.Code, resp.Token)
			}
			if len(resp.Payload) > max(fuzzMaxBody, longest) {
				t.Fatalf("a body of %d bytes, past MaxBody %d", len(resp.Payload), fuzzMaxBody)
			}
		}
		s.mu.Lock()
		left := len(s.byMID) + len(s.byToken)
		s.mu.Unlock()
		if left > 0 {
			t.Fatalf("%d exchanges left after the request ended (%v)", left, resp.Err)
		}
	})
}

// fuzzWaitExchange waits until the request has an exchange in flight other than prev, or has
// ended (then it sets *resp and *ended and returns nil).
func fuzzWaitExchange(t *testing.T, s *Session, prev *exchange, done <-chan Response, resp *Response, ended *bool) *exchange {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case *resp = <-done:
			*ended = true
			return nil
		default:
		}
		s.mu.Lock()
		ex := s.byToken[fuzzToken]
		s.mu.Unlock()
		if ex != nil && ex != prev {
			return ex
		}
		time.Sleep(time.Microsecond)
	}
	t.Fatal("the request neither ended nor sent its next message within 10 s")
	return nil
}
