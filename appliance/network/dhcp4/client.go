package dhcp4

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/pigw/pigw/internal/timesrc"
)

// States of the client, as State reports them.
const (
	StateInit       = "init"
	StateSelecting  = "selecting"
	StateRequesting = "requesting"
	StateRebooting  = "rebooting" // INIT-REBOOT: asking again for a previous lease
	StateBound      = "bound"
	StateRenewing   = "renewing"
	StateRebinding  = "rebinding"
	StateStopped    = "stopped" // Run has returned
)

// Config configures a Client.
type Config struct {
	Interface    string           // such as eth0; for logs, and for the raw socket when Transport is nil
	HardwareAddr net.HardwareAddr // nil: the interface's
	Hostname     string           // sent in option 12 when set
	ClientID     []byte           // option 61; nil: type 1 (Ethernet) and the hardware address
	// Previous is the lease the appliance had before it rebooted, if it kept one. While it has
	// not expired, the client starts in INIT-REBOOT and asks for the same address.
	Previous *Lease
	Release  bool // send DHCPRELEASE when Run stops while bound
	Clock    Clock
	Logger   *slog.Logger
	// OnBound applies a lease: called when the client becomes bound, and when a renewal
	// changes anything but the times. Called from Run; the address of an earlier lease that
	// differs has been passed to OnExpired first.
	OnBound func(Lease)
	// OnExpired removes the address of a lease earlier passed to OnBound: it expired, a
	// server refused it (DHCPNAK), or Run stopped because its ctx is done.
	OnExpired func(Lease)
	// OnState, when set, is told each new state, for status reporting.
	OnState func(state string)
	// Transport carries the messages; nil: ListenRaw(Interface) for each Run. A Transport
	// given here is not closed by Run.
	Transport Transport
}

// Client is a DHCPv4 client for one interface.
type Client struct {
	cfg     Config
	clock   Clock
	log     *slog.Logger
	running atomic.Bool

	mu      sync.Mutex // guards state and inUse, which State and Lease read
	state   string
	inUse   *Lease
	machine // used by Run only
}

// machine is the protocol state, touched only by the goroutine in Run. It outlives a Run, so
// a Run started again after an error asks for the lease it had (INIT-REBOOT).
type machine struct {
	tr       Transport
	hw       net.HardwareAddr
	clientID []byte

	xid     dhcpv4.TransactionID
	attempt int       // transmissions in this exchange
	started time.Time // when this exchange's first message was sent
	next    time.Time // when timeout is due
	offer   *dhcpv4.DHCPv4
	lease   *Lease // bound, renewing, rebinding: the lease; rebooting: the one asked for
	trusted bool   // rebooting: lease may be used until it expires if no server answers
	applied *Lease // passed to OnBound and not yet to OnExpired
	naks    int    // DHCPNAKs since the last lease, for back-off
	usedPrv bool   // Config.Previous has been considered
}

// New returns a client for cfg. Nothing is opened until Run.
func New(cfg Config) (*Client, error) {
	if cfg.Interface == "" && (cfg.Transport == nil || cfg.HardwareAddr == nil) {
		return nil, errors.New("dhcp4: no interface, nor a transport and hardware address")
	}
	c := &Client{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, state: StateInit}
	if c.clock == nil {
		c.clock = timesrc.System{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("interface", cfg.Interface)
	return c, nil
}

// State is the client's state, one of the State constants.
func (c *Client) State() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Lease is the lease whose address is in use: the last one passed to OnBound and not since
// to OnExpired.
func (c *Client) Lease() (Lease, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inUse == nil {
		return Lease{}, false
	}
	return c.inUse.clone(), true
}

// Run gets and keeps a lease until ctx is done; then it releases the lease if so
// configured, removes the address (OnExpired) and returns nil. An error (the interface or
// its socket failed) leaves the address in place: Run may be called again, and it starts
// with INIT-REBOOT for the lease it had.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("dhcp4: Run is already running")
	}
	defer c.running.Store(false)
	closeTr, err := c.open()
	if err != nil {
		return fmt.Errorf("dhcp4 on %s: %w", c.cfg.Interface, err)
	}

	recvCtx, cancel := context.WithCancel(ctx)
	pkts := make(chan *dhcpv4.DHCPv4)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Go(func() { receive(recvCtx, c.tr, pkts, errc) })
	defer func() {
		cancel()
		closeTr()
		wg.Wait()
	}()

	if ctx.Err() != nil {
		c.shutdown(ctx)
		return nil
	}
	c.start(ctx)
	for {
		timer := c.clock.NewTimer(c.next.Sub(c.clock.Now()))
		select {
		case <-ctx.Done():
			timer.Stop()
			c.shutdown(ctx)
			return nil
		case err := <-errc:
			timer.Stop()
			c.setState(StateStopped)
			return fmt.Errorf("dhcp4 on %s: %w", c.cfg.Interface, err)
		case m := <-pkts:
			timer.Stop()
			c.handle(ctx, m)
		case <-timer.C():
			c.timeout(ctx)
		}
	}
}

// open finds the hardware address and the transport; closeTr closes what open opened.
func (c *Client) open() (closeTr func(), err error) {
	hw := c.cfg.HardwareAddr
	if hw == nil {
		ifi, err := net.InterfaceByName(c.cfg.Interface)
		if err != nil {
			return nil, err
		}
		hw = ifi.HardwareAddr
	}
	if len(hw) == 0 || len(hw) > 16 {
		return nil, fmt.Errorf("hardware address %q not usable", hw)
	}
	c.hw = hw
	c.clientID = c.cfg.ClientID
	if c.clientID == nil {
		c.clientID = append([]byte{1}, hw...)
	}
	if c.cfg.Transport != nil {
		c.tr = c.cfg.Transport
		return func() {}, nil
	}
	tr, err := ListenRaw(c.cfg.Interface)
	if err != nil {
		return nil, err
	}
	c.tr = tr
	return func() { tr.Close() }, nil
}

// receive passes the messages that arrive to pkts, until ctx is done or the transport fails.
func receive(ctx context.Context, tr Transport, pkts chan<- *dhcpv4.DHCPv4, errc chan<- error) {
	for {
		m, err := tr.Receive(ctx)
		if err != nil {
			if ctx.Err() == nil {
				errc <- err
			}
			return
		}
		select {
		case pkts <- m:
		case <-ctx.Done():
			return
		}
	}
}

// setState records s and tells OnState when it is new.
func (c *Client) setState(s string) {
	c.mu.Lock()
	old := c.state
	c.state = s
	c.mu.Unlock()
	if old == s {
		return
	}
	c.log.Debug("DHCP state", "from", old, "to", s)
	if c.cfg.OnState != nil {
		c.cfg.OnState(s)
	}
}

// publish makes applied what Lease reports.
func (c *Client) publish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.applied == nil {
		c.inUse = nil
		return
	}
	l := c.applied.clone()
	c.inUse = &l
}
