package dhcp4_test

import (
	"context"
	"log/slog"
	"os"
	"os/signal"

	"github.com/pigw/pigw/appliance/network/dhcp4"
)

// The appliance runs one client per interface as a supervised subsystem. OnBound applies the
// address, the default route and the DNS servers; OnExpired takes them away again. The lease
// is also saved, so the next boot asks for the same address (Config.Previous).
func Example() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var saved *dhcp4.Lease // in the appliance: read from and written to /perm
	c, err := dhcp4.New(dhcp4.Config{
		Interface: "eth0",
		Hostname:  "pigw",
		Previous:  saved,
		Release:   true,
		Logger:    log,
		OnBound: func(l dhcp4.Lease) {
			// netlink: AddrReplace(eth0, l.Address), a default route via l.Router with eth0's
			// metric, and l.DNS into resolv.conf.
			log.Info("apply", "address", l.Address, "router", l.Router, "dns", l.DNS)
			saved = &l
		},
		OnExpired: func(l dhcp4.Lease) {
			// netlink: AddrDel(eth0, l.Address); the kernel drops the route with it.
			log.Info("remove", "address", l.Address)
		},
	})
	if err != nil {
		log.Error("DHCP client", "err", err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := c.Run(ctx); err != nil { // raw socket on eth0: needs CAP_NET_RAW
		log.Error("DHCP client", "err", err)
	}
}
