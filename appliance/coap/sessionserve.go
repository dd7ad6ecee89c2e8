package coap

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// sessionServer is what a serving session hands requests to: an endpoint of srv that answers
// through the session's socket, and a worker that only the session's reading goroutine uses.
type sessionServer struct {
	srv *Server
	ep  *endpoint
	w   *worker
}

// Serve makes the session answer, with srv's resources, the requests that arrive on its
// socket from its peer, through the same socket or DTLS connection. An LwM2M server reads,
// writes, executes and observes its clients this way: over the address they registered from,
// since a client behind a NAT or a firewall has no other. Pings and the peer's ACK or RST of
// srv's notifications go to srv too. Without Serve a session rejects requests with RST, as a
// plain client does.
//
// From then on the session takes its message IDs from srv, so that an ACK from the peer
// settles exactly one message: a request of the session or a notification of srv. Observers
// registered through the session are dropped when it closes. srv usually has no sockets of its
// own (Config.SessionsOnly); run its Serve as well, for what every server runs beside its
// sockets (the expiry of unfinished Block1 uploads, the event log). A session serves one
// server, once.
func (s *Session) Serve(srv *Server) error {
	if srv == nil {
		return fmt.Errorf("session to %s: serve: no server", s)
	}
	if s.ctx.Err() != nil {
		return fmt.Errorf("session to %s: serve: %w", s, ErrClosed)
	}
	ep := &endpoint{srv: srv, local: udpAddrPort(s.conn.LocalAddr())}
	if pc, ok := s.conn.(*peerConn); ok {
		ep.conn = pc.UDPConn // answers go to the peer, whose address is every request's source
	} else {
		// DTLS: the server's identity is not the client's to know, so Incoming.Identity is
		// empty; Incoming.Secure is true.
		ep.secure = s.conn
	}
	ss := &sessionServer{srv: srv, ep: ep, w: newWorkerSized(ep, 0)} // the session reads
	if !s.serving.CompareAndSwap(nil, ss) {
		return fmt.Errorf("session to %s: serve: %w", s, errServing)
	}
	return nil
}

var errServing = errors.New("the session serves a server already")

// forServer reports whether a datagram from the peer is the server's to answer: a request, a
// ping, or an ACK or RST whose message ID is not one of the session's requests waiting for
// its ACK. Responses and notifications are the session's.
func (s *Session) forServer(b []byte) bool {
	if len(b) < 4 || b[0]>>6 != 1 {
		return false
	}
	typ, code := message.Type(b[0]>>4&3), codes.Code(b[1])
	if typ == message.Acknowledgement || typ == message.Reset {
		s.mu.Lock()
		_, mine := s.byMID[binary.BigEndian.Uint16(b[2:4])]
		s.mu.Unlock()
		return !mine
	}
	return code>>5 == 0 // a request, or Empty: a ping
}

// stopServing ends serving when the session closes: what srv sends through the session from
// now on is dropped quietly, and its observers registered through the session go (a new
// session, a new registration, gets observed again).
func (s *Session) stopServing() {
	ss := s.serving.Load()
	if ss == nil {
		return
	}
	ss.ep.closed.Store(true)
	ss.srv.notify.dropEndpoint(ss.ep)
}

// dropEndpoint forgets the observers that registered through ep.
func (n *notifier) dropEndpoint(ep *endpoint) {
	for _, r := range n.srv.Resources() {
		r.obs.mu.Lock()
		for k, o := range r.obs.m {
			if o.ep == ep {
				delete(r.obs.m, k)
				n.forget(o)
			}
		}
		r.obs.idleLocked()
		r.obs.mu.Unlock()
	}
}
