package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEventStreamCap: past Limits.EventStreams a stream gets 503 with Retry-After, and a
// stream that closes makes room.
func TestEventStreamCap(t *testing.T) {
	src := newFakeSource()
	_, hs := newTestServer(t, src, Limits{EventStreams: 2})
	var cancels []context.CancelFunc
	for range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+"/api/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("stream: %v %v", err, resp)
		}
		defer resp.Body.Close()
	}
	resp, err := http.Get(hs.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "too many event streams open (at most 2)") {
		t.Errorf("third stream: %s, Retry-After %q, %q", resp.Status, resp.Header.Get("Retry-After"), body)
	}
	if r, _ := http.Get(hs.URL + "/api/status"); r == nil || r.StatusCode != 200 {
		t.Errorf("/api/status while the streams are full: %v", r)
	}
	cancels[0]()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ch, resp := openEvents(t, hs.URL+"/api/events", nil)
		if resp.StatusCode == 200 {
			next(t, ch, "status", nil)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room after a stream closed: %s", resp.Status)
		}
	}
}

// TestHeaderTimeout: a client that sends half a header is disconnected.
func TestHeaderTimeout(t *testing.T) {
	_, addr := runServer(t, newFakeSource(), Limits{ReadHeaderTimeout: 100 * time.Millisecond, ReadTimeout: time.Hour})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		t.Fatalf("the server kept the connection: %v", err)
	}
	t.Logf("half a header: closed after %v (%d bytes answered)", time.Since(start).Round(time.Millisecond), n)
}

// TestMaxHeaderBytes: a header past the limit gets 431.
func TestMaxHeaderBytes(t *testing.T) {
	_, addr := runServer(t, newFakeSource(), Limits{MaxHeaderBytes: 1024})
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/system", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("%s, want 431", resp.Status)
	}
}

// TestConnectionCap: past Limits.Connections a connection waits for one to close before it is
// served.
func TestConnectionCap(t *testing.T) {
	_, addr := runServer(t, newFakeSource(), Limits{Connections: 2, ReadHeaderTimeout: time.Minute})
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	c, err := net.Dial("tcp", addr) // the kernel accepts it; the server does not take it yet
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /api/system HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := br.ReadByte(); err == nil || !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
		t.Fatalf("a third connection was served while two were open (err %v)", err)
	}
	held[0].Close()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the third connection was not served after one closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("third connection: %s", resp.Status)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestSlowStreamDropped: a client that stops reading its event stream is dropped at the write
// deadline, and its place is free again.
func TestSlowStreamDropped(t *testing.T) {
	src := newFakeSource()
	s, addr := runServer(t, src, Limits{WriteTimeout: 200 * time.Millisecond, EventStreams: 1})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	if _, err := io.WriteString(c, "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // fills the socket buffers with lines the client never reads
		for i := 0; ctx.Err() == nil; i++ {
			src.logf("%d %s", i, strings.Repeat("x", 32<<10))
			time.Sleep(time.Millisecond)
		}
	}()
	start := time.Now()
	for _, want := range []int32{1, 0} { // open, then dropped
		for s.streams.Load() != want {
			if time.Since(start) > 60*time.Second {
				t.Fatalf("the stream of a client that does not read: %d open, want %d", s.streams.Load(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cancel()
	t.Logf("a stream not read: dropped after %v", time.Since(start).Round(time.Millisecond))
	resp, err := http.Get("http://" + addr + "/api/events?after=999999")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a new stream after the slow one was dropped: %s", resp.Status)
	}
}

// TestRunAddressTaken: an address that cannot be bound is an error of Run (the supervisor
// tries again), naming the address.
func TestRunAddressTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := New(Config{Listen: []string{l.Addr().String()}, Source: newFakeSource()})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listen on "+l.Addr().String()) {
		t.Errorf("Run on a taken address: %v", err)
	}
	if _, err := New(Config{Listen: []string{"nowhere"}, Source: newFakeSource()}); err == nil {
		t.Error("New took an address without a port")
	}
}
