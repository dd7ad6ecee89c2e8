package mdns

import (
	"fmt"
	"net/netip"

	"golang.org/x/net/dns/dnsmessage"
)

// cacheFlush is the top bit of a record's class: the record replaces what caches hold for
// its name and type (RFC 6762 §10.2), for the records only this host owns.
const cacheFlush = 1 << 15

// announcement is the unsolicited response that announces cfg on a link with addrs: the
// host's addresses, and for each service the PTR records a browser asks for, SRV and TXT;
// with bye, the same records with TTL 0: the goodbye.
func announcement(cfg Config, addrs []netip.Addr, bye bool) ([]byte, error) {
	host := cfg.Hostname + ".local."
	instance := cfg.Instance
	if instance == "" {
		instance = cfg.Hostname
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{Response: true, Authoritative: true})
	b.EnableCompression()
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	hdr := func(name string, ttl uint32, flush bool) (dnsmessage.ResourceHeader, error) {
		n, err := dnsmessage.NewName(name)
		class := dnsmessage.ClassINET
		if flush {
			class |= cacheFlush
		}
		return dnsmessage.ResourceHeader{Name: n, Class: class, TTL: ttl}, err
	}
	var errs []error
	add := func(name string, ttl uint32, flush bool, body func(dnsmessage.ResourceHeader) error) {
		h, err := hdr(name, ttl, flush)
		if err == nil {
			err = body(h)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("record %s: %w", name, err))
		}
	}
	unique, shared := uint32(hostTTL), uint32(browseTTL)
	if bye {
		unique, shared = 0, 0
	}
	for _, a := range addrs {
		if a.Is4() {
			add(host, unique, true, func(h dnsmessage.ResourceHeader) error { return b.AResource(h, dnsmessage.AResource{A: a.As4()}) })
		} else {
			add(host, unique, true, func(h dnsmessage.ResourceHeader) error {
				return b.AAAAResource(h, dnsmessage.AAAAResource{AAAA: a.As16()})
			})
		}
	}
	txt := cfg.TXT
	if len(txt) == 0 {
		txt = []string{""} // a TXT record holds at least one string (RFC 6763 §6.1)
	}
	for _, s := range cfg.Services {
		svc := s.Type + ".local."
		inst := instance + "." + svc
		typ, err := dnsmessage.NewName(svc)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", s.Type, err)
		}
		target, err := dnsmessage.NewName(inst)
		if err != nil {
			return nil, fmt.Errorf("instance %q: %w", inst, err)
		}
		hostName, err := dnsmessage.NewName(host)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", host, err)
		}
		add("_services._dns-sd._udp.local.", shared, false, func(h dnsmessage.ResourceHeader) error {
			return b.PTRResource(h, dnsmessage.PTRResource{PTR: typ})
		})
		add(svc, shared, false, func(h dnsmessage.ResourceHeader) error { return b.PTRResource(h, dnsmessage.PTRResource{PTR: target}) })
		add(inst, unique, true, func(h dnsmessage.ResourceHeader) error {
			return b.SRVResource(h, dnsmessage.SRVResource{Target: hostName, Port: uint16(s.Port)})
		})
		add(inst, unique, true, func(h dnsmessage.ResourceHeader) error { return b.TXTResource(h, dnsmessage.TXTResource{TXT: txt}) })
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return b.Finish()
}

// families says which address families are among addrs.
func families(addrs []netip.Addr) (v4, v6 bool) {
	for _, a := range addrs {
		v4 = v4 || a.Is4()
		v6 = v6 || a.Is6()
	}
	return v4, v6
}
