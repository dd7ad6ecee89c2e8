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
	srv      *Server
	conn     *net.UDPConn
	local    netip.AddrPort
	v6       bool
	wildcard bool
	// group marks a socket bound to an All-CoAP-Nodes group: it takes multicast requests only,
	// and its answers leave through one of the server's unicast sockets (groups.go).
	group bool
	// secure, for a DTLS session, is the connection answers go through; identity is the
	// client's PSK identity.
	secure   net.Conn
	identity string
	closed   atomic.Bool
}

// listenUDP opens a unicast socket on ap. It shares its port (SO_REUSEADDR) so that the group
// sockets of service discovery, this server's and other programs' on this host, can be bound
// beside it; and since Linux then lets a second wildcard socket on the port take every unicast
// datagram, listenUDP first refuses a port another program already serves (portHolder). The
// socket takes no multicast: that is the group sockets' job.
func listenUDP(s *Server, ap netip.AddrPort) (*endpoint, error) {
	v6 := ap.Addr().Is6() && !ap.Addr().Is4In6()
	network := "udp4"
	if v6 {
		network = "udp6"
	}
	if ap.Port() != 0 {
		holder, err := portHolder(ap)
		if err != nil {
			s.log.Debug("check who holds the port", "addr", ap.String(), "err", err)
		}
		if holder != "" {
			return nil, fmt.Errorf("listen on %s: %w: port %d is served by %s, and a second server there would take its unicast requests: give coap.listen another port", ap, syscall.EADDRINUSE, ap.Port(), holder)
		}
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			if serr != nil {
				return
			}
			if serr = onlyJoinedGroups(int(fd), v6); serr != nil {
				return
			}
			// A specific address binds even before it exists (IP_FREEBIND), so the server
			// answers on it as soon as the network configures it.
			if !ap.Addr().IsUnspecified() {
				if v6 {
					serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_FREEBIND, 1)
				} else {
					serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
				}
				if serr != nil {
					return
				}
			}
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
	return &endpoint{srv: s, conn: conn, local: netip.AddrPortFrom(local.Addr().Unmap(), local.Port()), v6: v6, wildcard: ap.Addr().IsUnspecified()}, nil
}

func (ep *endpoint) close() {
	if ep.closed.CompareAndSwap(false, true) && ep.conn != nil {
		ep.conn.Close()
	}
}

func (ep *endpoint) send(b []byte, to netip.AddrPort) {
	var err error
	if ep.secure != nil {
		_, err = ep.secure.Write(b)
	} else {
		_, err = ep.conn.WriteToUDPAddrPort(b, to)
	}
	if err != nil && !ep.closed.Load() {
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
			ep.srv.events.readFailures.Add(ep.local, err.Error())
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

// pktinfo is where a datagram arrived: its destination address and interface.
type pktinfo struct {
	dst     netip.Addr
	ifindex uint32
}

// packetDst reads IP_PKTINFO or IPV6_PKTINFO control data.
func packetDst(oob []byte) pktinfo {
	hdr := unix.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return pktinfo{}
		}
		data := oob[hdr:l]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
			return pktinfo{dst: netip.AddrFrom4(pi.Addr), ifindex: uint32(pi.Ifindex)}
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			pi := (*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
			return pktinfo{dst: netip.AddrFrom16(pi.Addr).Unmap(), ifindex: pi.Ifindex}
		}
		next := unix.CmsgSpace(l - hdr)
		if next > len(oob) {
			break
		}
		oob = oob[next:]
	}
	return pktinfo{}
}

// sourceOOB fills buf with control data that makes an answer leave from the address the
// request was sent to. A socket bound to a wildcard address otherwise lets routing pick the
// source, which on a host with two interfaces in one subnet (eth0 and wlan0) may be an
// address the client did not ask, and the client drops the answer. It returns nil when the
// kernel's choice is right: a socket bound to one address, or an answer to a multicast request.
func (ep *endpoint) sourceOOB(pi pktinfo, buf []byte) []byte {
	if !ep.wildcard || !pi.dst.IsValid() || pi.dst.IsMulticast() {
		return nil
	}
	hdr := unix.CmsgLen(0)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&buf[0]))
	if ep.v6 {
		n := unix.CmsgSpace(unix.SizeofInet6Pktinfo)
		clear(buf[:n])
		h.Level, h.Type = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO
		h.SetLen(unix.CmsgLen(unix.SizeofInet6Pktinfo))
		p := (*unix.Inet6Pktinfo)(unsafe.Pointer(&buf[hdr]))
		p.Addr, p.Ifindex = pi.dst.As16(), pi.ifindex
		return buf[:n]
	}
	n := unix.CmsgSpace(unix.SizeofInet4Pktinfo)
	clear(buf[:n])
	h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
	h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
	p := (*unix.Inet4Pktinfo)(unsafe.Pointer(&buf[hdr]))
	p.Spec_dst = pi.dst.As4()
	return buf[:n]
}

// sendFrom sends an answer from the address the request arrived at.
func (ep *endpoint) sendFrom(b []byte, to netip.AddrPort, pi pktinfo, oobBuf []byte) {
	oob := ep.sourceOOB(pi, oobBuf)
	if oob == nil || ep.secure != nil {
		ep.send(b, to)
		return
	}
	if _, _, err := ep.conn.WriteMsgUDPAddrPort(b, oob, to); err != nil && !ep.closed.Load() {
		ep.srv.log.Debug("send", "to", to.String(), "err", err)
	}
}
