package appliance

import (
	"log/slog"
	"net/netip"

	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/mdns"
)

// newMDNS returns the mDNS responder of cfg (see mdnsConfig).
func newMDNS(cfg *config.Config, version string, httpPort int, log *slog.Logger) (*mdns.Responder, error) {
	c := mdnsConfig(cfg, version, boardModel(), httpPort)
	c.Log = log
	return mdns.New(c)
}

// mdnsConfig is what pigw announces: <hostname>.local, CoAP at the port of the first listen
// address that is not loopback, coaps likewise when DTLS is on, and the status page at
// httpPort (0: no page); version and board in the TXT records.
func mdnsConfig(cfg *config.Config, version, board string, httpPort int) mdns.Config {
	coapPort := lanPort(cfg.CoAP.Listen)
	var services []mdns.Service
	if coapPort != 0 {
		services = append(services, mdns.Service{Type: "_coap._udp", Port: coapPort})
	}
	if cfg.CoAP.DTLS != nil {
		if p := lanPort(cfg.CoAP.DTLS.Listen); p != 0 {
			services = append(services, mdns.Service{Type: "_coaps._udp", Port: p})
		}
	}
	if httpPort != 0 {
		services = append(services, mdns.Service{Type: "_http._tcp", Port: httpPort})
	}
	if version == "" {
		version = "unknown"
	}
	return mdns.Config{
		Hostname: cfg.System.Hostname,
		Instance: mdns.InstanceName(cfg.System.Hostname, coapPort),
		Services: services,
		TXT:      []string{"version=" + version, "board=" + board},
	}
}

// lanPort is the port of the first address in listen that a peer on the LAN can reach (not
// loopback), 0 when there is none.
func lanPort(listen []string) int {
	for _, l := range listen {
		if ap, err := netip.ParseAddrPort(l); err == nil && !ap.Addr().IsLoopback() {
			return int(ap.Port())
		}
	}
	return 0
}
