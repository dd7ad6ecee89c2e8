package dhcp4

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

const (
	// maxRequests is how often a REQUEST for an offer is sent before starting again from
	// INIT: after about 4+8+16+32 s.
	maxRequests = 4
	// maxReboots is how often INIT-REBOOT asks for the previous lease before doing without a
	// server (about 4+8+16 s): a gateway should not wait long for its address.
	maxReboots = 3
	// minRetry is the shortest wait between renewal or rebinding requests (RFC 2131 §4.4.5).
	minRetry = 60 * time.Second
	// releaseTimeout bounds sending DHCPRELEASE on the way out.
	releaseTimeout = time.Second
)

// backoff is the wait after the attempt-th transmission in SELECTING, REQUESTING and
// REBOOTING: 4 s, 8 s, ... 64 s (RFC 2131 §4.1), plus jitter.
func backoff(attempt int, jitter time.Duration) time.Duration {
	d := 64 * time.Second
	if attempt >= 1 && attempt <= 4 {
		d = 4 * time.Second << (attempt - 1)
	}
	return d + jitter
}

// jitter is uniform in [-1 s, +1 s].
func jitter() time.Duration {
	return time.Duration(rand.Int64N(int64(2*time.Second)+1)) - time.Second
}

// retryWait is the wait between requests in RENEWING and REBINDING: half the time left
// until T2 or expiry, at least a minute, and never past it (RFC 2131 §4.4.5).
func retryWait(left time.Duration) time.Duration {
	return min(max(left/2, minRetry), left)
}

// start begins a Run: INIT-REBOOT when a lease is known, else INIT.
func (c *Client) start(ctx context.Context) {
	now := c.clock.Now()
	if l, trusted, ok := c.previous(now); ok {
		c.reboot(ctx, now, l, trusted)
		return
	}
	if c.applied != nil { // kept through an error, and expired since
		c.expire()
	}
	c.enterInit(now)
}

// previous is the lease to ask for again: the one of an earlier Run, else Config.Previous.
// trusted is false when the wall clock is before the lease was acquired (a Raspberry Pi
// has no real-time clock), so its age is unknown and it is not used without a server.
func (c *Client) previous(now time.Time) (l Lease, trusted, ok bool) {
	if c.lease != nil {
		l, c.lease = *c.lease, nil
		return l, true, now.Before(l.Expiry())
	}
	if c.usedPrv || c.cfg.Previous == nil {
		return Lease{}, false, false
	}
	c.usedPrv = true
	if err := c.cfg.Previous.Validate(); err != nil {
		c.log.Warn("previous lease not used", "err", err)
		return Lease{}, false, false
	}
	l = c.cfg.Previous.clone()
	age := now.Round(0).Sub(l.Acquired.Round(0)) // wall clock: the lease was saved by another boot
	if age < 0 {
		return l, false, true
	}
	if age >= l.Duration {
		return Lease{}, false, false
	}
	l.Acquired = now.Add(-age) // on the monotonic clock from now on
	return l, true, true
}

// enterInit starts again from INIT; after repeated DHCPNAKs it waits first.
func (c *Client) enterInit(now time.Time) {
	c.lease, c.offer = nil, nil
	c.setState(StateInit)
	c.next = now
	if c.naks > 1 {
		c.next = now.Add(backoff(c.naks-1, jitter()))
	}
}

// newExchange starts a transaction with a new xid.
func (c *Client) newExchange(now time.Time) {
	c.xid = dhcpv4.TransactionID(bytes4(rand.Uint32()))
	c.started = now
	c.attempt = 0
}

func bytes4(v uint32) [4]byte { return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// discover enters SELECTING.
func (c *Client) discover(ctx context.Context, now time.Time) {
	c.newExchange(now)
	c.setState(StateSelecting)
	c.retransmit(ctx, now)
}

// reboot enters REBOOTING (INIT-REBOOT), asking for l's address again.
func (c *Client) reboot(ctx context.Context, now time.Time, l Lease, trusted bool) {
	c.lease, c.trusted = &l, trusted
	c.newExchange(now)
	c.log.Info("asking for the previous lease", "address", l.Address, "expires", l.Expiry())
	c.setState(StateRebooting)
	c.retransmit(ctx, now)
}

// retransmit sends this state's message again and sets the back-off.
func (c *Client) retransmit(ctx context.Context, now time.Time) {
	var m *dhcpv4.DHCPv4
	switch c.state {
	case StateSelecting:
		m = c.discoverMsg(now)
	case StateRequesting:
		m = c.selectingRequest(now)
	case StateRebooting:
		m = c.rebootRequest(now)
	default:
		return
	}
	c.attempt++
	c.send(ctx, m, broadcast)
	c.next = now.Add(backoff(c.attempt, jitter()))
}

// timeout acts on c.next having come.
func (c *Client) timeout(ctx context.Context) {
	now := c.clock.Now()
	switch c.state {
	case StateInit:
		c.discover(ctx, now)
	case StateSelecting:
		c.retransmit(ctx, now)
	case StateRequesting:
		if c.attempt >= maxRequests {
			c.log.Warn("no answer to DHCPREQUEST", "server", c.offer.ServerIdentifier())
			c.enterInit(now)
			return
		}
		c.retransmit(ctx, now)
	case StateRebooting:
		if c.attempt < maxReboots {
			c.retransmit(ctx, now)
			return
		}
		if c.trusted && now.Before(c.lease.Expiry()) {
			c.log.Warn("no DHCP server answers: using the previous lease", "lease", c.lease)
			c.bind(*c.lease)
			return
		}
		c.log.Warn("no DHCP server confirms the previous lease")
		if c.applied != nil {
			c.expire()
		}
		c.enterInit(now)
	case StateBound, StateRenewing, StateRebinding:
		c.maintain(ctx, now)
	}
}

// maintain moves a lease through BOUND, RENEWING, REBINDING and expiry as time passes,
// sending the renewal and rebinding requests.
func (c *Client) maintain(ctx context.Context, now time.Time) {
	l := *c.lease
	switch {
	case !now.Before(l.Expiry()):
		c.log.Warn("lease expired", "lease", l)
		c.expire()
		c.enterInit(now)
	case !now.Before(l.Rebind()):
		if c.state == StateBound {
			c.newExchange(now)
		}
		// A late answer to a renewal is still welcome: the xid stays.
		c.setState(StateRebinding)
		c.attempt++
		c.send(ctx, c.renewRequest(now, l), broadcast)
		c.next = now.Add(retryWait(l.Expiry().Sub(now)))
	case !now.Before(l.Renew()):
		if c.state != StateRenewing {
			c.newExchange(now)
		}
		c.setState(StateRenewing)
		c.attempt++
		c.send(ctx, c.renewRequest(now, l), serverAddr(l.Server))
		c.next = now.Add(retryWait(l.Rebind().Sub(now)))
	default:
		c.setState(StateBound)
		c.next = l.Renew()
	}
}

// handle acts on a message from a server.
func (c *Client) handle(ctx context.Context, m *dhcpv4.DHCPv4) {
	if m.OpCode != dhcpv4.OpcodeBootReply || m.TransactionID != c.xid || !bytes.Equal(m.ClientHWAddr, c.hw) {
		return // not an answer to us
	}
	now := c.clock.Now()
	typ := m.MessageType()
	c.log.Debug("DHCP received", "type", typ, "server", m.ServerIdentifier(), "yiaddr", m.YourIPAddr)
	switch c.state {
	case StateSelecting:
		if typ != dhcpv4.MessageTypeOffer {
			return
		}
		if a, ok := addrFrom(m.YourIPAddr); !ok || a.IsUnspecified() || m.ServerIdentifier() == nil {
			c.log.Debug("DHCPOFFER without address or server identifier ignored")
			return
		}
		c.offer = m
		c.started, c.attempt = now, 0
		c.setState(StateRequesting)
		c.retransmit(ctx, now)
	case StateRequesting:
		if sid := m.ServerIdentifier(); sid != nil && !sid.Equal(c.offer.ServerIdentifier()) {
			return // answer to our request to another server
		}
		server, _ := addrFrom(c.offer.ServerIdentifier())
		c.answer(now, m, server)
	case StateRebooting:
		c.answer(now, m, netip.Addr{})
	case StateRenewing, StateRebinding:
		c.answer(now, m, c.lease.Server)
	}
}

// answer acts on a DHCPACK or DHCPNAK to a REQUEST.
func (c *Client) answer(now time.Time, m *dhcpv4.DHCPv4, server netip.Addr) {
	switch m.MessageType() {
	case dhcpv4.MessageTypeAck:
		l, err := parseLease(m, c.started, server)
		if err != nil {
			c.log.Warn("DHCPACK ignored", "err", err)
			return
		}
		c.bind(l)
	case dhcpv4.MessageTypeNak:
		c.naks++
		c.log.Warn("DHCPNAK: the address is refused", "state", c.state, "message", m.Message())
		if c.applied != nil {
			c.expire()
		}
		c.enterInit(now)
	}
}

// bind enters BOUND with l, applying it when it is new.
func (c *Client) bind(l Lease) {
	if c.applied != nil && c.applied.Address != l.Address {
		c.expire()
	}
	c.naks = 0
	apply := c.applied == nil || !sameData(*c.applied, l)
	c.lease, c.applied = &l, &l
	if apply {
		c.log.Info("DHCP lease", "lease", l, "dns", l.DNS)
		if c.cfg.OnBound != nil {
			c.cfg.OnBound(l.clone())
		}
	} else {
		c.log.Debug("DHCP lease renewed", "lease", l)
	}
	c.publish()
	c.setState(StateBound)
	c.next = l.Renew()
}

// expire removes the applied address.
func (c *Client) expire() {
	l := *c.applied
	c.applied = nil
	if c.cfg.OnExpired != nil {
		c.cfg.OnExpired(l.clone())
	}
	c.publish()
}

// shutdown ends a Run whose ctx is done: RELEASE if so configured, and the address removed.
func (c *Client) shutdown(ctx context.Context) {
	switch c.state {
	case StateBound, StateRenewing, StateRebinding:
		if c.cfg.Release {
			l := *c.lease
			c.lease = nil // given back: no INIT-REBOOT for it
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			c.newExchange(c.clock.Now())
			c.send(rctx, c.releaseMsg(l), serverAddr(l.Server))
			cancel()
			c.log.Info("DHCP lease released", "lease", l)
		}
	}
	if c.applied != nil {
		c.expire()
	}
	c.setState(StateStopped)
}
