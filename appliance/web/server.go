package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/netutil"
)

// Limits bound what clients can take from the appliance. A zero field takes its default.
type Limits struct {
	Connections       int           // connections served at once per listen address (default 32)
	EventStreams      int           // event streams at once over all addresses (default 8)
	ReadHeaderTimeout time.Duration // to read a request's header (default 5s)
	ReadTimeout       time.Duration // to read a whole request (default 10s)
	WriteTimeout      time.Duration // to write an answer, and each event of a stream (default 10s)
	IdleTimeout       time.Duration // a kept-alive connection without a request (default 60s)
	MaxHeaderBytes    int           // of a request's header (default 8 KiB)
	StatusEvery       time.Duration // least time between two status events of a stream (default 250ms)
	Heartbeat         time.Duration // a status event at least this often, for the clocks (default 2s)
	Ping              time.Duration // a comment this often, so proxies keep a stream (default 15s)
}

func (l Limits) withDefaults() Limits {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.Connections <= 0 {
		l.Connections = 32
	}
	if l.EventStreams <= 0 {
		l.EventStreams = 8
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 8 << 10
	}
	def(&l.ReadHeaderTimeout, 5*time.Second)
	def(&l.ReadTimeout, 10*time.Second)
	def(&l.WriteTimeout, 10*time.Second)
	def(&l.IdleTimeout, 60*time.Second)
	def(&l.StatusEvery, 250*time.Millisecond)
	def(&l.Heartbeat, 2*time.Second)
	def(&l.Ping, 15*time.Second)
	return l
}

// Config is what New needs.
type Config struct {
	Listen []string // TCP addresses, host:port
	Source Source
	Log    *slog.Logger
	Limits Limits
}

// Server is the status page's HTTP server, a subsystem of the appliance.
type Server struct {
	listen  []string
	src     Source
	log     *slog.Logger
	limits  Limits
	page    *template.Template
	handler http.Handler
	streams atomic.Int32 // event streams open now

	mu    sync.Mutex
	addrs []net.Addr // where Run listens, for tests that listen on port 0
}

// New checks cfg and prepares the server; Run serves it.
func New(cfg Config) (*Server, error) {
	if cfg.Source == nil {
		return nil, errors.New("web: no source")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	for _, a := range cfg.Listen {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("web: listen address %q: %w", a, err)
		}
	}
	page, err := parsePage()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{listen: cfg.Listen, src: cfg.Source, log: cfg.Log, limits: cfg.Limits.withDefaults(), page: page}
	s.handler = s.routes()
	return s, nil
}

// Name names the subsystem.
func (s *Server) Name() string { return "web" }

// Handler answers every route of the page, for tests and for other listeners.
func (s *Server) Handler() http.Handler { return s.handler }

// Addrs are the addresses Run listens on now.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]net.Addr(nil), s.addrs...)
}

// Run serves the page on every address until ctx is done. An address that cannot be bound
// (not there yet, a port taken) is an error: the supervisor runs it again after a while.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
		s.mu.Lock()
		s.addrs = nil
		s.mu.Unlock()
	}()
	var lc net.ListenConfig
	for _, a := range s.listen {
		l, err := lc.Listen(ctx, "tcp", a)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", a, err)
		}
		lns = append(lns, netutil.LimitListener(l, s.limits.Connections))
	}
	errs := make(chan error, len(lns))
	var servers []*http.Server
	for _, l := range lns {
		hs := &http.Server{
			Handler: s.handler, ReadHeaderTimeout: s.limits.ReadHeaderTimeout, ReadTimeout: s.limits.ReadTimeout,
			IdleTimeout: s.limits.IdleTimeout, MaxHeaderBytes: s.limits.MaxHeaderBytes,
			BaseContext: func(net.Listener) context.Context { return ctx }, // streams end with Run
			ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		}
		servers = append(servers, hs)
		s.mu.Lock()
		s.addrs = append(s.addrs, l.Addr())
		s.mu.Unlock()
		s.log.Info("status page", "url", "http://"+l.Addr().String()+"/")
		go func() { errs <- hs.Serve(l) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
		err = fmt.Errorf("serve: %w", err)
	}
	cancel()
	shut, done := context.WithTimeout(context.Background(), 2*time.Second)
	defer done()
	for _, hs := range servers {
		if hs.Shutdown(shut) != nil {
			hs.Close()
		}
	}
	return err
}
