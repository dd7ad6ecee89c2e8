// Package mdns makes the appliance findable by name on the LAN, with nothing to set up on
// the other side: it answers <hostname>.local (A and AAAA, RFC 6762) and announces its
// services over DNS-SD (RFC 6763), so that http://pigw-kitchen.local/ opens in a browser and
// avahi-browse, a phone's service browser or pigw coap discover list the gateway without
// knowing its address.
//
// The responder is github.com/pion/mdns/v2, which answers queries but captures the links and
// their addresses once, when it starts, and never announces by itself. A gateway's links come
// and go (a USB adapter plugged in, WiFi joining, a DHCP lease), so Run follows netlink's link
// and address events, and a slow periodic check for what it missed, and starts the responder
// again on the links there are then. Each start announces every record twice, a second apart
// (RFC 6762 §8.3), so that browsers that already listen see the gateway at once; Run says
// goodbye (the records with TTL 0) when it stops. pion logs a warning for every packet it
// cannot parse, which any peer on the LAN can send: its log goes to Debug.
package mdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Service is one DNS-SD service the appliance offers.
type Service struct {
	// Type is the service type, such as "_coap._udp" or "_http._tcp".
	Type string
	Port int
}

// Config is what the responder answers and announces.
type Config struct {
	// Hostname is answered as Hostname.local: one DNS label, 1..63 letters, digits and '-'.
	Hostname string
	// Instance is the services' instance name, as browsers show it; "" means Hostname. See
	// InstanceName.
	Instance string
	Services []Service
	// TXT are the "key=value" entries of each service's TXT record, such as "version=1.4".
	TXT []string
	Log *slog.Logger
}

// Timing of the responder.
const (
	quiet        = time.Second      // links and addresses must be still this long before a restart
	recheck      = 30 * time.Second // how often links are checked without an event
	announceGap  = time.Second      // between the two announcements (RFC 6762 §8.3)
	hostTTL      = 120              // seconds, for the address, SRV and TXT records (RFC 6762 §10)
	browseTTL    = 4500             // seconds, for the PTR records
	defaultCoAP  = 5683
	maxLabel     = 63
	maxTXTString = 255
)

var (
	hostnameRule    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	serviceTypeRule = regexp.MustCompile(`^_[A-Za-z0-9]([A-Za-z0-9-]{0,13}[A-Za-z0-9])?\._(udp|tcp)$`)
)

// InstanceName is the instance name of a gateway called hostname whose plain CoAP port is
// port: the host name, and the port after it when it is not 5683, so that two pigw on one
// host announce two instances.
func InstanceName(hostname string, port int) string {
	if port == defaultCoAP || port == 0 {
		return hostname
	}
	return hostname + " (port " + strconv.Itoa(port) + ")"
}

// Responder answers and announces on every up, multicast, non-loopback link. It is a
// supervisor subsystem.
type Responder struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns a responder for it.
func New(cfg Config) (*Responder, error) {
	if cfg.Instance == "" {
		cfg.Instance = cfg.Hostname
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if !hostnameRule.MatchString(cfg.Hostname) {
		errs = append(errs, fmt.Errorf("host name %q: want 1..63 letters, digits and '-', not starting or ending with '-'", cfg.Hostname))
	}
	if cfg.Instance != cfg.Hostname && (len(cfg.Instance) > maxLabel || strings.ContainsAny(cfg.Instance, ".\\") ||
		strings.ContainsFunc(cfg.Instance, func(r rune) bool { return r < 0x20 || r == 0x7f })) {
		errs = append(errs, fmt.Errorf("instance name %q: want at most %d bytes, no '.', '\\' or control characters", cfg.Instance, maxLabel))
	}
	for _, s := range cfg.Services {
		if !serviceTypeRule.MatchString(s.Type) {
			errs = append(errs, fmt.Errorf("service type %q: want _name._udp or _name._tcp, the name 1..15 letters, digits and '-'", s.Type))
		}
		if s.Port < 1 || s.Port > 65535 {
			errs = append(errs, fmt.Errorf("service %s: port %d is not 1..65535", s.Type, s.Port))
		}
	}
	for _, e := range cfg.TXT {
		if k, _, _ := strings.Cut(e, "="); k == "" || len(e) > maxTXTString {
			errs = append(errs, fmt.Errorf("TXT entry %q: want key=value, a key that is not empty, at most %d bytes", e, maxTXTString))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("mdns: %w", err)
	}
	return &Responder{cfg: cfg, log: cfg.Log}, nil
}

// Name is the subsystem's name.
func (r *Responder) Name() string { return "mdns" }

// Run answers and announces until ctx is done, starting the responder again whenever the
// usable links or their addresses change. While no link is usable it waits for one.
func (r *Responder) Run(ctx context.Context) error {
	changes, err := watchLinks(ctx, r.log)
	if err != nil {
		return err
	}
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	var cur *responder
	defer func() {
		if cur != nil {
			cur.stop(true)
		}
	}()
	waiting := false
	for {
		links, err := usableLinks()
		switch {
		case err != nil:
			r.log.Warn("mdns: list links", "err", err)
		case cur != nil && sameLinks(cur.links, links):
		case len(links) == 0:
			if cur != nil {
				cur.stop(false)
				cur = nil
			}
			if !waiting {
				r.log.Info("mdns: no up, multicast link with an address yet; waiting for one")
				waiting = true
			}
		default:
			if cur != nil {
				cur.stop(false)
				cur = nil
			}
			if cur, err = r.start(ctx, links); err != nil {
				return err
			}
			waiting = false
			r.log.Info("mdns: answering and announcing", "name", r.cfg.Hostname+".local", "instance", r.cfg.Instance,
				"services", serviceList(r.cfg.Services), "links", linkNames(links))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changes:
		case <-tick.C:
		}
	}
}

func serviceList(ss []Service) string {
	var b strings.Builder
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s/%d", s.Type, s.Port)
	}
	return b.String()
}
