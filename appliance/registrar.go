package appliance

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/network"
	"github.com/pigw/pigw/appliance/registration"
	"github.com/pigw/pigw/internal/wait"
)

// dialServer opens a session to a configured server (coap://, or coaps:// with identity and
// psk): a client session's peer, an LwM2M server, a Resource Directory.
func dialServer(c *coap.Client, host string, port uint16, identity string, psk config.Secret) (*coap.Session, error) {
	opts := coap.SessionOptions{Identity: identity}
	if len(psk) > 0 {
		opts.PSK = []byte(psk)
	}
	return c.NewSession(net.JoinHostPort(host, strconv.Itoa(int(port))), opts)
}

// keepRegistered runs register until ctx is done, again after a back-off (1 s doubling to
// 5 min) whenever it returns before that: a server that cannot be reached is shown through
// publish (idle with the error) and logged, never returned to the supervisor, so that it does
// not count against the appliance's health (an update on trial would roll back).
func keepRegistered(ctx context.Context, log *slog.Logger, idle registration.State, publish func(registration.State),
	register func(context.Context) error) error {
	for backoff := backoffMin; ; backoff = min(2*backoff, backoffMax) {
		err := register(ctx)
		if ctx.Err() != nil {
			return nil
		}
		st := idle
		st.LastError, st.LastErrorTime = err.Error(), time.Now()
		publish(st)
		log.Warn("server unreachable", "server", idle.Server, "err", err, "retry_in", backoff)
		if !wait.Sleep(ctx, backoff) {
			return nil
		}
	}
}

// idleState is a registration's state before it is registered.
func idleState(server, endpoint string, lifetime config.Duration) registration.State {
	return registration.State{Server: server, Endpoint: endpoint, Lifetime: uint32(time.Duration(lifetime) / time.Second)}
}

// addressSettle is how long the host's addresses must be still before a registration tells
// its server about a change: a DHCP renewal removes and adds in quick succession.
const addressSettle = time.Second

// followAddresses calls fn after each change of the host's addresses, until ctx is done.
func followAddresses(ctx context.Context, log *slog.Logger, fn func()) {
	changes, err := network.AddressChanges(ctx, addressSettle, log)
	if err != nil {
		log.Warn("address changes not followed: the server learns a new address at the next Update", "err", err)
		return
	}
	for range changes {
		fn()
	}
}

// sessionKeeper holds a registration's session. Its reconnect is the engine's Reconnect: it
// dials a fresh session (a DTLS one dies with its server's restart) and drops the one it
// replaces; close drops the last.
type sessionKeeper struct {
	client *coap.Client
	dial   func() (*coap.Session, error)
	s      *coap.Session
}

func (k *sessionKeeper) reconnect(context.Context) (registration.Conn, error) {
	fresh, err := k.dial()
	if err != nil {
		return nil, err
	}
	k.client.RemoveSession(k.s)
	k.s = fresh
	return fresh, nil
}

func (k *sessionKeeper) close() { k.client.RemoveSession(k.s) }
