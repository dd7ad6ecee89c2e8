package coap

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// TestSessionServeBlockwise: a Block1 upload (the firmware package) and a Block2 answer work
// through a serving session.
func TestSessionServeBlockwise(t *testing.T) {
	srv := sessionsOnlyServer(t, Config{})
	var mu sync.Mutex
	var got []byte
	if _, err := srv.AddResource("5/0/0", WithBlockHandler(PUT, func(b Block) Answer {
		mu.Lock()
		defer mu.Unlock()
		got = append(got[:b.Offset], b.Payload...)
		if b.More {
			return Answer{Code: Continue}
		}
		return Answer{Code: Changed}
	})); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 100) // 1600 bytes: two blocks of 1024
	if _, err := srv.AddResource("3/0/17", WithValue(big), WithMethods(GET)); err != nil {
		t.Fatal(err)
	}
	peer := newRawPeer(t)
	_, s := testSession(t, peer.addr(), SessionOptions{Timeout: 3 * time.Second})
	if err := s.Serve(srv); err != nil {
		t.Fatal(err)
	}
	at := peer.register(s)
	exchange := func(m *message.Message) *message.Message {
		t.Helper()
		peer.send(at, m)
		a, _ := peer.recv(2 * time.Second)
		if a == nil {
			t.Fatal("no answer")
		}
		return a
	}
	body := []byte("firmware package, forty bytes long......")
	for off := 0; off < len(body); off += 16 {
		end := min(off+16, len(body))
		v := uint32(off/16)<<4 | 0 // SZX 0: 16-byte blocks
		if end < len(body) {
			v |= 8
		}
		a := exchange(msg(message.Confirmable, codes.PUT, "5/0/0", string(body[off:end]), uintOpt(message.Block1, v)))
		if want := map[bool]codes.Code{true: codes.Continue, false: codes.Changed}[end < len(body)]; a.Code != want {
			t.Fatalf("block at %d: %v, want %v", off, a.Code, want)
		}
	}
	mu.Lock()
	if !bytes.Equal(got, body) {
		t.Errorf("Block1 body %q", got)
	}
	mu.Unlock()

	var read []byte
	for num := uint32(0); ; num++ {
		a := exchange(msg(message.Confirmable, codes.GET, "3/0/17", "", uintOpt(message.Block2, num<<4|6)))
		v, ok := optUint(a, message.Block2)
		if a.Code != codes.Content || !ok {
			t.Fatalf("Block2 %d: %v block2=%v", num, a.Code, ok)
		}
		read = append(read, a.Payload...)
		if v&8 == 0 {
			break
		}
	}
	if !bytes.Equal(read, big) {
		t.Errorf("Block2 body of %d bytes, want %d", len(read), len(big))
	}
}
