package appliance

import (
	"net"
	"sort"
	"sync"

	"github.com/pigw/pigw/appliance/coap"
)

// linkStates is what the network subsystem says of each link's DHCP client.
type linkStates struct {
	mu   sync.Mutex
	dhcp map[string]string
}

func (l *linkStates) set(link, state string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dhcp[link] = state
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
	ifaces, err := net.Interfaces()
	if err != nil {
		return coap.Answer{Code: coap.Unavailable, ContentFormat: coap.NoMediaType, Payload: []byte("list links: " + err.Error())}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]link, 0, len(ifaces))
	for _, ifi := range ifaces {
		k := link{Name: ifi.Name, Up: ifi.Flags&net.FlagUp != 0, MAC: ifi.HardwareAddr.String(), MTU: ifi.MTU, Addresses: []string{}, DHCP: l.dhcp[ifi.Name]}
		if addrs, err := ifi.Addrs(); err == nil {
			for _, a := range addrs {
				k.Addresses = append(k.Addresses, a.String())
			}
		}
		sort.Strings(k.Addresses)
		out = append(out, k)
	}
	return coap.Answer{Code: coap.Content, ContentFormat: coap.AppJSON, Payload: marshal(out)}
}
