package coap

import (
	"bytes"
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

func TestDuplicateCONAnsweredFromCache(t *testing.T) {
	s, addr := seedServer(t, Config{})
	var created atomic.Int32
	s.OnNewResource(func(*Resource) { created.Add(1) })
	c := dial(t, addr)
	req := msg(message.Confirmable, codes.PUT, "dup", "first")
	req.MessageID = 4242
	buf := make([]byte, 256)
	n, _ := encodeMsg(req, buf)
	var answers [][]byte
	for range 3 {
		c.sendRaw(buf[:n])
		m := c.recv(2 * time.Second)
		if m == nil {
			t.Fatal("no answer")
		}
		answers = append(answers, []byte(fmt.Sprint(m.Code, m.MessageID, m.Token)))
	}
	for _, a := range answers[1:] {
		if !bytes.Equal(a, answers[0]) {
			t.Errorf("duplicate answered %s, first %s", a, answers[0])
		}
	}
	if string(answers[0][:4]) != "Crea" {
		t.Errorf("first answer %s", answers[0])
	}
	time.Sleep(50 * time.Millisecond)
	if n := created.Load(); n != 1 {
		t.Errorf("handler ran %d times", n)
	}
	// A POST's duplicate does not change the ETag twice.
	r := s.Resource("resource2")
	post := msg(message.Confirmable, codes.POST, "resource2", "v")
	post.MessageID = 4243
	n, _ = encodeMsg(post, buf)
	c.sendRaw(buf[:n])
	c.recv(time.Second)
	c.sendRaw(buf[:n])
	c.recv(time.Second)
	if d := r.Details(); d.ETagValue != 2 {
		t.Errorf("ETag %d after a POST and its duplicate, want 2", d.ETagValue)
	}
}

func TestDedupCacheBounded(t *testing.T) {
	c := newDedupCache(64, time.Minute)
	now := time.Now()
	peer := netip.MustParseAddrPort("192.0.2.1:5683")
	for i := range 10000 {
		k := dedupKey{peer: peer, mid: uint16(i)}
		if st, _ := c.begin(k, now, nil); st != dedupNew {
			t.Fatalf("mid %d: %v", i, st)
		}
		c.finish(k, []byte("answer"))
	}
	if n := c.len(); n > 64 {
		t.Errorf("%d entries, bound 64", n)
	}
	dst := make([]byte, 100)
	// The newest are remembered, expired ones are not.
	if st, n := c.begin(dedupKey{peer: peer, mid: 9999}, now, dst); st != dedupAnswered || string(dst[:n]) != "answer" {
		t.Errorf("recent: %v %q", st, dst[:n])
	}
	if st, _ := c.begin(dedupKey{peer: peer, mid: 9998}, now.Add(2*time.Minute), dst); st != dedupNew {
		t.Errorf("expired: %v", st)
	}
	big := bytes.Repeat([]byte("z"), 500)
	k := dedupKey{peer: peer, mid: 1}
	c.begin(k, now, nil)
	c.finish(k, big)
	dst = make([]byte, 600)
	if st, n := c.begin(k, now, dst); st != dedupAnswered || !bytes.Equal(dst[:n], big) {
		t.Errorf("large answer: %v %d", st, n)
	}
}

// TestMalformed sends broken datagrams: CON ones are rejected with RST, NON ones ignored, and
// the server keeps answering.
func TestMalformed(t *testing.T) {
	_, addr := seedServer(t, Config{})
	c := dial(t, addr)
	tests := []struct {
		name string
		pkt  []byte
		rst  bool
	}{
		{"empty", nil, false},
		{"truncated header", []byte{0x40, 0x01, 0x00}, false},
		{"version 2", []byte{0x80, 0x01, 0x00, 0x01}, false},
		{"token length 9", append([]byte{0x49, 0x01, 0x00, 0x02}, make([]byte, 9)...), true},
		{"token length 15", append([]byte{0x4f, 0x01, 0x00, 0x03}, make([]byte, 15)...), true},
		{"token longer than datagram", []byte{0x48, 0x01, 0x00, 0x04, 1, 2}, true},
		{"option delta 15", []byte{0x40, 0x01, 0x00, 0x05, 0xf1, 0x00}, true},
		{"option length 15", []byte{0x40, 0x01, 0x00, 0x06, 0xbf}, true},
		{"option truncated", []byte{0x40, 0x01, 0x00, 0x07, 0xb5, 'a', 'b'}, true},
		{"extended delta truncated", []byte{0x40, 0x01, 0x00, 0x08, 0xd0}, true},
		{"payload marker without payload", []byte{0x40, 0x01, 0x00, 0x09, 0xff}, true},
		{"NON with bad option", []byte{0x50, 0x01, 0x00, 0x0a, 0xf1, 0x00}, false},
		{"CON ping", []byte{0x40, 0x00, 0x00, 0x0b}, true},
		{"CON response", []byte{0x40, 0x45, 0x00, 0x0c}, true},
		{"ACK nobody waits for", []byte{0x60, 0x00, 0x00, 0x0d}, false},
		{"RST nobody waits for", []byte{0x70, 0x00, 0x00, 0x0e}, false},
	}
	for _, tt := range tests {
		c.sendRaw(tt.pkt)
		m := c.recv(150 * time.Millisecond)
		switch {
		case tt.rst && (m == nil || m.Type != message.Reset || m.MessageID != int32(uint16(tt.pkt[2])<<8|uint16(tt.pkt[3]))):
			t.Errorf("%s: want RST, got %v", tt.name, m)
		case !tt.rst && m != nil:
			t.Errorf("%s: want silence, got %v %v", tt.name, m.Type, m.Code)
		}
	}
	if m := c.do(codes.GET, "resource1", ""); m.Code != codes.Content {
		t.Errorf("after malformed input: %v", m.Code)
	}
}

func TestNONRequest(t *testing.T) {
	_, addr := seedServer(t, Config{})
	c := dial(t, addr)
	mid := c.send(msg(message.NonConfirmable, codes.GET, "resource1", ""))
	m := c.recv(2 * time.Second)
	if m == nil || m.Type != message.NonConfirmable || m.Code != codes.Content || string(m.Token) != "\x01\x02\x03\x04" {
		t.Fatalf("NON answer %v", m)
	}
	if uint16(m.MessageID) == mid {
		t.Log("NON answer reused the request's MID (allowed but unusual)")
	}
	// No-Response: suppress 2.xx.
	c.send(msg(message.NonConfirmable, codes.GET, "resource1", "", uintOpt(message.NoResponse, 2)))
	if m := c.recv(200 * time.Millisecond); m != nil {
		t.Errorf("No-Response 2 ignored: %v", m.Code)
	}
}

func TestIPv6(t *testing.T) {
	_, addr := seedServer(t, Config{Listen: []string{"[::1]:0"}})
	if !addr.Addr().Is6() {
		t.Fatal(addr)
	}
	if m := dial(t, addr).do(codes.GET, "resource1", ""); m.Code != codes.Content || string(m.Payload) != "default_value" {
		t.Errorf("over IPv6: %v %q", m.Code, m.Payload)
	}
}

// TestFloodMemoryBounded creates resources far past the limit and sends thousands of
// requests from many ports; the heap stays bounded.
func TestFloodMemoryBounded(t *testing.T) {
	s, addr := seedServer(t, Config{Limits: Limits{MaxResources: 200}})
	c := dial(t, addr)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	refused := 0
	for i := range 3000 {
		m := c.do(codes.PUT, fmt.Sprintf("flood/%d", i), "0123456789")
		if m.Code == codes.ServiceUnavailable {
			refused++
		}
	}
	if refused != 3000-198 || len(s.Resources()) != 200 {
		t.Errorf("refused %d, resources %d", refused, len(s.Resources()))
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grow := int64(after.HeapAlloc) - int64(before.HeapAlloc); grow > 8<<20 {
		t.Errorf("heap grew by %d bytes", grow)
	}
}

func encodeMsg(m *message.Message, buf []byte) (int, error) {
	r := reply{code: m.Code, opts: m.Options, payload: m.Payload}
	b := r.encode(m.Type, uint16(m.MessageID), m.Token, &buf)
	return len(b), nil
}

// TestAnswerFromAskedAddress: on a wildcard socket the answer leaves from the address the
// client sent to; a connected client socket accepts nothing else.
func TestAnswerFromAskedAddress(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", "[::]:0"} {
		s, err := NewServer(withListen(Config{Listen: []string{listen}}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddResource("r", WithValue([]byte("v")), WithMethods(GET)); err != nil {
			t.Fatal(err)
		}
		port := startServer(t, s).Port()
		targets := []string{"127.0.0.2", "127.0.0.1"}
		if listen[0] == '[' {
			targets = []string{"::1"}
		}
		for _, ip := range targets {
			to := netip.AddrPortFrom(netip.MustParseAddr(ip), port)
			if m := dial(t, to).do(codes.GET, "r", ""); m.Code != codes.Content {
				t.Errorf("%s via %s: %v", listen, to, m.Code)
			}
		}
	}
}
