package appliance

import (
	"net"
	"sort"
	"sync"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/network/dhcp4"
	"github.com/pigw/pigw/appliance/web"
)

// linkStates is what the network subsystem says of each link's DHCP client and lease.
type linkStates struct {
	mu       sync.Mutex
	dhcp     map[string]string
	leases   map[string]web.Lease
	onChange func() // may be nil
}

func newLinkStates(onChange func()) *linkStates {
	return &linkStates{dhcp: map[string]string{}, leases: map[string]web.Lease{}, onChange: onChange}
}

func (l *linkStates) set(link, state string) {
	l.mu.Lock()
	l.dhcp[link] = state
	l.mu.Unlock()
	l.changed()
}

// setLease keeps the lease a link's DHCP client applied (ok), or forgets it (it ended).
func (l *linkStates) setLease(link string, le dhcp4.Lease, ok bool) {
	l.mu.Lock()
	if ok {
		wl := web.Lease{Address: le.Address.String(), Server: le.Server.String(), Expires: le.Expiry().UTC()}
		if le.Router.IsValid() {
			wl.Router = le.Router.String()
		}
		for _, d := range le.DNS {
			wl.DNS = append(wl.DNS, d.String())
		}
		l.leases[link] = wl
	} else {
		delete(l.leases, link)
	}
	l.mu.Unlock()
	l.changed()
}

func (l *linkStates) changed() {
	if l.onChange != nil {
		l.onChange()
	}
}

// links is every link with its flags and addresses, read live, the state of its DHCP client
// and its lease.
func (l *linkStates) links() ([]web.Link, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]web.Link, 0, len(ifaces))
	for _, ifi := range ifaces {
		k := web.Link{Name: ifi.Name, Up: ifi.Flags&net.FlagUp != 0, MAC: ifi.HardwareAddr.String(), MTU: ifi.MTU, Addresses: []string{}, DHCP: l.dhcp[ifi.Name]}
		if le, ok := l.leases[ifi.Name]; ok {
			k.Lease = &le
		}
		if addrs, err := ifi.Addrs(); err == nil {
			for _, a := range addrs {
				k.Addresses = append(k.Addresses, a.String())
			}
		}
		sort.Strings(k.Addresses)
		out = append(out, k)
	}
	return out, nil
}

// netInfo answers GET /sys/network: every link with its flags and addresses, read live, and
// the state of its DHCP client.
func (l *linkStates) netInfo(coap.Incoming) coap.Answer {
	type link struct {
		Name      string   `json:"name"`
		Up        bool     `json:"up"`
		MAC       string   `json:"mac,omitempty"`
		MTU       int      `json:"mtu"`
		Addresses []string `json:"addresses"`
		DHCP      string   `json:"dhcp,omitempty"`
	}
	links, err := l.links()
	if err != nil {
		return coap.Answer{Code: coap.Unavailable, ContentFormat: coap.NoMediaType, Payload: []byte("list links: " + err.Error())}
	}
	out := make([]link, 0, len(links))
	for _, k := range links {
		out = append(out, link{Name: k.Name, Up: k.Up, MAC: k.MAC, MTU: k.MTU, Addresses: k.Addresses, DHCP: k.DHCP})
	}
	return coap.Answer{Code: coap.Content, ContentFormat: coap.AppJSON, Payload: marshal(out)}
}
