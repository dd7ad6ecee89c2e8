package dhcp4

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Lease is an address lent by a DHCP server, and what came with it.
type Lease struct {
	Address  netip.Prefix // the address with its subnet, such as 192.168.1.23/24
	Router   netip.Addr   // the first router; invalid when the server gave none
	DNS      []netip.Addr
	Server   netip.Addr // the server identifier: where renewals and RELEASE go
	Duration time.Duration
	// T1 and T2 are when renewal (RENEWING, unicast to Server) and rebinding (REBINDING,
	// broadcast) start, from Acquired. They are 0.5 and 0.875 of Duration when the server
	// gives none, or gives times that are not in order.
	T1, T2   time.Duration
	Acquired time.Time // when the REQUEST that got the lease was sent
	Hostname string
	Domain   string
}

// Renew is when renewal starts.
func (l Lease) Renew() time.Time { return l.Acquired.Add(l.T1) }

// Rebind is when rebinding starts.
func (l Lease) Rebind() time.Time { return l.Acquired.Add(l.T2) }

// Expiry is when the address must no longer be used.
func (l Lease) Expiry() time.Time { return l.Acquired.Add(l.Duration) }

// String is for logs.
func (l Lease) String() string {
	return fmt.Sprintf("%s router %s server %s for %s", l.Address, l.Router, l.Server, l.Duration)
}

// Validate checks what applying l takes for granted: an IPv4 unicast address with a prefix
// length of 1 to 32, a router (when there is one) and DNS servers that are IPv4 unicast
// addresses, a server to renew with, and 0 < T1 < T2 < Duration. Leases from a DHCPACK pass;
// a lease read back from a file may not.
func (l Lease) Validate() error {
	a := l.Address.Addr()
	switch {
	case !l.Address.IsValid() || !a.Is4():
		return fmt.Errorf("lease address %s: not an IPv4 address with a prefix length", l.Address)
	case !unicast(a):
		return fmt.Errorf("lease address %s: not a unicast address", l.Address)
	case l.Address.Bits() < 1:
		return fmt.Errorf("lease address %s: a subnet mask of 0.0.0.0 makes every address local", l.Address)
	case l.Router.IsValid() && !unicast(l.Router):
		return fmt.Errorf("lease router %s: not an IPv4 unicast address", l.Router)
	case !unicast(l.Server):
		return fmt.Errorf("lease server %s: not an IPv4 unicast address", l.Server)
	case l.Duration <= 0:
		return fmt.Errorf("lease duration %s: must be more than 0", l.Duration)
	case !(0 < l.T1 && l.T1 < l.T2 && l.T2 < l.Duration):
		return fmt.Errorf("lease times T1 %s, T2 %s, duration %s: must be 0 < T1 < T2 < duration", l.T1, l.T2, l.Duration)
	}
	for _, d := range l.DNS {
		if !unicast(d) {
			return fmt.Errorf("lease DNS server %s: not an IPv4 unicast address", d)
		}
	}
	return nil
}

// unicast is an IPv4 address a host, router or server can have.
func unicast(a netip.Addr) bool {
	return a.Is4() && (a.IsGlobalUnicast() || a.IsLinkLocalUnicast())
}

// sameData reports whether a and b differ only in when they were acquired: a renewal that
// gives the same lease again needs nothing applied.
func sameData(a, b Lease) bool {
	return a.Address == b.Address && a.Router == b.Router && slices.Equal(a.DNS, b.DNS) &&
		a.Server == b.Server && a.Duration == b.Duration && a.T1 == b.T1 && a.T2 == b.T2 &&
		a.Hostname == b.Hostname && a.Domain == b.Domain
}

func (l Lease) clone() Lease {
	l.DNS = slices.Clone(l.DNS)
	return l
}

// parseLease reads the lease from a DHCPACK. server is used when the ACK has no server
// identifier (RFC 2131 requires one, not every server sends one in renewals).
func parseLease(ack *dhcpv4.DHCPv4, acquired time.Time, server netip.Addr) (Lease, error) {
	addr, ok := addrFrom(ack.YourIPAddr)
	if !ok || addr.IsUnspecified() {
		return Lease{}, fmt.Errorf("no address in DHCPACK (yiaddr %v)", ack.YourIPAddr)
	}
	mask := ack.SubnetMask()
	if mask == nil {
		mask = net.IP(addr.AsSlice()).DefaultMask()
	}
	ones, bits := mask.Size()
	if bits != 32 {
		return Lease{}, fmt.Errorf("subnet mask %v is not a prefix", mask)
	}
	l := Lease{
		Address:  netip.PrefixFrom(addr, ones),
		Server:   server,
		Acquired: acquired,
		Hostname: ack.HostName(),
		Domain:   ack.DomainName(),
	}
	if s, ok := addrFrom(ack.ServerIdentifier()); ok {
		l.Server = s
	}
	if !l.Server.IsValid() {
		return Lease{}, errors.New("no server identifier in DHCPACK")
	}
	// Routers and DNS servers that are not unicast addresses (0.0.0.0, a broadcast) are
	// left out rather than the whole lease: the address is still good.
	for _, ip := range ack.Router() {
		if a, ok := addrFrom(ip); ok && unicast(a) {
			l.Router = a
			break
		}
	}
	for _, ip := range ack.DNS() {
		if a, ok := addrFrom(ip); ok && unicast(a) {
			l.DNS = append(l.DNS, a)
		}
	}
	l.Duration = ack.IPAddressLeaseTime(0)
	if l.Duration <= 0 {
		return Lease{}, errors.New("no lease time in DHCPACK")
	}
	l.T1 = ack.IPAddressRenewalTime(l.Duration / 2)
	l.T2 = ack.IPAddressRebindingTime(l.Duration / 8 * 7)
	if !(0 < l.T1 && l.T1 < l.T2 && l.T2 < l.Duration) {
		l.T1, l.T2 = l.Duration/2, l.Duration/8*7
	}
	if err := l.Validate(); err != nil {
		return Lease{}, fmt.Errorf("DHCPACK: %w", err)
	}
	return l, nil
}

// addrFrom converts an IPv4 address from the packet; ok is false when there is none.
func addrFrom(ip net.IP) (netip.Addr, bool) {
	ip4 := ip.To4()
	if ip4 == nil {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(ip4)), true
}
