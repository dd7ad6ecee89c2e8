package coap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// endpoint is one listening UDP socket. Its socket reports each datagram's destination
// address (IP_PKTINFO), which tells multicast requests from unicast ones.
type endpoint struct {
	srv    *Server
	conn   *net.UDPConn
	local  netip.AddrPort
	v6     bool
	closed atomic.Bool
}

func listenUDP(s *Server, ap netip.AddrPort) (*endpoint, error) {
	v6 := ap.Addr().Is6() && !ap.Addr().Is4In6()
	network := "udp4"
	if v6 {
		network = "udp6"
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if v6 {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
			} else {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			}
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), network, ap.String())
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", ap, err)
	}
	conn := pc.(*net.UDPConn)
	_ = conn.SetReadBuffer(1 << 20)
	_ = conn.SetWriteBuffer(1 << 20)
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return &endpoint{srv: s, conn: conn, local: netip.AddrPortFrom(local.Addr().Unmap(), local.Port()), v6: v6}, nil
}

func (ep *endpoint) close() {
	if ep.closed.CompareAndSwap(false, true) {
		ep.conn.Close()
	}
}

func (ep *endpoint) send(b []byte, to netip.AddrPort) {
	if _, err := ep.conn.WriteToUDPAddrPort(b, to); err != nil && !ep.closed.Load() {
		ep.srv.log.Debug("send", "to", to.String(), "err", err)
	}
}

// readLoop reads and answers datagrams until the socket is closed.
func (ep *endpoint) readLoop(ctx context.Context) {
	w := newWorker(ep)
	for {
		n, oobn, flags, from, err := ep.conn.ReadMsgUDPAddrPort(w.rbuf, w.oob)
		if err != nil {
			if ep.closed.Load() || ctx.Err() != nil {
				return
			}
			ep.srv.log.Warn("read", "addr", ep.local.String(), "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if flags&unix.MSG_TRUNC != 0 {
			continue // larger than any datagram we accept; cannot be parsed
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		w.packet(w.rbuf[:n], from, packetDst(w.oob[:oobn]))
	}
}

// packetDst finds the destination address in IP_PKTINFO or IPV6_PKTINFO control data.
func packetDst(oob []byte) netip.Addr {
	hdr := unix.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return netip.Addr{}
		}
		data := oob[hdr:l]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= 12:
			return netip.AddrFrom4([4]byte(data[8:12])) // struct in_pktinfo: ifindex, spec_dst, addr
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= 16:
			return netip.AddrFrom16([16]byte(data[0:16])).Unmap() // struct in6_pktinfo: addr, ifindex
		}
		next := unix.CmsgSpace(l - hdr)
		if next > len(oob) {
			break
		}
		oob = oob[next:]
	}
	return netip.Addr{}
}
