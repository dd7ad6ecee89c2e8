package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pion/logging"
	pmdns "github.com/pion/mdns/v2"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// How discover found a server.
const (
	viaCoAP = "coap" // it answered the multicast GET /.well-known/core
	viaMDNS = "mdns" // it announces _coap._udp or _coaps._udp over mDNS
)

// mdnsTypes are the DNS-SD service types of CoAP servers.
var mdnsTypes = []string{"_coap._udp", "_coaps._udp"}

// announcedServer is a CoAP service found over mDNS.
type announcedServer struct {
	at       netip.AddrPort
	instance string // as the server announces it, such as "pigw-kitchen"
	service  string // _coap._udp or _coaps._udp
}

// browseMDNS browses for the CoAP service types on ifaces for wait, in the background; the
// function returned waits for the end and returns what was found. A browse that cannot start (port 5353 taken, no usable link)
// is a note on stderr, and finds nothing: the CoAP half still runs.
func browseMDNS(ifaces []net.Interface, wait time.Duration, only4, only6 bool, stderr io.Writer) func() []announcedServer {
	out := make(chan []announcedServer, 1)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	var mu sync.Mutex
	seen := map[announcedServer]bool{}
	var found []announcedServer
	var wg sync.WaitGroup
	// One responder per type: pion's browse sessions on one connection track instances by
	// name alone, so that two types with one instance name (pigw's _coap._udp and
	// _coaps._udp) would hide each other.
	for _, typ := range mdnsTypes {
		conn, err := mdnsClient(ifaces, only4, only6)
		if err != nil {
			fmt.Fprintf(stderr, "discover: no mDNS browse for %s: %v\n", typ, err)
			continue
		}
		conn.OnServiceDiscovered(func(e pmdns.ServiceEvent) {
			a := announcedServer{netip.AddrPortFrom(e.Addr.Unmap(), e.Instance.Port), e.Instance.Instance, e.Instance.Service}
			if (only4 && !a.at.Addr().Is4()) || (only6 && a.at.Addr().Is4()) {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if !seen[a] {
				seen[a] = true
				found = append(found, a)
			}
		})
		if err := conn.Browse(ctx, typ); err != nil {
			fmt.Fprintf(stderr, "discover: no mDNS browse for %s: %v\n", typ, err)
			conn.Close()
			continue
		}
		wg.Go(func() {
			<-ctx.Done()
			conn.Close()
		})
	}
	go func() {
		<-ctx.Done()
		wg.Wait()
		cancel()
		mu.Lock()
		defer mu.Unlock()
		out <- found
	}()
	return func() []announcedServer { return <-out }
}

// mdnsClient opens a pion connection that only asks: no names, no services.
func mdnsClient(ifaces []net.Interface, only4, only6 bool) (*pmdns.Conn, error) {
	var p4 *ipv4.PacketConn
	var p6 *ipv6.PacketConn
	if !only6 {
		if c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(224, 0, 0, 0), Port: 5353}); err == nil {
			p4 = ipv4.NewPacketConn(c)
		}
	}
	if !only4 {
		if c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.ParseIP("ff02::"), Port: 5353}); err == nil {
			p6 = ipv6.NewPacketConn(c)
		}
	}
	if p4 == nil && p6 == nil {
		return nil, errors.New("cannot listen on UDP port 5353")
	}
	conn, err := pmdns.NewServer(p4, p6, pmdns.WithInterfaces(ifaces...), pmdns.WithLoggerFactory(&logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled}))
	if err != nil {
		if p4 != nil {
			p4.Close()
		}
		if p6 != nil {
			p6.Close()
		}
		return nil, err
	}
	return conn, nil
}

// addAnnounced adds to servers what was found over mDNS: the name of those that answered
// CoAP too, and the others with no resources (none when a --query filters them: nothing is
// known of their resources).
func addAnnounced(servers map[netip.AddrPort]*found, announced []announcedServer, filtered bool) {
	for _, a := range announced {
		f := servers[a.at]
		if f == nil {
			if filtered {
				continue
			}
			f = &found{Host: a.at.Addr().String(), Port: a.at.Port(), Resources: []coap.Link{}}
			servers[a.at] = f
		}
		if f.Name == "" {
			f.Name, f.Service = a.instance, a.service
			f.Via = append(f.Via, viaMDNS)
		}
	}
}
