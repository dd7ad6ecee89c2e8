package registration

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/internal/timesrc"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// event is a request the registrar took.
type event struct {
	method  coap.Method
	path    string
	queries []string
	format  coap.MediaType
	payload string
}

func (e event) String() string {
	return fmt.Sprintf("%v %s?%s", e.method, e.path, strings.Join(e.queries, "&"))
}

// registrar is a fake LwM2M server or Resource Directory on pigw's own CoAP server: POST rd
// creates rd/<n>, which takes POST (Update) and DELETE. Unknown paths get the server's 4.04.
type registrar struct {
	t         *testing.T
	srv       *coap.Server
	addr      netip.AddrPort
	oneOption bool // Location-Path as one option "rd/1" (lwm2m-node-lib), else "rd", "1"
	events    chan event

	mu       sync.Mutex
	n        int
	register func(coap.Incoming) (coap.Answer, bool) // an answer instead of a registration
	update   coap.Code                               // the answer to Update; 0 means 2.04
}

func newRegistrar(t *testing.T, oneOption bool) *registrar {
	t.Helper()
	srv, err := coap.NewServer(coap.Config{Listen: []string{"127.0.0.1:0"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := &registrar{t: t, srv: srv, oneOption: oneOption, events: make(chan event, 256)}
	if _, err := srv.AddResource("rd", coap.WithHandler(coap.POST, r.registerHandler)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	r.addr = srv.Addrs()[0]
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

func (r *registrar) record(path string, in coap.Incoming) {
	r.events <- event{in.Method, path, in.Queries, in.ContentFormat, string(in.Payload)}
}

func (r *registrar) registerHandler(in coap.Incoming) coap.Answer {
	r.record("rd", in)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.register != nil {
		if a, ok := r.register(in); ok {
			return a
		}
	}
	r.n++
	id := fmt.Sprint(r.n)
	path := "rd/" + id
	if _, err := r.srv.AddResource(path,
		coap.WithHandler(coap.POST, func(in coap.Incoming) coap.Answer {
			r.record(path, in)
			r.mu.Lock()
			defer r.mu.Unlock()
			return coap.Answer{Code: cmpCode(r.update, codes.Changed), ContentFormat: coap.NoMediaType}
		}),
		coap.WithHandler(coap.DELETE, func(in coap.Incoming) coap.Answer {
			r.record(path, in)
			return coap.Answer{Code: coap.Code(codes.Deleted), ContentFormat: coap.NoMediaType}
		})); err != nil {
		return coap.Answer{Code: coap.Code(codes.InternalServerError), ContentFormat: coap.TextPlain, Payload: []byte(err.Error())}
	}
	loc := []coap.Option{{ID: uint16(message.LocationPath), Value: []byte(path)}}
	if !r.oneOption {
		loc = []coap.Option{{ID: uint16(message.LocationPath), Value: []byte("rd")}, {ID: uint16(message.LocationPath), Value: []byte(id)}}
	}
	return coap.Answer{Code: coap.Code(codes.Created), ContentFormat: coap.NoMediaType, Options: loc}
}

func cmpCode(c coap.Code, def codes.Code) coap.Code {
	if c == 0 {
		return coap.Code(def)
	}
	return c
}

// answerUpdates makes Updates get code; 0 means 2.04.
func (r *registrar) answerUpdates(code codes.Code) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.update = coap.Code(code)
}

// forget drops every registration, as a server restarted empty does.
func (r *registrar) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 1; i <= r.n; i++ {
		_ = r.srv.RemoveResource(fmt.Sprintf("rd/%d", i))
	}
}

// next waits for the next request the registrar took.
func (r *registrar) next(what string) event {
	r.t.Helper()
	select {
	case e := <-r.events:
		r.t.Logf("registrar: %s (%d bytes of payload)", e, len(e.payload))
		return e
	case <-time.After(5 * time.Second):
		r.t.Fatalf("registrar: no %s", what)
		return event{}
	}
}

// link is a UDP relay between the session and the registrar that can be cut: what is sent
// while it is down is dropped, and the requests among it are noted.
type link struct {
	t       *testing.T
	front   *net.UDPConn // the session's peer
	back    *net.UDPConn // connected to the registrar
	down    atomic.Bool
	client  atomic.Pointer[netip.AddrPort]
	dropped chan string     // "POST /rd?ep=… #mid" of each request dropped
	seen    map[uint16]bool // message IDs dropped, used by forward only
}

func newLink(t *testing.T, to netip.AddrPort) *link {
	t.Helper()
	front, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	l := &link{t: t, front: front, back: back, dropped: make(chan string, 256), seen: map[uint16]bool{}}
	var wg sync.WaitGroup
	wg.Go(l.forward)
	wg.Go(l.backward)
	t.Cleanup(func() { front.Close(); back.Close(); wg.Wait() })
	return l
}

func (l *link) addr() netip.AddrPort { return l.front.LocalAddr().(*net.UDPAddr).AddrPort() }

func (l *link) forward() {
	buf := make([]byte, 2048)
	for {
		n, from, err := l.front.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		l.client.Store(&from)
		if l.down.Load() {
			l.drop(buf[:n])
			continue
		}
		_, _ = l.back.Write(buf[:n])
	}
}

func (l *link) backward() {
	buf := make([]byte, 2048)
	for {
		n, err := l.back.Read(buf)
		if err != nil {
			if strings.Contains(err.Error(), "refused") {
				continue
			}
			return
		}
		if to := l.client.Load(); to != nil && !l.down.Load() {
			_, _ = l.front.WriteToUDPAddrPort(buf[:n], *to)
		}
	}
}

// drop notes a request dropped: its code, path and query, once per message (not per
// retransmission).
func (l *link) drop(b []byte) {
	m := message.Message{Options: make(message.Options, 0, 16)}
	if _, err := coder.DefaultCoder.Decode(b, &m); err != nil || m.Code == codes.Empty || m.Code >= 32 || l.seen[uint16(m.MessageID)] {
		return
	}
	l.seen[uint16(m.MessageID)] = true
	p, _ := m.Options.Path()
	q, _ := m.Options.Queries()
	s := fmt.Sprintf("%v %s?%s #%d", m.Code, p, strings.Join(q, "&"), m.MessageID)
	select {
	case l.dropped <- s:
	default:
	}
}

// fastClock runs a thousand times faster than the real one and notes every timer asked of it.
type fastClock struct {
	start  time.Time
	mu     sync.Mutex
	timers []time.Duration
}

const speedup = 1000

func newFastClock() *fastClock { return &fastClock{start: time.Now()} }

func (c *fastClock) Now() time.Time { return c.start.Add(time.Since(c.start) * speedup) }

func (c *fastClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	c.timers = append(c.timers, d)
	c.mu.Unlock()
	return timesrc.System{}.NewTimer(d / speedup)
}

func (c *fastClock) asked() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.timers)
}

// running is a client under test, its states, and the way to stop it.
type running struct {
	*Client
	states chan State
	cancel context.CancelFunc
	done   chan error
}

// session opens a CoAP session to addr with short retransmission times.
func session(t *testing.T, addr netip.AddrPort, opts coap.SessionOptions) *coap.Session {
	t.Helper()
	c := coap.NewClient(slog.New(slog.DiscardHandler))
	s, err := c.NewSession(addr.String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s
}

// fastSession gives up on a request after about 0.1 s.
var fastSession = coap.SessionOptions{AckTimeout: 30 * time.Millisecond, MaxRetransmit: 1, Timeout: 300 * time.Millisecond}

// start runs a client with cfg; Conn, Clock, Jitter and Links have test defaults.
func start(t *testing.T, cfg Config) *running {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = newFastClock()
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func() float64 { return 0.5 } // no jitter: the back-off is 1 s, 2 s, 4 s, …
	}
	if cfg.Links == nil {
		cfg.Links = func() []byte { return []byte(`</1/0>,</3/0>`) }
	}
	if cfg.Path == "" {
		cfg.Path = "rd"
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "pigw-test"
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = 60 * time.Second
	}
	r := &running{states: make(chan State, 1024), done: make(chan error, 1)}
	cfg.OnChange = func(st State) {
		select {
		case r.states <- st:
		default:
			t.Error("states channel full")
		}
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Client = c
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- c.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it; it reports how long Run took to return.
func (r *running) stop(t *testing.T) time.Duration {
	t.Helper()
	began := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		r.done <- nil // a second stop returns at once
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of its context's end")
	}
	return time.Since(began)
}

// until waits for a state that satisfies ok.
func (r *running) until(t *testing.T, what string, ok func(State) bool) State {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case st := <-r.states:
			if ok(st) {
				return st
			}
		case <-deadline:
			t.Fatalf("no state with %s; now %+v", what, r.State())
		}
	}
}

func registered(st State) bool { return st.Registered }
