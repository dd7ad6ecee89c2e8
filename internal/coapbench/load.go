// Package coapbench measures pigw's CoAP server against libcoap's
// coap-server-notls under the same closed-loop load, in the same run.
//
// It exists because the performance targets of pigw's CoAP server are stated
// relative to libcoap (throughput at least equal to libcoap's), over time (the
// rate over a long run must stay within 10 % of the rate over the first
// seconds, which catches duplicate-detection state whose cost grows with the
// number of exchanges seen) and in memory (RSS under load). Such figures are
// only meaningful when both servers are loaded by the same generator on the
// same machine in one run, so this package holds that generator (load.go),
// helpers to start and observe both servers as child processes (server.go)
// and the benchmark that prints the figures (bench_test.go, run by
// `make bench`, never by `go test ./...`).
//
// The generator is deliberately cheap so that it measures the server rather
// than itself: one goroutine and one connected UDP socket per client, request
// bytes built once and patched in place, no allocation per request.
package coapbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CoAP constants used by the generator (RFC 7252).
const (
	typeCON = 0
	typeNON = 1
	typeACK = 2
	typeRST = 3

	codeEmpty   = 0x00
	codeGET     = 0x01
	codePUT     = 0x03
	codeContent = 0x45 // 2.05

	optURIPath = 11

	tokenLen = 4
)

// midsPerSocket is how many message IDs a socket uses before it is replaced by
// a new one (new source port). Reusing a message ID towards the same endpoint
// within EXCHANGE_LIFETIME (247 s) would make the server answer from its
// duplicate cache, so a socket never wraps its 16-bit message ID. Tests lower it.
var midsPerSocket = 1 << 16

// Options configures Run.
type Options struct {
	// Addr is the server's UDP address. It must be a loopback address.
	Addr netip.AddrPort
	// Path is the resource path, e.g. "bench" or "/a/b".
	Path string
	// Sockets is the number of client sockets, each with one request
	// outstanding at a time (NSTART=1). Default 64.
	Sockets int
	// Duration bounds the run in time. Default 5 s.
	Duration time.Duration
	// Window is the width of the windows of Result.Windows. Default 1 s.
	Window time.Duration
	// Head is the length of the initial interval of Result.HeadRate. Default 4 s.
	Head time.Duration
	// Timeout is how long a request waits for its response before it is
	// counted as a timeout and a new request is sent. Default 200 ms.
	Timeout time.Duration
	// MaxRequests bounds the run in count (requests sent over all sockets).
	// Default: one million per second of Duration.
	MaxRequests int64
	// ExpectLen is the payload length every 2.05 response must have; a
	// response with another code or length counts in Result.Bad. Zero means
	// 40; negative disables the length check.
	ExpectLen int
}

// Result is what Run measured. Rates count good responses only.
type Result struct {
	Requests  int64 // requests sent
	Responses int64 // good responses: 2.05 with the expected payload length
	Bad       int64 // matched responses with another code or payload length, and resets
	Timeouts  int64 // requests that got no response within Options.Timeout
	Errors    int64 // socket errors (e.g. ICMP port unreachable)
	Stale     int64 // datagrams that matched no outstanding request (late or duplicate)
	Redials   int64 // sockets replaced after using all message IDs

	Elapsed  time.Duration // length of the run
	Rate     float64       // Responses per second over Elapsed
	HeadRate float64       // responses per second over the first Options.Head
	Windows  []float64     // responses per second in each Options.Window
	MeanRTT  time.Duration // mean round-trip time of good responses
}

func (o *Options) setDefaults() error {
	if !o.Addr.IsValid() || !o.Addr.Addr().IsLoopback() {
		return fmt.Errorf("coapbench: address %v is not a loopback address", o.Addr)
	}
	if o.Sockets <= 0 {
		o.Sockets = 64
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if o.Window <= 0 {
		o.Window = time.Second
	}
	if o.Head <= 0 {
		o.Head = 4 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 200 * time.Millisecond
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = max(int64(o.Duration.Seconds()*1e6), 1e6)
	}
	if o.ExpectLen == 0 {
		o.ExpectLen = 40
	}
	return nil
}

// Run loads the server at o.Addr with o.Sockets closed loops of CON GET
// requests until o.Duration has passed, o.MaxRequests requests were sent or
// ctx is done, whichever comes first.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.setDefaults(); err != nil {
		return Result{}, err
	}
	req, err := buildRequest(typeCON, codeGET, 0, 0, o.Path, nil)
	if err != nil {
		return Result{}, err
	}
	raddr := net.UDPAddrFromAddrPort(o.Addr)
	nwin := int((o.Duration + o.Window - 1) / o.Window)

	workers := make([]*worker, o.Sockets)
	for i := range workers {
		c, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			for _, w := range workers[:i] {
				w.conn.Close()
			}
			return Result{}, err
		}
		w := &worker{
			id:      uint32(i),
			conn:    c,
			raddr:   raddr,
			req:     append([]byte(nil), req...),
			buf:     make([]byte, 2048),
			ack:     make([]byte, 4),
			windows: make([]int64, nwin),
			mid:     uint16(rand.Uint32()),
			tok:     rand.Uint32() & 0xffffff,
		}
		workers[i] = w
	}

	var sent atomic.Int64
	start := time.Now()
	end := start.Add(o.Duration)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(ctx, &o, start, end, &sent) })
	}
	wg.Wait()
	elapsed := min(time.Since(start), o.Duration)

	var r Result
	var rtt time.Duration
	wins := make([]int64, nwin)
	var head int64
	for _, w := range workers {
		w.conn.Close()
		r.Requests += w.st.requests
		r.Responses += w.st.responses
		r.Bad += w.st.bad
		r.Timeouts += w.st.timeouts
		r.Errors += w.st.errors
		r.Stale += w.st.stale
		r.Redials += w.st.redials
		head += w.st.head
		rtt += w.st.rtt
		for i, n := range w.windows {
			wins[i] += n
		}
	}
	r.Elapsed = elapsed
	if elapsed > 0 {
		r.Rate = float64(r.Responses) / elapsed.Seconds()
		r.HeadRate = float64(head) / min(o.Head, elapsed).Seconds()
	}
	if r.Responses > 0 {
		r.MeanRTT = rtt / time.Duration(r.Responses)
	}
	used := int((elapsed + o.Window - 1) / o.Window)
	for i := 0; i < used && i < nwin; i++ {
		width := min(o.Window, elapsed-time.Duration(i)*o.Window)
		r.Windows = append(r.Windows, float64(wins[i])/width.Seconds())
	}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	return r, nil
}

type stats struct {
	requests, responses, bad, timeouts, errors, stale, redials, head int64
	rtt                                                              time.Duration
}

// worker is one client socket with its preallocated buffers.
type worker struct {
	id      uint32
	conn    *net.UDPConn
	raddr   *net.UDPAddr
	req     []byte // request; MID at [2:4], token at [4:8]
	buf     []byte // receive buffer
	ack     []byte // empty ACK for separate CON responses
	windows []int64
	mid     uint16
	tok     uint32
	nmid    int // message IDs used on conn
	st      stats
	_       [64]byte // keep workers' counters on separate cache lines
}

func (w *worker) run(ctx context.Context, o *Options, start, end time.Time, sent *atomic.Int64) {
	for {
		now := time.Now()
		if !now.Before(end) || ctx.Err() != nil || sent.Add(1) > o.MaxRequests {
			return
		}
		if w.nmid >= midsPerSocket {
			c, err := net.DialUDP("udp", nil, w.raddr)
			if err != nil {
				w.st.errors++
				return
			}
			w.conn.Close()
			w.conn = c
			w.nmid = 0
			w.st.redials++
		}
		w.mid++
		w.nmid++
		w.tok = (w.tok + 1) & 0xffffff
		tok := w.id<<24 | w.tok
		binary.BigEndian.PutUint16(w.req[2:4], w.mid)
		binary.BigEndian.PutUint32(w.req[4:8], tok)

		deadline := now.Add(o.Timeout)
		if deadline.After(end) {
			deadline = end
		}
		w.conn.SetReadDeadline(deadline)
		w.st.requests++
		if _, err := w.conn.Write(w.req); err != nil {
			w.st.errors++
			w.pause(end)
			continue
		}
		w.await(o, start, end, now, deadline, tok)
	}
}

// await reads until the response to the request with w.mid and tok arrives,
// the deadline passes or a socket error occurs, and counts the outcome.
func (w *worker) await(o *Options, start, end, sentAt, deadline time.Time, tok uint32) {
	for {
		n, err := w.conn.Read(w.buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if deadline.Before(end) {
					w.st.timeouts++
				} // else: cut short by the end of the run, not a timeout
				return
			}
			w.st.errors++
			w.pause(end)
			return
		}
		m, ok := parseMessage(w.buf[:n])
		if !ok {
			w.st.stale++
			continue
		}
		tokMatch := len(m.token) == tokenLen && binary.BigEndian.Uint32(m.token) == tok
		switch {
		case m.typ == typeACK && m.mid == w.mid && m.code == codeEmpty:
			continue // empty ACK: a separate response follows
		case m.typ == typeRST && m.mid == w.mid:
			w.st.bad++
			return
		case m.typ == typeACK && m.mid == w.mid && tokMatch:
		case (m.typ == typeCON || m.typ == typeNON) && m.code != codeEmpty && tokMatch:
			if m.typ == typeCON {
				w.ack[0] = 1<<6 | typeACK<<4
				w.ack[1] = codeEmpty
				binary.BigEndian.PutUint16(w.ack[2:4], m.mid)
				w.conn.Write(w.ack)
			}
		default:
			w.st.stale++
			continue
		}
		now := time.Now()
		if m.code != codeContent || (o.ExpectLen >= 0 && m.payloadLen != o.ExpectLen) {
			w.st.bad++
			return
		}
		w.st.responses++
		w.st.rtt += now.Sub(sentAt)
		el := now.Sub(start)
		if el < o.Head {
			w.st.head++
		}
		// A response to a request sent before the end may arrive after it: it counts in the
		// last window, as it does in Responses (Elapsed stops at Duration).
		w.windows[min(int(el/o.Window), len(w.windows)-1)]++
		return
	}
}

// pause waits a little after a socket error so that a dead server does not
// turn the loop into a busy loop.
func (w *worker) pause(end time.Time) {
	d := min(10*time.Millisecond, time.Until(end))
	if d > 0 {
		time.Sleep(d)
	}
}

// msg is a parsed CoAP datagram. token and payload alias the input.
type msg struct {
	typ        byte
	code       byte
	mid        uint16
	token      []byte
	payload    []byte
	payloadLen int
}

// parseMessage parses a CoAP datagram without allocating.
func parseMessage(b []byte) (msg, bool) {
	var m msg
	if len(b) < 4 || b[0]>>6 != 1 {
		return m, false
	}
	m.typ = b[0] >> 4 & 3
	tkl := int(b[0] & 0xf)
	m.code = b[1]
	m.mid = binary.BigEndian.Uint16(b[2:4])
	if tkl > 8 || len(b) < 4+tkl {
		return m, false
	}
	m.token = b[4 : 4+tkl]
	i := 4 + tkl
	for i < len(b) {
		if b[i] == 0xff {
			if i+1 == len(b) {
				return m, false // payload marker without payload
			}
			m.payload = b[i+1:]
			m.payloadLen = len(m.payload)
			return m, true
		}
		delta, length := int(b[i]>>4), int(b[i]&0xf)
		i++
		var ok bool
		if _, i, ok = optionExt(b, i, delta); !ok {
			return m, false
		}
		if length, i, ok = optionExt(b, i, length); !ok {
			return m, false
		}
		i += length
		if i > len(b) {
			return m, false
		}
	}
	return m, true
}

// optionExt resolves an option delta or length nibble v, whose extended bytes
// start at b[i].
func optionExt(b []byte, i, v int) (int, int, bool) {
	switch v {
	case 13:
		if i >= len(b) {
			return 0, i, false
		}
		return int(b[i]) + 13, i + 1, true
	case 14:
		if i+1 >= len(b) {
			return 0, i, false
		}
		return int(binary.BigEndian.Uint16(b[i:])) + 269, i + 2, true
	case 15:
		return 0, i, false
	}
	return v, i, true
}

// buildRequest encodes a CoAP message with a 4-byte token, the Uri-Path
// options of path and an optional payload.
func buildRequest(typ, code byte, mid uint16, tok uint32, path string, payload []byte) ([]byte, error) {
	b := make([]byte, 4+tokenLen, 64)
	b[0] = 1<<6 | typ<<4 | tokenLen
	b[1] = code
	binary.BigEndian.PutUint16(b[2:4], mid)
	binary.BigEndian.PutUint32(b[4:8], tok)
	prev := 0
	for seg := range strings.SplitSeq(strings.Trim(path, "/"), "/") {
		if seg == "" {
			continue
		}
		if len(seg) > 255 {
			return nil, fmt.Errorf("coapbench: path segment %q too long", seg)
		}
		b = appendOption(b, optURIPath-prev, seg)
		prev = optURIPath
	}
	if len(payload) > 0 {
		b = append(b, 0xff)
		b = append(b, payload...)
	}
	return b, nil
}

func appendOption(b []byte, delta int, val string) []byte {
	nib := func(v int) (byte, []byte) {
		switch {
		case v < 13:
			return byte(v), nil
		case v < 269:
			return 13, []byte{byte(v - 13)}
		default:
			return 14, binary.BigEndian.AppendUint16(nil, uint16(v-269))
		}
	}
	dn, dx := nib(delta)
	ln, lx := nib(len(val))
	b = append(b, dn<<4|ln)
	b = append(b, dx...)
	b = append(b, lx...)
	return append(b, val...)
}

// Exchange sends one CON request with code and optional payload to path at
// addr and returns the response's code and payload. It retries up to 4 times
// (timeout each) and is meant for setup and readiness checks, not for load.
func Exchange(ctx context.Context, addr netip.AddrPort, code byte, path string, payload []byte, timeout time.Duration) (byte, []byte, error) {
	if !addr.Addr().IsLoopback() {
		return 0, nil, fmt.Errorf("coapbench: address %v is not a loopback address", addr)
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	buf := make([]byte, 2048)
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if err := ctx.Err(); err != nil {
			return 0, nil, err
		}
		mid, tok := uint16(rand.Uint32()), rand.Uint32()
		req, err := buildRequest(typeCON, code, mid, tok, path, payload)
		if err != nil {
			return 0, nil, err
		}
		if _, err := c.Write(req); err != nil {
			lastErr = err
			time.Sleep(timeout)
			continue
		}
		c.SetReadDeadline(time.Now().Add(timeout))
		for {
			n, err := c.Read(buf)
			if err != nil {
				lastErr = err
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					time.Sleep(timeout) // e.g. port unreachable: server not up yet
				}
				break
			}
			m, ok := parseMessage(buf[:n])
			if !ok || len(m.token) != tokenLen || binary.BigEndian.Uint32(m.token) != tok || m.code == codeEmpty {
				continue
			}
			if m.typ == typeCON {
				c.Write([]byte{1<<6 | typeACK<<4, codeEmpty, buf[2], buf[3]})
			}
			return m.code, append([]byte(nil), m.payload...), nil
		}
	}
	return 0, nil, fmt.Errorf("coapbench: no response from %v for %s: %w", addr, path, lastErr)
}

// CodeString formats a CoAP code as c.dd.
func CodeString(c byte) string { return fmt.Sprintf("%d.%02d", c>>5, c&0x1f) }
