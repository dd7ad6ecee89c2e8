package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pigw/pigw/appliance/network/dhcp4"
	"github.com/pigw/pigw/internal/wait"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// dhcpLink keeps one interface's DHCP lease applied: the address, the default route through the
// server's router (with the link's metric, so wired wins over WiFi), and the DNS servers. The
// lease is kept in LeaseDir, so after a reboot the client asks for the same address again.
func (s *Static) dhcpLink(ctx context.Context, ifc Interface) {
	var prev *dhcp4.Lease
	switch l, err := s.loadLease(ifc.Name); {
	case err == nil:
		prev = &l
	case !errors.Is(err, fs.ErrNotExist):
		s.log.Warn("DHCP lease file not used: asking for a new lease", "link", ifc.Name, "err", err)
	}
	backoff := time.Second
	for ctx.Err() == nil {
		if _, err := s.h.LinkByName(ifc.Name); err != nil {
			s.setDHCP(ifc.Name, "no-link")
			if !wait.Sleep(ctx, 2*time.Second) {
				return
			}
			continue
		}
		c, err := dhcp4.New(dhcp4.Config{
			Interface: ifc.Name, Hostname: s.cfg.Hostname, Previous: prev, Release: true, Logger: s.log,
			OnBound:   func(l dhcp4.Lease) { s.bound(ifc, l) },
			OnExpired: func(l dhcp4.Lease) { s.expired(ifc, l) },
			OnState:   func(st string) { s.setDHCP(ifc.Name, st) },
		})
		if err == nil {
			start := time.Now()
			err = c.Run(ctx)
			if time.Since(start) > time.Minute {
				backoff = time.Second
			}
			if l, ok := c.Lease(); ok {
				prev = &l
			}
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("DHCP client stopped; starting again", "link", ifc.Name, "err", err, "in", backoff)
		if !wait.Sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, time.Minute)
	}
}

func (s *Static) bound(ifc Interface, l dhcp4.Lease) {
	var errs []error
	if link, err := s.h.LinkByName(ifc.Name); err != nil {
		errs = append(errs, err)
	} else {
		if err := s.h.AddrReplace(link, &netlink.Addr{IPNet: prefixNet(l.Address)}); err != nil {
			errs = append(errs, fmt.Errorf("address %s: %w", l.Address, err))
		}
		if l.Router.IsValid() {
			r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: prefixNet(netip.PrefixFrom(netip.IPv4Unspecified(), 0)),
				Gw: l.Router.AsSlice(), Priority: ifc.Metric}
			if err := s.h.RouteReplace(r); err != nil {
				errs = append(errs, fmt.Errorf("default route via %s: %w", l.Router, err))
			}
		}
	}
	s.mu.Lock()
	s.leaseDNS[ifc.Name] = l.DNS
	s.mu.Unlock()
	if err := s.writeResolvConf(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Error("DHCP lease not applied", "link", ifc.Name, "lease", l.String(), "err", err)
		return
	}
	s.log.Info("DHCP lease", "link", ifc.Name, "address", l.Address.String(), "router", l.Router.String(), "expires", l.Expiry().UTC().Format(time.RFC3339))
	if err := s.saveLease(ifc.Name, l); err != nil {
		s.log.Warn("DHCP lease not saved", "link", ifc.Name, "err", err)
	}
	if s.cfg.OnLease != nil {
		s.cfg.OnLease(ifc.Name, l, true)
	}
}

func (s *Static) expired(ifc Interface, l dhcp4.Lease) {
	if link, err := s.h.LinkByName(ifc.Name); err == nil {
		if err := s.h.AddrDel(link, &netlink.Addr{IPNet: prefixNet(l.Address)}); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			s.log.Warn("DHCP address not removed", "link", ifc.Name, "err", err)
		}
	}
	s.mu.Lock()
	delete(s.leaseDNS, ifc.Name)
	s.mu.Unlock()
	_ = s.writeResolvConf()
	s.log.Warn("DHCP lease ended: address removed", "link", ifc.Name, "address", l.Address.String())
	if s.cfg.OnLease != nil {
		s.cfg.OnLease(ifc.Name, l, false)
	}
}

func (s *Static) setDHCP(link, state string) {
	s.mu.Lock()
	changed := s.dhcpState[link] != state
	s.dhcpState[link] = state
	s.mu.Unlock()
	if changed && s.cfg.OnDHCP != nil {
		s.cfg.OnDHCP(link, state)
	}
}

// resolvers are the static DNS servers, then those of every lease, without repeats.
func (s *Static) resolvers() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.cfg.DNS)
	links := make([]string, 0, len(s.leaseDNS))
	for l := range s.leaseDNS {
		links = append(links, l)
	}
	slices.Sort(links)
	for _, l := range links {
		for _, a := range s.leaseDNS[l] {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func (s *Static) leaseFile(link string) string {
	return filepath.Join(s.cfg.LeaseDir, "dhcp-"+link+".json")
}

func (s *Static) loadLease(link string) (dhcp4.Lease, error) {
	if s.cfg.LeaseDir == "" {
		return dhcp4.Lease{}, os.ErrNotExist
	}
	path := s.leaseFile(link)
	b, err := os.ReadFile(path)
	if err != nil {
		return dhcp4.Lease{}, err
	}
	l, err := decodeLease(b)
	if err != nil {
		return dhcp4.Lease{}, fmt.Errorf("lease file %s: %w", path, err)
	}
	return l, nil
}

// decodeLease reads what saveLease wrote. The file is on /perm, where a power cut during
// the write, a damaged card or a hand edit leave what they leave: a lease that would not
// validate is an error, never a previous lease the client asks for or uses.
func decodeLease(b []byte) (dhcp4.Lease, error) {
	var l dhcp4.Lease
	if err := json.Unmarshal(b, &l); err != nil {
		return dhcp4.Lease{}, err
	}
	if err := l.Validate(); err != nil {
		return dhcp4.Lease{}, err
	}
	return l, nil
}

func (s *Static) saveLease(link string, l dhcp4.Lease) error {
	if s.cfg.LeaseDir == "" {
		return nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	tmp := s.leaseFile(link) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.leaseFile(link))
}
