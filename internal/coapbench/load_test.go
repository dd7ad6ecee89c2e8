package coapbench

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// responder is a tiny in-process CoAP server: it answers every CON request
// with a piggybacked ACK carrying code and a payload of payloadLen bytes,
// except every dropEvery-th request, which it drops.
type responder struct {
	conn       *net.UDPConn
	code       byte
	payloadLen int
	dropEvery  int64

	received atomic.Int64
	dropped  atomic.Int64

	mu    sync.Mutex
	peers map[netip.AddrPort]bool
	done  chan struct{}
}

func startResponder(t *testing.T, code byte, payloadLen int, dropEvery int64) *responder {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	r := &responder{conn: c, code: code, payloadLen: payloadLen, dropEvery: dropEvery,
		peers: map[netip.AddrPort]bool{}, done: make(chan struct{})}
	go r.serve()
	t.Cleanup(func() {
		c.Close()
		<-r.done
	})
	return r
}

func (r *responder) addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (r *responder) serve() {
	defer close(r.done)
	in := make([]byte, 2048)
	out := make([]byte, 0, 128)
	deadline := time.Now().Add(30 * time.Second) // bounded even if never closed
	r.conn.SetReadDeadline(deadline)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(in)
		if err != nil {
			return
		}
		m, ok := parseMessage(in[:n])
		if !ok || m.typ != typeCON {
			continue
		}
		r.mu.Lock()
		r.peers[from] = true
		r.mu.Unlock()
		if k := r.received.Add(1); r.dropEvery > 0 && k%r.dropEvery == 0 {
			r.dropped.Add(1)
			continue
		}
		out = out[:0]
		out = append(out, 1<<6|typeACK<<4|byte(len(m.token)), r.code, in[2], in[3])
		out = append(out, m.token...)
		out = append(out, 0xc1, 0) // Content-Format: text/plain
		if r.payloadLen > 0 {
			out = append(out, 0xff)
			for i := 0; i < r.payloadLen; i++ {
				out = append(out, 'a'+byte(i%26))
			}
		}
		r.conn.WriteToUDPAddrPort(out, from)
	}
}

// waitReceived waits until the responder has seen n requests (they may still
// be in the socket buffer when Run returns).
func (r *responder) waitReceived(n int64) {
	for end := time.Now().Add(time.Second); r.received.Load() < n && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
}

func TestRunAccounting(t *testing.T) {
	const sockets = 8
	resp := startResponder(t, codeContent, 40, 10)
	r, err := Run(context.Background(), Options{
		Addr: resp.addr(), Path: "bench", Sockets: sockets,
		Duration: 600 * time.Millisecond, Window: 100 * time.Millisecond,
		Timeout: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.waitReceived(r.Requests)
	recv, drop := resp.received.Load(), resp.dropped.Load()
	t.Logf("%+v; responder received %d, dropped %d", r, recv, drop)

	if r.Requests != recv {
		t.Errorf("Requests = %d, responder received %d", r.Requests, recv)
	}
	if drop == 0 || r.Timeouts > drop || r.Timeouts < drop-sockets {
		t.Errorf("Timeouts = %d, want within [%d, %d]", r.Timeouts, drop-sockets, drop)
	}
	if answered := recv - drop; r.Responses > answered || r.Responses < answered-sockets {
		t.Errorf("Responses = %d, want within [%d, %d]", r.Responses, answered-sockets, answered)
	}
	if r.Bad != 0 || r.Errors != 0 {
		t.Errorf("Bad = %d, Errors = %d, want 0", r.Bad, r.Errors)
	}
	if len(r.Windows) != 6 {
		t.Errorf("%d windows, want 6", len(r.Windows))
	}
	var sum float64
	for _, w := range r.Windows {
		sum += w * 0.1
	}
	if d := sum - float64(r.Responses); d > 1 || d < -1 {
		t.Errorf("windows add up to %.1f responses, want %d", sum, r.Responses)
	}
	if r.Rate <= 0 || r.HeadRate <= 0 || r.MeanRTT <= 0 {
		t.Errorf("Rate %v, HeadRate %v, MeanRTT %v; want > 0", r.Rate, r.HeadRate, r.MeanRTT)
	}
}

func TestRunMaxRequests(t *testing.T) {
	resp := startResponder(t, codeContent, 40, 0)
	start := time.Now()
	r, err := Run(context.Background(), Options{Addr: resp.addr(), Path: "/bench", Sockets: 4,
		Duration: 10 * time.Second, MaxRequests: 500})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 500 || r.Responses != 500 || r.Timeouts != 0 {
		t.Errorf("Requests %d, Responses %d, Timeouts %d; want 500, 500, 0", r.Requests, r.Responses, r.Timeouts)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Run took %v; it should stop after MaxRequests", time.Since(start))
	}
}

func TestRunBadResponses(t *testing.T) {
	for _, tc := range []struct {
		name string
		code byte
		len  int
	}{{"4.04", 0x84, 40}, {"short payload", codeContent, 39}} {
		t.Run(tc.name, func(t *testing.T) {
			resp := startResponder(t, tc.code, tc.len, 0)
			r, err := Run(context.Background(), Options{Addr: resp.addr(), Path: "bench", Sockets: 2,
				Duration: time.Second, MaxRequests: 100})
			if err != nil {
				t.Fatal(err)
			}
			if r.Responses != 0 || r.Bad != 100 || r.Rate != 0 {
				t.Errorf("Responses %d, Bad %d, Rate %v; want 0, 100, 0", r.Responses, r.Bad, r.Rate)
			}
		})
	}
}

func TestRunRedialsBeforeMessageIDWraps(t *testing.T) {
	old := midsPerSocket
	midsPerSocket = 50
	defer func() { midsPerSocket = old }()
	resp := startResponder(t, codeContent, 40, 0)
	r, err := Run(context.Background(), Options{Addr: resp.addr(), Path: "bench", Sockets: 2,
		Duration: 5 * time.Second, MaxRequests: 400})
	if err != nil {
		t.Fatal(err)
	}
	// 400 requests over 2 sockets of 50 message IDs each: 8 sockets in all,
	// or 9 when the sockets did not share the requests evenly.
	if r.Responses != 400 || r.Redials < 6 || r.Redials > 7 {
		t.Errorf("Responses %d, Redials %d; want 400, 6 or 7", r.Responses, r.Redials)
	}
	resp.mu.Lock()
	defer resp.mu.Unlock()
	if int64(len(resp.peers)) != 2+r.Redials {
		t.Errorf("responder saw %d source addresses, want %d", len(resp.peers), 2+r.Redials)
	}
}

func TestRunNoAllocationPerRequest(t *testing.T) {
	resp := startResponder(t, codeContent, 40, 0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, err := Run(context.Background(), Options{Addr: resp.addr(), Path: "bench", Sockets: 4,
		Duration: 5 * time.Second, MaxRequests: 20000})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if per := float64(after.Mallocs-before.Mallocs) / float64(r.Requests); per > 0.1 {
		t.Errorf("%.2f allocations per request, want about 0", per)
	}
}

func TestRunStopsOnContext(t *testing.T) {
	resp := startResponder(t, codeContent, 40, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, Options{Addr: resp.addr(), Path: "bench", Duration: time.Minute})
	if err == nil {
		t.Error("Run returned nil error after ctx was done")
	}
	if time.Since(start) > time.Second {
		t.Errorf("Run took %v after ctx was done", time.Since(start))
	}
}

func TestRunRejectsNonLoopback(t *testing.T) {
	if _, err := Run(context.Background(), Options{Addr: netip.MustParseAddrPort("192.0.2.1:5683")}); err == nil {
		t.Error("Run accepted a non-loopback address")
	}
}

// TestCodecAgainstGoCoap checks the hand-written encoder and parser against
// go-coap's UDP coder.
func TestCodecAgainstGoCoap(t *testing.T) {
	payload := []byte(testPayload)
	req, err := buildRequest(typeCON, codePUT, 0x1234, 0xdeadbeef, "/a/bench/a-segment-longer-than-twelve-bytes", payload)
	if err != nil {
		t.Fatal(err)
	}
	var m message.Message
	m.Options = make(message.Options, 0, 16)
	if _, err := coder.DefaultCoder.Decode(req, &m); err != nil {
		t.Fatal(err)
	}
	path, _ := m.Options.Path()
	if m.Type != message.Confirmable || m.Code != codes.PUT || m.MessageID != 0x1234 ||
		!bytes.Equal(m.Token, binary.BigEndian.AppendUint32(nil, 0xdeadbeef)) ||
		path != "/a/bench/a-segment-longer-than-twelve-bytes" || !bytes.Equal(m.Payload, payload) {
		t.Errorf("go-coap decoded %v, path %q", m.String(), path)
	}

	resp := message.Message{
		Token: []byte{1, 2, 3, 4}, Code: codes.Content, MessageID: 0x4321, Type: message.Acknowledgement,
		Payload: payload,
	}
	buf := make([]byte, 0, 16)
	resp.Options, _, _ = resp.Options.SetContentFormat(buf, message.TextPlain)
	resp.Options, _, _ = resp.Options.SetUint32(make([]byte, 4), message.MaxAge, 100000)
	resp.Options, _, _ = resp.Options.SetString(make([]byte, 300), message.ProxyURI, string(bytes.Repeat([]byte("x"), 300)))
	out := make([]byte, 1024)
	n, err := coder.DefaultCoder.Encode(resp, out)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := parseMessage(out[:n])
	if !ok || got.typ != typeACK || got.code != codeContent || got.mid != 0x4321 ||
		!bytes.Equal(got.token, []byte{1, 2, 3, 4}) || got.payloadLen != 40 {
		t.Errorf("parseMessage = %+v, %v", got, ok)
	}
	for i := 0; i < n; i++ { // truncations must not panic
		parseMessage(out[:i])
	}
}

const testPayload = "0123456789012345678901234567890123456789"
