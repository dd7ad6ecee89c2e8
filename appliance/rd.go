package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/registration"
)

// rdRegistrar keeps pigw registered with a CoRE Resource Directory (RFC 9176), so that clients
// beyond the LAN, which multicast discovery does not reach, find its resources by a lookup.
// A directory that cannot be reached, or lists no registration resource, is retried with a
// back-off and shown in /sys/rd, not returned to the supervisor: a directory that is down
// must not count against the appliance's health (an update on trial would roll back).
type rdRegistrar struct {
	cfg      config.RD
	endpoint string
	srv      *coap.Server
	coap     config.CoAP // for the base URI: where pigw's resources are served
	client   *coap.Client
	res      *coap.Resource // /sys/rd
	regs     *registrations // the status page's
	log      *slog.Logger
}

func newRDRegistrar(cfg *config.Config, srv *coap.Server, regs *registrations, log *slog.Logger) (*rdRegistrar, error) {
	r := &rdRegistrar{cfg: cfg.RD, endpoint: cfg.RD.EndpointName(cfg.System.Hostname), srv: srv, coap: cfg.CoAP,
		client: coap.NewClient(log), regs: regs, log: log}
	var err error
	r.res, err = srv.AddResource("sys/rd", coap.WithMediaType(coap.AppJSON), coap.WithMethods(coap.GET), coap.WithETag(),
		coap.WithAttribute("rt", "pigw.rd"), coap.WithHidden())
	if err != nil {
		return nil, err
	}
	r.publish(idleState(cfg.RD.Server, r.endpoint, cfg.RD.Lifetime))
	return r, nil
}

func (r *rdRegistrar) Name() string { return "rd" }

func (r *rdRegistrar) publish(st registration.State) {
	_ = r.res.SetValue(marshal(st))
	r.regs.set("rd", st)
}

// Run registers pigw's public resources (those /.well-known/core lists) at the directory's
// registration resource and keeps the registration until ctx is done.
func (r *rdRegistrar) Run(ctx context.Context) error {
	return keepRegistered(ctx, r.log, idleState(r.cfg.Server, r.endpoint, r.cfg.Lifetime), r.publish, r.register)
}

// register finds the directory's registration resource and keeps the registration until ctx
// is done (nil), or returns why it could not begin.
func (r *rdRegistrar) register(ctx context.Context) error {
	s, err := r.dial()
	if err != nil {
		return err
	}
	keep := &sessionKeeper{client: r.client, dial: r.dial, s: s}
	defer keep.close()
	path, err := rdRegistrationPath(ctx, s)
	if err != nil {
		return err
	}
	base, err := r.baseURI(s.Peer())
	if err != nil {
		return err
	}
	reg, err := registration.New(registration.Config{
		Conn: s, Reconnect: keep.reconnect, Server: r.cfg.Server, Path: path, Endpoint: r.endpoint,
		Params:   []string{"base=" + base},
		Lifetime: time.Duration(r.cfg.Lifetime),
		Links:    func() []byte { return []byte(r.srv.LinkFormat()) },
		Logger:   r.log, OnChange: r.publish,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A new address: base= in an Update at once, when it moved the base URI.
	peer := s.Peer()
	go followAddresses(ctx, r.log, func() {
		if b, err := r.baseURI(peer); err == nil {
			reg.SetParam("base", b)
		}
	})
	r.log.Info("registering with the resource directory", "server", r.cfg.Server, "path", path, "endpoint", r.endpoint, "base", base)
	return reg.Run(ctx)
}

// dial opens a session to the directory, over DTLS for coaps.
func (r *rdRegistrar) dial() (*coap.Session, error) {
	_, host, port := r.cfg.Parsed()
	return dialServer(r.client, host, port, r.cfg.Identity, r.cfg.PSK)
}

// rdRegistrationPath asks the directory where it takes registrations: the first link of
// /.well-known/core?rt=core.rd (RFC 9176, section 4.3).
func rdRegistrationPath(ctx context.Context, s *coap.Session) (string, error) {
	resp, err := s.Do(ctx, coap.NewRequest(coap.GET, ".well-known/core?rt=core.rd"))
	if err != nil {
		return "", fmt.Errorf("GET /.well-known/core?rt=core.rd: %w", err)
	}
	if resp.Code != coap.Content {
		return "", fmt.Errorf("GET /.well-known/core?rt=core.rd: %v, want 2.05 with the registration resource", resp.Code)
	}
	target, _, _ := strings.Cut(string(resp.Payload), ">")
	path, ok := strings.CutPrefix(target, "</")
	if !ok || path == "" || strings.Contains(path, "://") {
		return "", fmt.Errorf("GET /.well-known/core?rt=core.rd: %q lists no registration resource (a link such as </rd>)", resp.Payload)
	}
	return path, nil
}

// baseURI is where clients that look pigw up reach its resources: the address pigw sends
// from towards the directory (the registration's own socket has an ephemeral port, so the
// directory must not take the source address; RFC 9176, section 5), and the port pigw serves
// CoAP on there (coaps when plain CoAP is not served on that address).
func (r *rdRegistrar) baseURI(directory netip.AddrPort) (string, error) {
	// A connected UDP socket learns the source address routing picks; nothing is sent.
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(directory))
	if err != nil {
		return "", fmt.Errorf("the route to %s: %w", directory, err)
	}
	defer c.Close()
	local := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	scheme, port := "coap", servedPort(r.coap.Listen, local)
	if port == 0 && r.coap.DTLS != nil {
		scheme, port = "coaps", servedPort(r.coap.DTLS.Listen, local)
	}
	if port == 0 {
		return "", fmt.Errorf("nothing to register: no coap.listen address serves %s, the address pigw reaches the directory from", local)
	}
	return scheme + "://" + netip.AddrPortFrom(local, port).String(), nil
}

// servedPort returns the port of the first listen address that takes datagrams to local:
// local itself, or the wildcard of its family (pigw's [::] sockets are IPv6 only); 0 when
// none does.
func servedPort(listen []string, local netip.Addr) uint16 {
	for _, l := range listen {
		ap, err := netip.ParseAddrPort(l)
		if err != nil {
			continue
		}
		a := ap.Addr()
		if a.WithZone("") == local.WithZone("") || (a.IsUnspecified() && a.Is4() == local.Is4()) {
			return ap.Port()
		}
	}
	return 0
}
