package coap

import (
	"net"
	"net/netip"
	"time"
)

// peerConn is an unconnected UDP socket used as a connection to one peer. A connected socket
// fixes its source address when it connects; this one lets the kernel choose it for every
// datagram, so a session goes on working when the appliance's address changes (a new DHCP
// lease, WiFi instead of Ethernet). Datagrams from anyone but the peer are dropped.
type peerConn struct {
	*net.UDPConn
	peer netip.AddrPort
}

func listenPeer(peer netip.AddrPort) (*peerConn, error) {
	network := "udp4"
	if peer.Addr().Is6() && !peer.Addr().Is4In6() {
		network = "udp6"
	}
	c, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, err
	}
	return &peerConn{UDPConn: c, peer: peer}, nil
}

func (c *peerConn) Write(b []byte) (int, error) { return c.WriteToUDPAddrPort(b, c.peer) }

func (c *peerConn) Read(b []byte) (int, error) {
	for {
		n, from, err := c.ReadFromUDPAddrPort(b)
		if err != nil {
			return n, err
		}
		if from.Port() == c.peer.Port() && from.Addr().Unmap() == c.peer.Addr().Unmap() {
			return n, nil
		}
	}
}

func (c *peerConn) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(c.peer) }

func (c *peerConn) SetDeadline(t time.Time) error { return c.UDPConn.SetDeadline(t) }
