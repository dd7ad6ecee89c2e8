package dhcp4

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

// Transport carries DHCP messages between the client and the servers.
type Transport interface {
	// Send sends m to the UDP address to: the broadcast address or a server's.
	Send(ctx context.Context, m *dhcpv4.DHCPv4, to *net.UDPAddr) error
	// Receive returns the next DHCP message that arrives. It returns when ctx is done.
	Receive(ctx context.Context) (*dhcpv4.DHCPv4, error)
	Close() error
}

// ListenRaw opens the Transport of a real interface: nclient4's raw UDP socket on port 68,
// which sends and receives before the interface has an address. It needs CAP_NET_RAW. Every
// frame it sends goes to the Ethernet broadcast address, even a unicast renewal, which a
// server on the same link answers as usual.
func ListenRaw(iface string) (Transport, error) {
	conn, err := nclient4.NewRawUDPConn(iface, nclient4.ClientPort)
	if err != nil {
		return nil, fmt.Errorf("raw DHCP socket on %s: %w", iface, err)
	}
	return NewConnTransport(conn), nil
}

// NewConnTransport returns a Transport over conn: a raw socket from ListenRaw, or in tests a
// UDP socket. Closing the Transport closes conn.
func NewConnTransport(conn net.PacketConn) Transport { return &connTransport{conn: conn} }

type connTransport struct{ conn net.PacketConn }

// maxMessage is the size of the buffer read into; the client asks servers for at most 1500
// bytes (option 57).
const maxMessage = 1500

func (t *connTransport) Send(ctx context.Context, m *dhcpv4.DHCPv4, to *net.UDPAddr) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := t.conn.WriteTo(m.ToBytes(), to); err != nil {
		return fmt.Errorf("send %s to %s: %w", m.MessageType(), to, err)
	}
	return nil
}

func (t *connTransport) Receive(ctx context.Context) (*dhcpv4.DHCPv4, error) {
	// A deadline in the past wakes the read when ctx is done.
	stop := context.AfterFunc(ctx, func() { t.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, maxMessage+1)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, _, err := t.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// Left by an earlier ctx (a Run before this one).
				t.conn.SetReadDeadline(time.Time{})
				continue
			}
			return nil, fmt.Errorf("receive: %w", err)
		}
		m, err := dhcpv4.FromBytes(buf[:n])
		if err != nil {
			continue // not DHCP
		}
		return m, nil
	}
}

func (t *connTransport) Close() error { return t.conn.Close() }
