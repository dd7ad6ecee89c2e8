package coap

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// listenGroup opens a socket bound to an All-CoAP-Nodes group address and port, on one link
// for a link-local group (ifindex; 0 otherwise). Bound to the group rather than to the
// wildcard address, it takes the group's datagrams and nothing else: every pigw on the host,
// whatever its own port, can hold one on port 5683 beside the wildcard socket of the server
// that owns that port, and none of them takes another's unicast requests. The net package
// cannot bind a multicast address (it binds the wildcard instead), so the socket is made here.
func listenGroup(s *Server, group netip.Addr, port uint16, ifindex int) (*endpoint, error) {
	v6 := group.Is6()
	family := unix.AF_INET
	var sa unix.Sockaddr
	if v6 {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(port), Addr: group.As16(), ZoneId: uint32(ifindex)}
	} else {
		sa = &unix.SockaddrInet4{Port: int(port), Addr: group.As4()}
	}
	local := netip.AddrPortFrom(group, port)
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("socket for %s: %w", local, err)
	}
	opts := func() error {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return fmt.Errorf("SO_REUSEADDR: %w", err)
		}
		if err := onlyJoinedGroups(fd, v6); err != nil {
			return err
		}
		if v6 {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
				return fmt.Errorf("IPV6_V6ONLY: %w", err)
			}
			return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
		}
		return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
	}
	if err := opts(); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("socket for %s: %w", local, err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", local, err)
	}
	f := os.NewFile(uintptr(fd), "coap-group")
	pc, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("socket for %s: %w", local, err)
	}
	conn := pc.(*net.UDPConn)
	_ = conn.SetReadBuffer(1 << 18)
	return &endpoint{srv: s, conn: conn, local: local, v6: v6, group: true}, nil
}

// onlyJoinedGroups turns IP_MULTICAST_ALL (IPV6_MULTICAST_ALL) off. On, the Linux default, a
// socket gets the datagrams of every group any socket on the host joined, as long as the
// port matches; off, only those of groups it joined itself.
func onlyJoinedGroups(fd int, v6 bool) error {
	if v6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0); err != nil {
			return fmt.Errorf("IPV6_MULTICAST_ALL: %w", err)
		}
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0); err != nil {
		return fmt.Errorf("IP_MULTICAST_ALL: %w", err)
	}
	return nil
}
