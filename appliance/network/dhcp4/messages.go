package dhcp4

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/insomniacslk/dhcp/iana"
)

// broadcast is where DISCOVER and the REQUESTs of SELECTING, REBOOTING and REBINDING go.
var broadcast = &net.UDPAddr{IP: net.IPv4bcast, Port: nclient4.ServerPort}

func serverAddr(a netip.Addr) *net.UDPAddr {
	return &net.UDPAddr{IP: a.AsSlice(), Port: nclient4.ServerPort}
}

// requested are the options asked for (option 55).
var requested = []dhcpv4.OptionCode{
	dhcpv4.OptionSubnetMask,
	dhcpv4.OptionRouter,
	dhcpv4.OptionDomainNameServer,
	dhcpv4.OptionHostName,
	dhcpv4.OptionDomainName,
	dhcpv4.OptionIPAddressLeaseTime,
	dhcpv4.OptionRenewTimeValue,
	dhcpv4.OptionRebindingTimeValue,
}

// message builds a message of this exchange; now sets its secs field.
func (c *Client) message(now time.Time, typ dhcpv4.MessageType, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	secs := min(max(now.Sub(c.started)/time.Second, 0), 0xffff)
	m := &dhcpv4.DHCPv4{
		OpCode:        dhcpv4.OpcodeBootRequest,
		HWType:        iana.HWTypeEthernet, // also what Wi-Fi uses
		TransactionID: c.xid,
		NumSeconds:    uint16(secs),
		ClientIPAddr:  net.IPv4zero,
		YourIPAddr:    net.IPv4zero,
		ServerIPAddr:  net.IPv4zero,
		GatewayIPAddr: net.IPv4zero,
		ClientHWAddr:  c.hw,
		Options:       dhcpv4.Options{},
	}
	dhcpv4.WithMessageType(typ)(m)
	dhcpv4.WithOption(dhcpv4.OptClientIdentifier(c.clientID))(m)
	if typ != dhcpv4.MessageTypeRelease {
		dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(maxMessage))(m)
		dhcpv4.WithRequestedOptions(requested...)(m)
		if c.cfg.Hostname != "" {
			dhcpv4.WithOption(dhcpv4.OptHostName(c.cfg.Hostname))(m)
		}
	}
	for _, mod := range mods {
		mod(m)
	}
	return m
}

func (c *Client) discoverMsg(now time.Time) *dhcpv4.DHCPv4 {
	return c.message(now, dhcpv4.MessageTypeDiscover)
}

// selectingRequest takes c.offer (RFC 2131 §4.3.2, SELECTING).
func (c *Client) selectingRequest(now time.Time) *dhcpv4.DHCPv4 {
	return c.message(now, dhcpv4.MessageTypeRequest,
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(c.offer.YourIPAddr)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(c.offer.ServerIdentifier())))
}

// rebootRequest asks for c.lease's address again (INIT-REBOOT): requested IP, no server
// identifier, no ciaddr.
func (c *Client) rebootRequest(now time.Time) *dhcpv4.DHCPv4 {
	return c.message(now, dhcpv4.MessageTypeRequest,
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(c.lease.Address.Addr().AsSlice())))
}

// renewRequest extends l (RENEWING and REBINDING): ciaddr, no requested IP, no server
// identifier.
func (c *Client) renewRequest(now time.Time, l Lease) *dhcpv4.DHCPv4 {
	return c.message(now, dhcpv4.MessageTypeRequest, dhcpv4.WithClientIP(l.Address.Addr().AsSlice()))
}

func (c *Client) releaseMsg(l Lease) *dhcpv4.DHCPv4 {
	return c.message(c.started, dhcpv4.MessageTypeRelease,
		dhcpv4.WithClientIP(l.Address.Addr().AsSlice()),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(l.Server.AsSlice())))
}

// send sends m; a failure is logged, and the retransmission timer tries again.
func (c *Client) send(ctx context.Context, m *dhcpv4.DHCPv4, to *net.UDPAddr) {
	c.log.Debug("DHCP send", "type", m.MessageType(), "to", to, "attempt", c.attempt)
	if err := c.tr.Send(ctx, m, to); err != nil {
		c.log.Warn("DHCP send failed", "type", m.MessageType(), "err", err)
	}
}
