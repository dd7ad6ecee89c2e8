package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// A found server and what its /.well-known/core lists.
type found struct {
	Host      string      `json:"host"`
	Port      uint16      `json:"port"`
	Pigw      bool        `json:"pigw"`              // it has pigw's /sys/info (rt=pigw.info)
	Name      string      `json:"name,omitempty"`    // announced over mDNS
	Service   string      `json:"service,omitempty"` // the mDNS service type: _coap._udp or _coaps._udp
	Via       []string    `json:"via"`               // coap, mdns or both
	Resources []coap.Link `json:"resources"`
	listed    bool        // its list arrived (a pigw with no public resource sends none)
}

// runDiscover sends a multicast GET /.well-known/core to the All-CoAP-Nodes groups (224.0.1.187
// and ff02::fd) on each chosen interface and lists who answers.
func runDiscover(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pigw coap discover", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	iface := fs.String("iface", "", "send on this interface only (default: every interface that is up with multicast)")
	var wait time.Duration
	fs.DurationVar(&wait, "timeout", 6*time.Second, "how long to collect answers (servers wait up to their leisure, 5 s by default)")
	fs.DurationVar(&wait, "wait", 6*time.Second, "the older name of --timeout")
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	query := fs.String("query", "", `filter such as "rt=temperature" or "href=/sensors*"`)
	only4 := fs.Bool("4", false, "IPv4 only")
	only6 := fs.Bool("6", false, "IPv6 only")
	port := fs.Int("port", coap.DefaultPort, "the servers' port")
	verbose := fs.Bool("v", false, "say what is sent where")
	noMDNS := fs.Bool("no-mdns", false, "ask CoAP only; do not list servers announced over mDNS")
	pos, err := parseInterspersed(fs, args)
	switch {
	case err != nil:
		return err
	case len(pos) > 0:
		return usagef("discover takes no arguments, got %q", pos[0])
	case wait <= 0:
		return usagef("--timeout (--wait) %s: must be more than 0", wait)
	case *port < 1 || *port > 65535:
		return usagef("--port %d: must be 1..65535", *port)
	case *only4 && *only6:
		return usagef("-4 and -6 exclude each other")
	}
	ifaces, err := multicastInterfaces(*iface)
	if err != nil {
		return err
	}
	var tok tokens
	_, _ = rand.Read(tok.list[:])
	_, _ = rand.Read(tok.info[:])
	msgs, err := discoveryRequests(tok, *query)
	if err != nil {
		return err
	}
	announced := func() []announcedServer { return nil }
	if !*noMDNS {
		announced = browseMDNS(ifaces, wait, *only4, *only6, stderr)
	}
	var conns []*net.UDPConn
	var failed []error
	for _, fam := range []struct {
		skip bool
		send func([][]byte, []net.Interface, int, bool, io.Writer) (*net.UDPConn, error)
	}{{*only6, sendDiscovery4}, {*only4, sendDiscovery6}} {
		if fam.skip {
			continue
		}
		c, err := fam.send(msgs, ifaces, *port, *verbose, stderr)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		conns = append(conns, c)
	}
	if len(conns) == 0 {
		return errors.Join(failed...)
	}
	for _, err := range failed { // one family may be off (ipv6.disable=1); the other still asks
		fmt.Fprintf(stderr, "discover: %v\n", err)
	}
	servers := collect(conns, tok, time.Now().Add(wait))
	completeLarge(servers)
	addAnnounced(servers, announced(), *query != "")
	return printFound(servers, *asJSON, stdout)
}

func multicastInterfaces(name string) ([]net.Interface, error) {
	if name != "" {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return nil, usagef("--iface %q: %v", name, err)
		}
		return []net.Interface{*ifi}, nil
	}
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var up []net.Interface
	for _, ifi := range all {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0 {
			up = append(up, ifi)
		}
	}
	if len(up) == 0 {
		return nil, errors.New("no interface is up with multicast; name one with --iface")
	}
	return up, nil
}

// tokens tell the two requests' answers apart: the list of resources, and whether the server
// is a pigw (which answers the list only when it has a public resource).
type tokens struct{ list, info [4]byte }

// discoveryRequests are GET /.well-known/core with the user's query, and, without one, a
// second GET for rt=pigw.info.
func discoveryRequests(tok tokens, query string) ([][]byte, error) {
	list, err := discoveryRequest(tok.list[:], query)
	if err != nil || query != "" {
		return [][]byte{list}, err
	}
	info, err := discoveryRequest(tok.info[:], "rt=pigw.info")
	return [][]byte{list, info}, err
}

func discoveryRequest(token []byte, query string) ([]byte, error) {
	m := message.Message{Type: message.NonConfirmable, Code: codes.GET, Token: token, MessageID: int32(token[0])<<8 | int32(token[1])}
	m.Options = m.Options.Add(message.Option{ID: message.URIPath, Value: []byte(".well-known")})
	m.Options = m.Options.Add(message.Option{ID: message.URIPath, Value: []byte("core")})
	if query != "" {
		m.Options = m.Options.Add(message.Option{ID: message.URIQuery, Value: []byte(query)})
	}
	buf := make([]byte, 256)
	n, err := coder.DefaultCoder.Encode(m, buf)
	if err != nil {
		return nil, usagef("--query %q: %v", query, err)
	}
	return buf[:n], nil
}

func sendDiscovery4(msgs [][]byte, ifaces []net.Interface, port int, verbose bool, stderr io.Writer) (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		return nil, fmt.Errorf("discover over IPv4: %w", err)
	}
	p := ipv4.NewPacketConn(c)
	_ = p.SetMulticastLoopback(true)
	to := &net.UDPAddr{IP: net.IPv4(224, 0, 1, 187), Port: port}
	for _, ifi := range ifaces {
		err := p.SetMulticastInterface(&ifi)
		for _, msg := range msgs {
			if err == nil {
				_, err = c.WriteToUDP(msg, to)
			}
		}
		note(verbose, stderr, to.String(), ifi.Name, err)
	}
	return c, nil
}

func sendDiscovery6(msgs [][]byte, ifaces []net.Interface, port int, verbose bool, stderr io.Writer) (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified})
	if err != nil {
		return nil, fmt.Errorf("discover over IPv6: %w", err)
	}
	_ = ipv6.NewPacketConn(c).SetMulticastLoopback(true)
	for _, ifi := range ifaces {
		to := &net.UDPAddr{IP: net.ParseIP("ff02::fd"), Port: port, Zone: ifi.Name}
		var err error
		for _, msg := range msgs {
			if err == nil {
				_, err = c.WriteToUDP(msg, to)
			}
		}
		note(verbose, stderr, to.String(), ifi.Name, err)
	}
	return c, nil
}

func note(verbose bool, stderr io.Writer, to, iface string, err error) {
	switch {
	case err != nil && verbose:
		fmt.Fprintf(stderr, "discover: not sent to %s on %s: %v\n", to, iface, err)
	case verbose:
		fmt.Fprintf(stderr, "discover: sent to %s on %s\n", to, iface)
	}
}

// collect reads answers until the deadline; each server counts once per address and port.
func collect(conns []*net.UDPConn, tok tokens, deadline time.Time) map[netip.AddrPort]*found {
	type answer struct {
		from netip.AddrPort
		m    *message.Message
	}
	answers := make(chan answer)
	for _, c := range conns {
		_ = c.SetReadDeadline(deadline)
		go func() {
			defer c.Close()
			buf := make([]byte, 2048)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					answers <- answer{}
					return
				}
				m := &message.Message{Options: make(message.Options, 0, 16)}
				if _, err := coder.DefaultCoder.Decode(buf[:n], m); err == nil && (string(m.Token) == string(tok.list[:]) || string(m.Token) == string(tok.info[:])) {
					// Token, options and payload point into buf, which the next datagram overwrites.
					m.Token, m.Payload = append([]byte(nil), m.Token...), append([]byte(nil), m.Payload...)
					for i := range m.Options {
						m.Options[i].Value = append([]byte(nil), m.Options[i].Value...)
					}
					answers <- answer{netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), m}
				}
			}
		}()
	}
	servers := map[netip.AddrPort]*found{}
	for open := len(conns); open > 0; {
		a := <-answers
		if a.m == nil {
			open--
			continue
		}
		info := string(a.m.Token) == string(tok.info[:])
		// Some servers answer a query that matches nothing with an empty list.
		if a.m.Code != codes.Content || (info && !strings.Contains(string(a.m.Payload), "pigw.info")) {
			continue
		}
		f := servers[a.from]
		if f == nil {
			f = &found{Host: a.from.Addr().String(), Port: a.from.Port(), Via: []string{viaCoAP}, Resources: []coap.Link{}}
			servers[a.from] = f
		}
		if info {
			f.Pigw = true
			continue
		}
		if f.listed {
			continue
		}
		f.listed = true
		if _, err := a.m.Options.GetUint32(message.Block2); err == nil {
			f.Resources = nil // fetched whole by completeLarge
		} else if rs, _ := coap.ParseLinkFormat(string(a.m.Payload)); rs != nil {
			f.Resources = rs
		}
	}
	return servers
}

// completeLarge fetches over unicast the lists that came block-wise.
func completeLarge(servers map[netip.AddrPort]*found) {
	client := coap.NewClient(slog.New(slog.DiscardHandler))
	defer client.Close()
	for ap, f := range servers {
		if f.Resources != nil {
			continue
		}
		s, err := client.NewSession(ap.String(), coap.SessionOptions{})
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if r, err := s.Do(ctx, coap.NewRequest(coap.GET, ".well-known/core")); err == nil {
			f.Resources, _ = coap.ParseLinkFormat(string(r.Payload))
		}
		cancel()
	}
}

func printFound(servers map[netip.AddrPort]*found, asJSON bool, stdout io.Writer) error {
	list := make([]*found, 0, len(servers))
	for _, f := range servers {
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := netip.MustParseAddr(list[i].Host), netip.MustParseAddr(list[j].Host)
		return a.Less(b) || (a == b && list[i].Port < list[j].Port)
	})
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(list) == 0 {
		return errors.New("no CoAP server answered")
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "HOST\tPORT\tSERVER\tVIA\tNAME\tRESOURCE\tATTRIBUTES")
	for _, f := range list {
		kind := "-"
		if f.Pigw {
			kind = "pigw"
		}
		via, name := strings.Join(f.Via, ","), cmp.Or(f.Name, "-")
		if len(f.Resources) == 0 {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t-\t\n", f.Host, f.Port, kind, via, name)
		}
		for _, l := range f.Resources {
			var attrs []string
			for _, a := range l.Attrs {
				switch _, err := strconv.ParseUint(a.Value, 10, 32); {
				case a.Value == "":
					attrs = append(attrs, a.Name)
				case err == nil:
					attrs = append(attrs, a.Name+"="+a.Value)
				default:
					attrs = append(attrs, a.Name+"="+strconv.Quote(a.Value))
				}
			}
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", f.Host, f.Port, kind, via, name, l.Href, strings.Join(attrs, " "))
		}
	}
	return w.Flush()
}
