package coap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pigw/pigw/internal/ratelog"
)

// Limits bound what clients can make the server hold, so memory stays bounded whatever they
// send.
type Limits struct {
	MaxResources   int // resources in the tree; past it a creating PUT gets 5.03
	MaxURILength   int // bytes of a request's path; past it 4.14
	MaxValueSize   int // bytes of a value; past it 4.13
	MaxObservers   int // observe registrations over all resources; past it GETs are served unobserved; <0: none
	DedupEntries   int // answers kept for retransmitted requests
	BlockTransfers int // Block1 uploads in progress; past it 5.03
}

// DefaultLimits are sized for a Raspberry Pi with a few hundred clients.
func DefaultLimits() Limits {
	return Limits{MaxResources: 512, MaxURILength: 255, MaxValueSize: 16384, MaxObservers: 256, DedupEntries: 16384, BlockTransfers: 64}
}

// ObserveConfig tunes notifications (RFC 7641).
type ObserveConfig struct {
	MinInterval time.Duration // at most one notification per resource per interval; the last value wins
	ConEvery    int           // every Nth notification is confirmable (and at least one a day); 0 means 5
	// NonConfirmable sends notifications NON, but one CON at least every 24 hours to learn
	// whether the observer is still there (RFC 7641 §4.5): for peers that never acknowledge a
	// CON notification, such as lwm2m-node-lib's server, whose ACKs are lost in its proxy.
	NonConfirmable bool
}

// Config is the original's Coap.init arguments, and more.
type Config struct {
	Listen           []string      // "0.0.0.0:5683", "[::]:5683"; port 0 picks a free port
	DTLS             *DTLSConfig   // nil: no DTLS endpoint
	ServiceDiscovery bool          // join the All-CoAP-Nodes groups and answer multicast requests
	DiscoveryLeisure time.Duration // longest random wait before answering a multicast request
	DynamicResources bool          // let PUT create resources
	Reserved         []string      // path prefixes PUT cannot create under, such as the appliance's "sys"
	Observe          ObserveConfig
	Limits           Limits // zero fields take DefaultLimits
	Persister        Persister
	Logger           *slog.Logger
	// Events counts what peers can cause at any rate (malformed datagrams, rejected requests,
	// refused and failed DTLS sessions) and logs it once per interval; nil: a ratelog.Log of
	// its own on Logger. The server runs it while it serves.
	Events  *ratelog.Log
	Readers int // goroutines reading each socket; 0 means 2
	// SessionsOnly makes a server without sockets of its own, served only through client
	// sessions (Session.Serve): an LwM2M client's objects, which its server reaches over the
	// socket the client registered from. It is a field of its own so that a config that forgot
	// Listen still gets an error.
	SessionsOnly bool
}

// Server is a CoAP server with a resource tree (the original's Coap module in server role).
type Server struct {
	cfg Config
	log *slog.Logger

	mu        sync.RWMutex
	resources map[string]*Resource
	hidden    int // resources of the appliance itself, not counted against MaxResources
	onNew     atomic.Pointer[func(*Resource)]
	onChange  atomic.Pointer[func(*Resource)] // see OnChange
	requests  atomic.Uint64                   // see Requests

	events  *events
	dedup   *dedupCache
	blocks  *blockStore
	notify  *notifier
	mid     atomic.Uint32
	leisure atomic.Int32 // multicast answers waiting for their leisure

	ackTimeout time.Duration // RFC 7252 ACK_TIMEOUT; shorter in tests

	listenMu  sync.Mutex
	endpoints []*endpoint
	dtls      []*dtlsListener
}

// NewServer checks cfg and returns a server with no resources.
func NewServer(cfg Config) (*Server, error) {
	switch {
	case cfg.SessionsOnly && (len(cfg.Listen) > 0 || cfg.DTLS != nil || cfg.ServiceDiscovery):
		return nil, errors.New("coap server: served only through sessions, it must have no listen address, DTLS endpoint or service discovery")
	case !cfg.SessionsOnly && len(cfg.Listen) == 0 && cfg.DTLS == nil:
		return nil, errors.New("coap server: no listen address")
	}
	if cfg.DTLS != nil {
		d := *cfg.DTLS
		fillDTLS(&d)
		if err := checkDTLS(&d); err != nil {
			return nil, fmt.Errorf("coap server: %w", err)
		}
		cfg.DTLS = &d
	}
	for _, a := range cfg.Listen {
		if _, err := netip.ParseAddrPort(a); err != nil {
			return nil, fmt.Errorf("coap server: listen address %q: must be IP:port, IPv6 in brackets: %w", a, err)
		}
	}
	fillLimits(&cfg.Limits)
	if cfg.Observe.ConEvery <= 0 {
		cfg.Observe.ConEvery = 5
	}
	if cfg.Readers <= 0 {
		cfg.Readers = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Events == nil {
		cfg.Events = ratelog.New(cfg.Logger, 0)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, resources: make(map[string]*Resource), ackTimeout: ackTimeout, events: newEvents(cfg.Events)}
	s.dedup = newDedupCache(cfg.Limits.DedupEntries, exchangeLifetime)
	s.blocks = newBlockStore(cfg.Limits.BlockTransfers, cfg.Limits.MaxValueSize)
	s.notify = newNotifier(s)
	s.mid.Store(rand.Uint32())
	return s, nil
}

func fillLimits(l *Limits) {
	d := DefaultLimits()
	for _, f := range []struct{ v, def *int }{
		{&l.MaxResources, &d.MaxResources}, {&l.MaxURILength, &d.MaxURILength}, {&l.MaxValueSize, &d.MaxValueSize},
		{&l.DedupEntries, &d.DedupEntries}, {&l.BlockTransfers, &d.BlockTransfers}, {&l.MaxObservers, &d.MaxObservers},
	} {
		if f.v == &l.MaxObservers && *f.v < 0 {
			*f.v = 0 // observe turned off
			continue
		}
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
}

// AddResource adds a resource at uri (with or without a leading slash).
func (s *Server) AddResource(uri string, opts ...ResourceOption) (*Resource, error) {
	r, err := s.newResource(uri, opts...)
	if err != nil {
		return nil, err
	}
	return r, s.insert(r)
}

func (s *Server) newResource(uri string, opts ...ResourceOption) (*Resource, error) {
	u, err := s.normalizeURI(uri)
	if err != nil {
		return nil, fmt.Errorf("add resource: %w", err)
	}
	r := &Resource{srv: s, uri: u, mediaType: NoMediaType, maxAge: NoMaxAge}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, fmt.Errorf("add resource %s: %w", u, err)
		}
	}
	if len(r.value) > s.cfg.Limits.MaxValueSize {
		return nil, fmt.Errorf("add resource %s: value of %d bytes exceeds the limit of %d bytes", u, len(r.value), s.cfg.Limits.MaxValueSize)
	}
	return r, nil
}

var (
	errExists       = errors.New("resource exists")
	errTooManyResrc = errors.New("too many resources")
)

func (s *Server) insert(r *Resource) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.resources[r.uri]; ok {
		return fmt.Errorf("add resource %s: %w", r.uri, errExists)
	}
	if !r.hidden && len(s.resources)-s.hidden >= s.cfg.Limits.MaxResources {
		return fmt.Errorf("add resource %s: %w: the limit is %d", r.uri, errTooManyResrc, s.cfg.Limits.MaxResources)
	}
	s.resources[r.uri] = r
	if r.hidden {
		s.hidden++
	}
	return nil
}

// normalizeURI turns "/a/b" and "a/b" into "a/b" and rejects what cannot be a resource path.
func (s *Server) normalizeURI(uri string) (string, error) {
	u := strings.TrimPrefix(uri, "/")
	switch {
	case u == "":
		return "", fmt.Errorf("uri %q: must not be empty", uri)
	case len(u) > s.cfg.Limits.MaxURILength:
		return "", fmt.Errorf("uri %q: %d bytes, longer than the limit of %d", uri, len(u), s.cfg.Limits.MaxURILength)
	case strings.ContainsAny(u, "?#"):
		return "", fmt.Errorf("uri %q: must not contain '?' or '#'", uri)
	case u == wellKnownCore || strings.HasPrefix(u, ".well-known/"):
		return "", fmt.Errorf("uri %q: .well-known/ is reserved", uri)
	}
	for _, seg := range strings.Split(u, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("uri %q: segments must not be empty, '.' or '..'", uri)
		}
	}
	return u, nil
}

// RemoveResource removes the resource at uri; its observers get 4.04.
func (s *Server) RemoveResource(uri string) error {
	u := strings.TrimPrefix(uri, "/")
	s.mu.Lock()
	r, ok := s.resources[u]
	s.removeLocked(u)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("remove resource %s: not found", uri)
	}
	r.markRemoved()
	return nil
}

// removeLocked takes uri out of the tree; s.mu is held.
func (s *Server) removeLocked(uri string) {
	if r, ok := s.resources[uri]; ok {
		if r.hidden {
			s.hidden--
		}
		delete(s.resources, uri)
	}
}

// Resource returns the resource at uri, or nil.
func (s *Server) Resource(uri string) *Resource {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.resources[strings.TrimPrefix(uri, "/")]
}

// Resources returns every resource, sorted by URI.
func (s *Server) Resources() []*Resource {
	s.mu.RLock()
	rs := make([]*Resource, 0, len(s.resources))
	for _, r := range s.resources {
		rs = append(rs, r)
	}
	s.mu.RUnlock()
	sort.Slice(rs, func(i, j int) bool { return rs[i].uri < rs[j].uri })
	return rs
}

// OnNewResource registers the handler called for each resource a client creates with PUT,
// after the 2.01 answer has been sent (the original's register_new_resource_handler).
func (s *Server) OnNewResource(fn func(*Resource)) {
	if fn == nil {
		s.onNew.Store(nil)
		return
	}
	s.onNew.Store(&fn)
}

func (s *Server) nextMID() uint16 { return uint16(s.mid.Add(1)) }

// Listen opens the sockets; Serve calls it when it has not been called.
func (s *Server) Listen() error {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if s.endpoints != nil {
		return nil
	}
	eps := make([]*endpoint, 0, len(s.cfg.Listen))
	fail := func(err error) error {
		for _, e := range eps {
			e.close()
		}
		return err
	}
	for _, a := range s.cfg.Listen {
		ep, err := listenUDP(s, netip.MustParseAddrPort(a))
		if err != nil {
			return fail(err)
		}
		eps = append(eps, ep)
	}
	if s.cfg.DTLS != nil {
		for _, a := range s.cfg.DTLS.Listen {
			l, err := s.listenDTLS(a)
			if err != nil {
				for _, d := range s.dtls {
					d.ln.Close()
				}
				s.dtls = nil
				return fail(err)
			}
			s.dtls = append(s.dtls, l)
		}
	}
	s.endpoints = eps
	return nil
}

// Addrs returns the addresses the server listens on, after Listen.
func (s *Server) Addrs() []netip.AddrPort {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	var as []netip.AddrPort
	for _, ep := range s.endpoints {
		as = append(as, ep.local)
	}
	return as
}

// DTLSAddrs returns the addresses of the DTLS endpoint, after Listen.
func (s *Server) DTLSAddrs() []netip.AddrPort {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	var as []netip.AddrPort
	for _, l := range s.dtls {
		as = append(as, l.ln.Addr())
	}
	return as
}

// DTLSSessions is the number of DTLS sessions, handshakes in progress included.
func (s *Server) DTLSSessions() int {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	n := 0
	for _, l := range s.dtls {
		n += l.ln.Sessions()
	}
	return n
}

// Serve answers requests until ctx is done, then closes the sockets.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, ep := range s.endpoints {
		s.log.Info("listening", "addr", ep.local.String())
		for range s.cfg.Readers {
			wg.Go(func() { ep.readLoop(ctx) })
		}
	}
	for _, l := range s.dtls {
		s.log.Info("listening for DTLS", "addr", l.ln.Addr().String())
		wg.Go(func() { l.serve(ctx) })
	}
	wg.Go(func() { s.sweep(ctx) })
	wg.Go(func() { s.events.log.Run(ctx) })
	if s.cfg.ServiceDiscovery {
		wg.Go(func() { s.serveGroups(ctx) })
	}
	<-ctx.Done()
	s.listenMu.Lock()
	for _, ep := range s.endpoints {
		ep.close()
	}
	s.listenMu.Unlock()
	wg.Wait()
	s.listenMu.Lock()
	s.endpoints, s.dtls = nil, nil // a later Serve (a restart) listens again
	s.listenMu.Unlock()
	s.notify.dropAll()
	return nil
}

// sweep drops expired Block1 uploads.
func (s *Server) sweep(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.blocks.expire(now)
		}
	}
}
