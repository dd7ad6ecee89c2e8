package coap

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// worker holds the buffers one reading goroutine reuses for every datagram.
type worker struct {
	srv  *Server
	ep   *endpoint
	rbuf []byte
	oob  []byte
	soob []byte // control data for the answer's source address
	wbuf []byte
	path []byte
	in   message.Message
	rep  *reply
}

const maxDatagram = 65536

func newWorker(ep *endpoint) *worker { return newWorkerSized(ep, maxDatagram) }

func newWorkerSized(ep *endpoint, readBuffer int) *worker {
	return &worker{
		srv: ep.srv, ep: ep,
		rbuf: make([]byte, readBuffer), oob: make([]byte, 128), soob: make([]byte, 128), wbuf: make([]byte, 1500),
		path: make([]byte, 0, 256),
		in:   message.Message{Options: make(message.Options, 0, 64)},
		rep:  newReply(),
	}
}

// request is a decoded request and where it came from.
type request struct {
	msg       *message.Message
	peer      netip.AddrPort
	multicast bool
	path      []byte // Uri-Path segments joined by '/', valid until the next datagram
}

// packet handles one datagram: classifies it, deduplicates it and answers it.
func (w *worker) packet(pkt []byte, from netip.AddrPort, pi pktinfo) {
	if len(pkt) < 4 || pkt[0]>>6 != 1 {
		w.srv.events.malformed.Add(from, "not a CoAP version 1 message")
		return // silently ignored (RFC 7252 §3)
	}
	typ := message.Type(pkt[0] >> 4 & 3)
	code := codes.Code(pkt[1])
	mid := binary.BigEndian.Uint16(pkt[2:4])
	multicast := pi.dst.IsMulticast()
	if multicast != w.ep.group {
		return // group sockets take multicast only, and the others are not in any group
	}
	switch {
	case typ == message.Acknowledgement || typ == message.Reset:
		w.srv.notify.answered(from, mid, typ == message.Reset)
		return
	case code == codes.Empty || code>>5 != 0:
		// A ping, or a response nobody asked for: a CON one is rejected with RST.
		if typ == message.Confirmable && !multicast {
			w.ep.sendFrom(emptyMessage(message.Reset, mid, w.wbuf), from, pi, w.soob)
		}
		return
	case multicast && (typ == message.Confirmable || !w.srv.cfg.ServiceDiscovery):
		return // multicast requests must be NON (RFC 7252 §8.1)
	}
	key := dedupKey{peer: from, mid: mid}
	now := time.Now()
	switch st, n := w.srv.dedup.begin(key, now, w.wbuf); st {
	case dedupInProgress:
		return
	case dedupAnswered:
		if n > 0 && typ == message.Confirmable {
			w.ep.sendFrom(w.wbuf[:n], from, pi, w.soob)
		}
		return
	}
	answer, after := w.answer(pkt, typ, mid, from, multicast)
	w.srv.dedup.finish(key, answer)
	if answer != nil {
		if multicast {
			w.srv.sendAfterLeisure(w.ep, pi, answer, from)
		} else {
			w.ep.sendFrom(answer, from, pi, w.soob)
		}
	}
	if after != nil {
		after()
	}
}

// answer decodes and serves a request; it returns the encoded answer (nil for none) and
// work to run once the answer is sent.
func (w *worker) answer(pkt []byte, typ message.Type, mid uint16, from netip.AddrPort, multicast bool) ([]byte, func()) {
	if _, err := coder.DefaultCoder.Decode(pkt, &w.in); err != nil {
		// A message format error: a CON one is rejected with RST, a NON one ignored.
		w.srv.events.malformed.Add(from, err.Error())
		if typ == message.Confirmable {
			return emptyMessage(message.Reset, mid, w.wbuf), nil
		}
		return nil, nil
	}
	rq := request{msg: &w.in, peer: from, multicast: multicast}
	w.rep.reset()
	after := w.serve(&rq, w.rep)
	if isRejection(w.rep.code) {
		w.srv.events.rejected.AddBytes(from, w.rep.payload)
	}
	if suppressed(&rq, w.rep.code) {
		return nil, after
	}
	rtyp, rmid := message.Acknowledgement, mid
	if typ == message.NonConfirmable {
		rtyp, rmid = message.NonConfirmable, w.srv.nextMID()
	}
	return w.rep.encode(rtyp, rmid, w.in.Token, &w.wbuf), after
}

// suppressed reports answers that must not be sent: errors to multicast requests (RFC 7252
// §8.2) and classes the client waived with No-Response (RFC 7967).
func suppressed(rq *request, code codes.Code) bool {
	class := code >> 5
	if rq.multicast && class != 2 {
		return true
	}
	v, err := rq.msg.Options.GetUint32(message.NoResponse)
	if err != nil {
		return false
	}
	switch class {
	case 2:
		return v&2 != 0
	case 4:
		return v&8 != 0
	case 5:
		return v&16 != 0
	}
	return false
}

// sendAfterLeisure answers a multicast request that the group socket gs took after a random
// delay, so the answers of many servers spread out (RFC 7252 §8.2); a bounded number wait at
// once. The answer leaves through a unicast socket (answerer).
func (s *Server) sendAfterLeisure(gs *endpoint, pi pktinfo, answer []byte, to netip.AddrPort) {
	if s.leisure.Add(1) > 256 {
		s.leisure.Add(-1)
		return
	}
	ep := s.answerer(gs, pi)
	if ep == nil {
		s.leisure.Add(-1)
		s.log.Debug("multicast request on a link the server has no address on: not answered", "group", gs.local.String(), "from", to.String(), "ifindex", pi.ifindex)
		return
	}
	b := append([]byte(nil), answer...)
	var d time.Duration
	if s.cfg.DiscoveryLeisure > 0 {
		d = rand.N(s.cfg.DiscoveryLeisure)
	}
	time.AfterFunc(d, func() {
		defer s.leisure.Add(-1)
		ep.send(b, to)
	})
}
