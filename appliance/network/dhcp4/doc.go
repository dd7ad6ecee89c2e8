// Package dhcp4 gets the appliance's IPv4 address on eth0 and wlan0 by DHCP, and keeps it.
//
// It is a DHCPv4 client state machine after RFC 2131 §4.4, with the states INIT, SELECTING,
// REQUESTING, INIT-REBOOT/REBOOTING, BOUND, RENEWING and REBINDING. The packets are built and
// parsed by github.com/insomniacslk/dhcp/dhcpv4, and on a real interface they travel over
// nclient4's raw UDP socket, which works before the interface has an address. nclient4's own
// request helpers are not used: they block with their own timeouts and retries, while a
// gateway that stays up for months needs timers it can reason about: T1, T2 and the lease's
// expiry, with retransmissions between them. The client schedules those itself, on a Clock
// that tests replace, so a test crosses T1, T2 and expiry at once.
//
// The rules that matter to the appliance:
//
//   - An address is kept while the server is away, until its lease expires: a DHCP server that
//     reboots or is unplugged for a while does not take the gateway off the network.
//   - A rebooted gateway asks for the address it had (INIT-REBOOT, from Config.Previous), and
//     if no server answers it keeps using that address for the rest of its lease, as RFC 2131
//     §4.4.2 allows.
//   - A DHCPNAK drops the address at once and starts again from INIT.
//   - The client only decides; Config.OnBound and Config.OnExpired apply and remove the
//     address (with netlink, in the appliance), so this package needs no privileges beyond
//     the raw socket, and none at all in tests.
package dhcp4
