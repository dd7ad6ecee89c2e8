package coap

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

func encodedLen(t *testing.T, m *message.Message) int {
	t.Helper()
	n, err := coder.DefaultCoder.Size(*m)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestResponseBytes checks Response.Sent and Received against what a raw peer saw and sent:
// a piggybacked answer, a separate one (empty ACK, CON response, our ACK), and a request sent
// twice because its first transmission went unanswered.
func TestResponseBytes(t *testing.T) {
	for _, tt := range []struct {
		name     string
		ignore   int  // transmissions the peer ignores first
		separate bool // empty ACK, then a CON response
	}{
		{"piggybacked", 0, false},
		{"separate", 0, true},
		{"retransmitted", 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			peer := newRawPeer(t)
			_, s := testSession(t, peer.addr(), SessionOptions{AckTimeout: 100 * time.Millisecond, Timeout: 3 * time.Second})
			done := make(chan Response, 1)
			req := NewRequest(POST, "rd?ep=pigw&lt=300")
			req.ContentFormat, req.Payload = AppLinkFormat, []byte("</1/0>,</3/0>")
			go func() { r, _ := s.Do(context.Background(), req); done <- r }()
			var m *message.Message
			var from = peer.addr()
			wantSent := 0
			for i := 0; i <= tt.ignore; i++ {
				if m, from = peer.recv(3 * time.Second); m == nil {
					t.Fatal("no request")
				}
				wantSent += encodedLen(t, m)
			}
			answer := &message.Message{Type: message.Acknowledgement, Code: codes.Created, MessageID: m.MessageID, Token: m.Token,
				Options: message.Options{{ID: message.LocationPath, Value: []byte("rd")}, {ID: message.LocationPath, Value: []byte("7")}}}
			wantRecv := 0
			if tt.separate {
				peer.send(from, &message.Message{Type: message.Acknowledgement, Code: codes.Empty, MessageID: m.MessageID})
				wantRecv += 4
				answer.Type, answer.MessageID = message.Confirmable, 0
				wantSent += 4 // the session's ACK of the separate response
			}
			wantRecv += encodedLen(t, answer)
			peer.send(from, answer)
			r := <-done
			if r.Err != nil || r.Code != Code(codes.Created) {
				t.Fatalf("response %s %v", r.Code, r.Err)
			}
			t.Logf("%s: sent %d bytes, received %d bytes", tt.name, r.Sent, r.Received)
			if r.Sent != wantSent || r.Received != wantRecv {
				t.Errorf("Sent, Received = %d, %d; the peer saw %d and sent %d", r.Sent, r.Received, wantSent, wantRecv)
			}
		})
	}
}

// TestAnswerOptions checks that a handler's extra options reach the client: a registrar's
// Location-Path, two segments, in order.
func TestAnswerOptions(t *testing.T) {
	srv, addr := newTestServer(t, Config{})
	if _, err := srv.AddResource("rd", WithHandler(POST, func(Incoming) Answer {
		return Answer{Code: Code(codes.Created), ContentFormat: NoMediaType, Options: []Option{
			{ID: uint16(message.LocationPath), Value: []byte("rd")}, {ID: uint16(message.LocationPath), Value: []byte("42")}}}
	})); err != nil {
		t.Fatal(err)
	}
	_, s := testSession(t, addr, SessionOptions{Timeout: 3 * time.Second})
	r, err := s.Do(ctx(t), NewRequest(POST, "rd"))
	if err != nil {
		t.Fatal(err)
	}
	var loc []string
	for _, o := range r.Options {
		if o.ID == uint16(message.LocationPath) {
			loc = append(loc, string(o.Value))
		}
	}
	if r.Code != Code(codes.Created) || len(loc) != 2 || loc[0] != "rd" || loc[1] != "42" {
		t.Errorf("answer %s with Location-Path %q, want 2.01 with [rd 42]", r.Code, loc)
	}
}

// TestResponseBytesBlockwise counts every block of a Block1 request, through Do and Upload.
func TestResponseBytesBlockwise(t *testing.T) {
	body := []byte("</1/0>,</3/0>,</3303/0>,</3303/1>,</3304/0>") // 43 bytes: blocks of 16, 16, 11
	for _, upload := range []bool{false, true} {
		peer := newRawPeer(t)
		_, s := testSession(t, peer.addr(), SessionOptions{Timeout: 3 * time.Second})
		done := make(chan Response, 1)
		req := NewRequest(POST, "rd?ep=pigw")
		req.BlockSize = 16
		go func() {
			if upload {
				r, _ := s.Upload(context.Background(), req, bytes.NewReader(body), int64(len(body)), 0, nil)
				done <- r
				return
			}
			req.Payload = body
			r, _ := s.Do(context.Background(), req)
			done <- r
		}()
		wantSent, wantRecv := 0, 0
		for i := 0; ; i++ {
			m, from := peer.recv(3 * time.Second)
			if m == nil {
				t.Fatalf("no block %d", i)
			}
			wantSent += encodedLen(t, m)
			b1, _ := m.Options.GetUint32(message.Block1)
			answer := &message.Message{Type: message.Acknowledgement, Code: codes.Continue, MessageID: m.MessageID, Token: m.Token}
			answer.Options, _, _ = answer.Options.AddUint32(make([]byte, 4), message.Block1, b1)
			last := b1&8 == 0
			if last {
				answer.Code = codes.Changed
			}
			wantRecv += encodedLen(t, answer)
			peer.send(from, answer)
			if last {
				break
			}
		}
		r := <-done
		t.Logf("upload %v: %d bytes of body in blocks of 16: sent %d bytes, received %d bytes", upload, len(body), r.Sent, r.Received)
		if r.Code != Changed || r.Sent != wantSent || r.Received != wantRecv {
			t.Errorf("upload %v: %s, Sent, Received = %d, %d; the peer saw %d and sent %d", upload, r.Code, r.Sent, r.Received, wantSent, wantRecv)
		}
	}
}
