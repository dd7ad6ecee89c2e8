// Package registration keeps a CoAP endpoint registered with a server that lists endpoints:
// an OMA LwM2M server (Register, Update and De-register of the LwM2M 1.1 registration
// interface) or a CoRE Resource Directory (RFC 9176). Both take a CON POST to a path with
// ep= and lt= in the query and a link-format payload, answer 2.01 with the registration's
// Location-Path, refresh it with a POST to that location and drop it with a DELETE. The
// engine is one package for both so that the behaviour fleets depend on most, coming back
// after a network or server loss, is written and tested once.
//
// The engine registers, updates before the lifetime runs out (at lt−247 s, or at lt/2 for
// lifetimes of 494 s and less; see updateDelay), and registers again whenever an Update
// fails: an answer of 4.04 (the server restarted empty, or the registration expired), of
// 4.05 (libcoap's coap-rd has no update interface), of another error, or none at all. A
// client that went on updating a registration the server does not confirm would be invisible
// to it. A failed Register is tried again after a back-off of 1 s doubling to 5 min, ±50 %
// so that gateways that lost the same server do not come back in step. A clean stop
// deletes the registration, waiting 2 s at most.
package registration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/internal/timesrc"
)

// Conn sends the requests: a *coap.Session to the server. An LwM2M client serves its objects
// on the same session (coap.Session.Serve), since its server reaches it at the address it
// registered from.
type Conn interface {
	Do(ctx context.Context, req coap.Request) (coap.Response, error)
}

// Config describes one registration.
type Config struct {
	Conn Conn
	// Reconnect, when set, gives a new Conn before every Register that follows a failure (a
	// failed Register or Update), and the engine uses it from then on; closing the old one is
	// Reconnect's job. A DTLS session does not outlive its server's restart, so a client over
	// coaps must dial again rather than retry on the dead session. An error is a failed
	// Register: the back-off applies.
	Reconnect func(ctx context.Context) (Conn, error)
	// Server names the server in the state and the logs, as configured:
	// "coap://leshan.example:5683"; "": Conn's String, if it has one.
	Server string
	// Path is where the server takes registrations: "rd" for LwM2M, the directory's
	// registration resource for RFC 9176.
	Path string
	// Endpoint is the endpoint name, sent as ep=.
	Endpoint string
	// Params are more query parameters of Register, each "name=value", sent after ep= and
	// lt=: "lwm2m=1.1", "b=U" for LwM2M.
	Params []string
	// Lifetime is how long the server keeps the registration without an Update: whole
	// seconds, 1 s to 2^32−1 s (LwM2M's range), sent as lt=.
	Lifetime time.Duration
	// Links returns the link-format payload of Register. It is called for every Register, so
	// a Register after a server loss lists what the endpoint has then.
	Links func() []byte
	// MinBackoff and MaxBackoff bound the wait after a failed Register (default 1 s, 5 min).
	MinBackoff, MaxBackoff time.Duration
	// Jitter returns a number in [0, 1) that spreads each back-off over ±50 %; nil: random.
	Jitter func() float64
	// DeregisterTimeout bounds the De-register on a clean stop (default 2 s), so that a
	// server that does not answer does not hold the shutdown.
	DeregisterTimeout time.Duration
	Clock             Clock        // nil: the system's
	Logger            *slog.Logger // nil: discarded
	// OnChange, when set, is given the state after each change, from the goroutine that
	// changed it. It must not block.
	OnChange func(State)
}

// maxLifetime is the largest lifetime LwM2M's Lifetime resource (an unsigned 32-bit integer of
// seconds) can carry.
const maxLifetime = math.MaxUint32 * time.Second

// State is what the engine knows of its registration, for /sys/lwm2m and the status page.
type State struct {
	Server   string `json:"server"`
	Endpoint string `json:"endpoint"`
	// Location is the registration's path at the server, "rd/5"; "" while not registered.
	Location   string `json:"location,omitempty"`
	Registered bool   `json:"registered"`
	// Lifetime is the lifetime in seconds the server is told at the next Register or Update.
	Lifetime uint32 `json:"lifetime"`
	// LastUpdate is when the server last confirmed the registration (Register or Update).
	LastUpdate time.Time `json:"last_update,omitzero"`
	// NextUpdate is when the next Update is due, or the next Register after a failure.
	NextUpdate    time.Time `json:"next_update,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
	Registrations int       `json:"registrations"` // Registers the server accepted
	Updates       int       `json:"updates"`       // Updates the server accepted
	// RegisterBytes and UpdateBytes are what the last Register and Update put on the air:
	// the CoAP messages either way, retransmissions included (coap.Response.Sent).
	RegisterBytes Bytes `json:"register_bytes"`
	UpdateBytes   Bytes `json:"update_bytes"`
}

// Bytes counts the bytes of the CoAP messages of one exchange.
type Bytes struct {
	Sent     int `json:"sent"`
	Received int `json:"received"`
}

// Client keeps one registration. Run does the work; the other methods may be called from any
// goroutine.
type Client struct {
	cfg     Config
	clock   Clock
	log     *slog.Logger
	wake    chan struct{} // UpdateNow and SetLifetime: an Update (or a Register) at once
	running atomic.Bool

	mu       sync.Mutex
	conn     Conn // Config.Conn, or what Reconnect gave last
	st       State
	lifetime time.Duration // asked for; st.Lifetime in seconds
	told     time.Duration // the lifetime the server has: sent in the last accepted Register or Update
	params   []string      // Config.Params, as SetParam changed them
	toldPar  []string      // the params the server has
	location []string      // the Location-Path options of the registration
}

// New checks cfg and returns a client; nothing is sent before Run.
func New(cfg Config) (*Client, error) {
	if cfg.Conn == nil {
		return nil, errors.New("registration: no connection to the server")
	}
	if s, ok := cfg.Conn.(fmt.Stringer); ok && cfg.Server == "" {
		cfg.Server = s.String()
	}
	switch {
	case cfg.Path == "":
		return nil, fmt.Errorf("registration at %s: no registration path, such as rd", cfg.Server)
	case cfg.Endpoint == "":
		return nil, fmt.Errorf("registration at %s: no endpoint name", cfg.Server)
	case cfg.Links == nil:
		return nil, fmt.Errorf("registration at %s: no links function", cfg.Server)
	}
	if err := checkLifetime(cfg.Lifetime); err != nil {
		return nil, fmt.Errorf("registration at %s: %w", cfg.Server, err)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		return nil, fmt.Errorf("registration at %s: longest back-off %v is shorter than the shortest %v", cfg.Server, cfg.MaxBackoff, cfg.MinBackoff)
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.DeregisterTimeout <= 0 {
		cfg.DeregisterTimeout = 2 * time.Second
	}
	c := &Client{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, wake: make(chan struct{}, 1), lifetime: cfg.Lifetime, conn: cfg.Conn,
		params: slices.Clone(cfg.Params)}
	if c.clock == nil {
		c.clock = timesrc.System{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("server", cfg.Server, "endpoint", cfg.Endpoint)
	c.st = State{Server: cfg.Server, Endpoint: cfg.Endpoint, Lifetime: seconds(cfg.Lifetime)}
	return c, nil
}

// checkLifetime applies LwM2M's rule for a lifetime: whole seconds, 1 s to 2^32−1 s.
func checkLifetime(d time.Duration) error {
	if d < time.Second || d > maxLifetime || d%time.Second != 0 {
		return fmt.Errorf("lifetime %v: must be whole seconds from 1s to %ds", d, uint32(math.MaxUint32))
	}
	return nil
}

func seconds(d time.Duration) uint32 { return uint32(d / time.Second) }

// State returns a copy of the state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// UpdateNow asks for an Update at once: the lifetime was written, the server executed the
// Registration Update Trigger, the appliance's address changed. While not registered it asks
// for a Register at once instead of at the end of the back-off.
func (c *Client) UpdateNow() {
	select {
	case c.wake <- struct{}{}:
	default: // one is pending already
	}
}

// SetParam sets the query parameter name of Register to value, adding it if Config.Params
// has no such name. When the value changed, the server is told at once, with name=value in an
// Update: RFC 9176 lets an Update carry base=, which changes with the address.
func (c *Client) SetParam(name, value string) {
	p := name + "=" + value
	c.mu.Lock()
	i := slices.IndexFunc(c.params, func(q string) bool { return strings.HasPrefix(q, name+"=") })
	switch {
	case i >= 0 && c.params[i] == p:
		c.mu.Unlock()
		return
	case i >= 0:
		c.params[i] = p
	default:
		c.params = append(c.params, p)
	}
	c.mu.Unlock()
	c.log.Info("registration parameter changed", "param", p)
	c.UpdateNow()
}

// SetLifetime changes the lifetime; the server is told at once, with lt= in an Update.
func (c *Client) SetLifetime(d time.Duration) error {
	if err := checkLifetime(d); err != nil {
		return fmt.Errorf("registration at %s: %w", c.cfg.Server, err)
	}
	c.change(func(st *State) {
		c.lifetime = d
		st.Lifetime = seconds(d)
	})
	c.UpdateNow()
	return nil
}

// change applies fn to the state under the lock and reports the result.
func (c *Client) change(fn func(*State)) {
	c.mu.Lock()
	fn(&c.st)
	st := c.st
	c.mu.Unlock()
	if c.cfg.OnChange != nil {
		c.cfg.OnChange(st)
	}
}

// fail records err as the last error.
func (c *Client) fail(st *State, err error) {
	st.LastError, st.LastErrorTime = err.Error(), c.clock.Now()
}
