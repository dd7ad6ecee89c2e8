// Package udpnat is a user-space NAT for tests: it forwards one client's UDP datagrams to a
// server from a port of its own, and can move to a new port mid-session, as a home router does
// when its mapping expires. Tests of DTLS Connection IDs (RFC 9146) put it between a client
// and a server on loopback.
package udpnat

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// NAT forwards datagrams between the client that last wrote to Addr and a server.
type NAT struct {
	front  *net.UDPConn
	server netip.AddrPort
	ctx    context.Context

	mu     sync.Mutex
	back   *net.UDPConn
	client netip.AddrPort
}

// New starts a NAT on loopback in front of server; it stops when ctx is done.
func New(ctx context.Context, server netip.AddrPort) (*NAT, error) {
	if !server.Addr().IsLoopback() {
		return nil, fmt.Errorf("NAT to %s: only loopback servers", server)
	}
	front, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(server.Addr(), 0)))
	if err != nil {
		return nil, fmt.Errorf("NAT front socket: %w", err)
	}
	n := &NAT{front: front, server: server, ctx: ctx}
	if _, err := n.Rebind(); err != nil {
		front.Close()
		return nil, err
	}
	context.AfterFunc(ctx, func() {
		front.Close()
		n.mu.Lock()
		n.back.Close()
		n.mu.Unlock()
	})
	go n.outbound()
	return n, nil
}

// Addr is where the client sends.
func (n *NAT) Addr() netip.AddrPort { return n.front.LocalAddr().(*net.UDPAddr).AddrPort() }

// outbound forwards the client's datagrams to the server from the current port.
func (n *NAT) outbound() {
	buf := make([]byte, 1<<16)
	for {
		k, from, err := n.front.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		n.mu.Lock()
		n.client = from
		back := n.back
		n.mu.Unlock()
		_, _ = back.WriteToUDPAddrPort(buf[:k], n.server)
	}
}

// Rebind moves the forwarding to a new port and closes the old one; it returns the new address
// the server sees.
func (n *NAT) Rebind() (netip.AddrPort, error) {
	back, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.server.Addr(), 0)))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("NAT back socket: %w", err)
	}
	go func() {
		buf := make([]byte, 1<<16)
		for {
			k, err := back.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			client := n.client
			n.mu.Unlock()
			_, _ = n.front.WriteToUDPAddrPort(buf[:k], client)
		}
	}()
	n.mu.Lock()
	old := n.back
	n.back = back
	n.mu.Unlock()
	if old != nil {
		old.Close()
	}
	a := back.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()), nil
}
