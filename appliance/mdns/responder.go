package mdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/logging"
	pmdns "github.com/pion/mdns/v2"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// responder is pion's responder started on a set of links, with the sockets it was given.
type responder struct {
	r      *Responder
	links  []link
	conn   *pmdns.Conn
	p4     *ipv4.PacketConn
	p6     *ipv6.PacketConn
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start starts a responder on links and announces on them.
func (r *Responder) start(ctx context.Context, links []link) (*responder, error) {
	p4, p6, err := listen(r.log)
	if err != nil {
		return nil, err
	}
	ifaces := make([]net.Interface, len(links))
	for i, l := range links {
		ifaces[i] = l.ifi
	}
	opts := []pmdns.ServerOption{
		pmdns.WithName("pigw"),
		pmdns.WithLocalNames(r.cfg.Hostname + ".local"),
		pmdns.WithInterfaces(ifaces...),
		pmdns.WithLoggerFactory(debugLog{r.log}),
	}
	txt := make([]pmdns.TXTEntry, len(r.cfg.TXT))
	for i, e := range r.cfg.TXT {
		k, v, _ := strings.Cut(e, "=")
		txt[i] = pmdns.NewTXTString(k, v)
	}
	for _, s := range r.cfg.Services {
		opts = append(opts, pmdns.WithService(pmdns.ServiceInstance{Instance: r.cfg.Instance, Service: s.Type, Port: uint16(s.Port), Text: txt}))
	}
	conn, err := pmdns.NewServer(p4, p6, opts...)
	if err != nil {
		closeAll(p4, p6)
		return nil, fmt.Errorf("start the mDNS responder on %s: %w", linkNames(links), err)
	}
	ctx, cancel := context.WithCancel(ctx)
	cur := &responder{r: r, links: links, conn: conn, p4: p4, p6: p6, cancel: cancel}
	cur.wg.Go(func() { cur.announce(ctx) })
	return cur, nil
}

// listen opens the mDNS sockets: port 5353 on the wildcard address with SO_REUSEADDR (which
// Go sets for a multicast address), so that other responders on the host keep working. One
// family missing (IPv6 off in the kernel) is not an error.
func listen(log *slog.Logger) (*ipv4.PacketConn, *ipv6.PacketConn, error) {
	var p4 *ipv4.PacketConn
	var p6 *ipv6.PacketConn
	l4, err4 := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(224, 0, 0, 0), Port: 5353})
	if err4 == nil {
		p4 = ipv4.NewPacketConn(l4)
		_ = p4.SetMulticastTTL(255) // RFC 6762 §11
	}
	l6, err6 := net.ListenUDP("udp6", &net.UDPAddr{IP: net.ParseIP("ff02::"), Port: 5353})
	if err6 == nil {
		p6 = ipv6.NewPacketConn(l6)
		_ = p6.SetMulticastHopLimit(255)
	}
	switch {
	case err4 != nil && err6 != nil:
		return nil, nil, fmt.Errorf("listen on port 5353: %w", errors.Join(err4, err6))
	case err4 != nil:
		log.Debug("mdns: IPv6 only", "err", err4)
	case err6 != nil:
		log.Debug("mdns: IPv4 only", "err", err6)
	}
	return p4, p6, nil
}

func closeAll(p4 *ipv4.PacketConn, p6 *ipv6.PacketConn) {
	if p4 != nil {
		p4.Close()
	}
	if p6 != nil {
		p6.Close()
	}
}

// announce sends the announcement twice, a second apart.
func (c *responder) announce(ctx context.Context) {
	for i := range 2 {
		if i > 0 {
			t := time.NewTimer(announceGap)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		c.send(false)
	}
}

// send announces every record on every link, or says goodbye.
func (c *responder) send(bye bool) {
	for _, l := range c.links {
		pkt, err := announcement(c.r.cfg, l.addrs, bye)
		if err != nil {
			c.r.log.Warn("mdns: announcement not built", "link", l.ifi.Name, "err", err)
			continue
		}
		has4, has6 := families(l.addrs)
		if has4 && c.p4 != nil {
			_, err = c.p4.WriteTo(pkt, &ipv4.ControlMessage{IfIndex: l.ifi.Index}, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353})
			c.r.log.Debug("mdns: announced", "link", l.ifi.Name, "family", "IPv4", "goodbye", bye, "err", err)
		}
		if has6 && c.p6 != nil {
			_, err = c.p6.WriteTo(pkt, &ipv6.ControlMessage{IfIndex: l.ifi.Index}, &net.UDPAddr{IP: net.ParseIP("ff02::fb"), Port: 5353})
			c.r.log.Debug("mdns: announced", "link", l.ifi.Name, "family", "IPv6", "goodbye", bye, "err", err)
		}
	}
}

// stop stops the responder, saying goodbye first when bye is true.
func (c *responder) stop(bye bool) {
	c.cancel()
	c.wg.Wait()
	if bye {
		c.send(true)
	}
	if err := c.conn.Close(); err != nil {
		c.r.log.Debug("mdns: close", "err", err)
	}
}

// debugLog is pion's logger factory: everything at Debug, since every warning pion logs is
// about one packet, which any peer on the LAN can send as often as it likes.
type debugLog struct{ log *slog.Logger }

func (d debugLog) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{d.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (p pionLogger) Trace(string)              {}
func (p pionLogger) Tracef(string, ...any)     {}
func (p pionLogger) Debug(msg string)          { p.log.Debug(msg) }
func (p pionLogger) Debugf(f string, a ...any) { p.logf(f, a) }
func (p pionLogger) Info(msg string)           { p.log.Debug(msg) }
func (p pionLogger) Infof(f string, a ...any)  { p.logf(f, a) }
func (p pionLogger) Warn(msg string)           { p.log.Debug(msg) }
func (p pionLogger) Warnf(f string, a ...any)  { p.logf(f, a) }
func (p pionLogger) Error(msg string)          { p.log.Debug(msg) }
func (p pionLogger) Errorf(f string, a ...any) { p.logf(f, a) }
func (p pionLogger) logf(f string, a []any) {
	if p.log.Enabled(context.Background(), slog.LevelDebug) {
		p.log.Debug(fmt.Sprintf(f, a...))
	}
}
