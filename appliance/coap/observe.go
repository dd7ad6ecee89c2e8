package coap

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// Observe (RFC 7641). Each resource keeps its observers; the notifier counts them against the
// limit, sends notifications, retransmits confirmable ones, and drops an observer that
// answers with RST or stops answering.

// RFC 7252 §4.8 transmission parameters.
const (
	ackTimeout     = 2 * time.Second
	maxRetransmit  = 4
	conAtLeastOnce = 24 * time.Hour // a notification is confirmable at least this often (RFC 7641 §4.5)
)

type observerKey struct {
	peer  netip.AddrPort
	token string
}

type observer struct {
	key     observerKey
	ep      *endpoint
	token   []byte
	accept  MediaType // NoMediaType: any
	szx     blockwise.SZX
	block   bool // registered with a Block2 option: notifications are block-wise too
	sent    int
	lastCON time.Time
	lastMID uint16
}

// observerSet is a resource's observers and notification state.
type observerSet struct {
	mu      sync.Mutex
	m       map[observerKey]*observer
	seq     uint32
	last    time.Time
	delayed *time.Timer // pending notification held back by the minimum interval
	held    bool        // a change waits for delayed

	pmin, pmax time.Duration // the resource's own periods (SetObservePeriods)
	periodic   *time.Timer   // sends again after pmax without a notification
	periodGen  uint64        // tells the current periodic timer from stopped ones
}

// pendingCON is a confirmable notification waiting for its ACK.
type pendingCON struct {
	r       *Resource
	o       *observer
	msg     []byte
	tries   int
	timeout time.Duration
	timer   *time.Timer
}

type notifier struct {
	srv   *Server
	mu    sync.Mutex
	total int
	byMID map[dedupKey]*pendingCON // the last notification sent to each observer
}

func newNotifier(s *Server) *notifier {
	return &notifier{srv: s, byMID: make(map[dedupKey]*pendingCON)}
}

// register adds o to r's observers, or refreshes it; it returns the sequence number for the
// answer, and false when the observer limit is reached.
func (n *notifier) register(r *Resource, o *observer) (uint32, bool) {
	r.obs.mu.Lock()
	defer r.obs.mu.Unlock()
	if old, ok := r.obs.m[o.key]; ok {
		old.accept, old.szx, old.block, old.ep = o.accept, o.szx, o.block, o.ep
		return r.obs.seq, true
	}
	n.mu.Lock()
	if n.total >= n.srv.cfg.Limits.MaxObservers {
		n.mu.Unlock()
		return 0, false
	}
	n.total++
	n.mu.Unlock()
	if r.obs.m == nil {
		r.obs.m = make(map[observerKey]*observer)
	}
	o.lastCON = time.Now()
	r.obs.m[o.key] = o
	n.observedLocked(r, o.lastCON)
	return r.obs.seq, true
}

func (n *notifier) deregister(r *Resource, key observerKey) {
	r.obs.mu.Lock()
	o, ok := r.obs.m[key]
	if ok {
		delete(r.obs.m, key)
		r.obs.idleLocked()
	}
	r.obs.mu.Unlock()
	if ok {
		n.forget(o)
	}
}

// forget drops what the notifier holds for a removed observer.
func (n *notifier) forget(o *observer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.total--
	k := dedupKey{peer: o.key.peer, mid: o.lastMID}
	if p, ok := n.byMID[k]; ok && p.o == o {
		if p.timer != nil {
			p.timer.Stop()
		}
		delete(n.byMID, k)
	}
}

// observers counts the registrations, for /sys and tests.
func (n *notifier) observers() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.total
}

// changed is called after r's state changed: every observer gets the new representation,
// unless the minimum interval holds notifications back, in which case the latest state is
// sent when it ends.
func (r *Resource) changed() {
	if fn := r.srv.onChange.Load(); fn != nil {
		(*fn)(r)
	}
	r.srv.notify.changed(r)
}

func (n *notifier) changed(r *Resource) {
	r.obs.mu.Lock()
	defer r.obs.mu.Unlock()
	n.changedLocked(r)
}

// changedLocked notifies, or holds the notification back; r.obs.mu is held.
func (n *notifier) changedLocked(r *Resource) {
	if len(r.obs.m) == 0 {
		return
	}
	now := time.Now()
	if min := max(n.srv.cfg.Observe.MinInterval, r.obs.pmin); min > 0 {
		if since := now.Sub(r.obs.last); since < min {
			r.obs.held = true
			if r.obs.delayed == nil {
				r.obs.delayed = time.AfterFunc(min-since, func() {
					r.obs.mu.Lock()
					defer r.obs.mu.Unlock()
					r.obs.delayed = nil
					if r.obs.held { // not sent meanwhile by pmax
						n.changedLocked(r)
					}
				})
			}
			return
		}
	}
	r.obs.last, r.obs.held = now, false
	r.obs.seq = (r.obs.seq + 1) & 0xffffff
	if _, live := r.representation(); !live {
		return
	}
	for _, o := range r.obs.m {
		p, _ := r.representationFor(o.accept)
		rep := newReply()
		if o.accept != NoMediaType && p.mediaType != NoMediaType && o.accept != p.mediaType {
			rep.fail(codes.NotAcceptable, "")
			delete(r.obs.m, o.key)
			n.send(r, o, rep, false, now)
			n.forget(o)
			continue
		}
		p.fill(rep, blockRequest{set: o.block, szx: o.szx})
		rep.setUint(message.Observe, r.obs.seq)
		o.sent++
		con := now.Sub(o.lastCON) >= conAtLeastOnce || !n.srv.cfg.Observe.NonConfirmable && o.sent%n.srv.cfg.Observe.ConEvery == 0
		n.send(r, o, rep, con, now)
	}
	n.armPeriodicLocked(r)
}

// terminate tells r's observers that it is gone (4.04 without Observe, RFC 7641 §3.2) and
// drops them.
func (n *notifier) terminate(r *Resource) {
	r.obs.mu.Lock()
	defer r.obs.mu.Unlock()
	now := time.Now()
	for k, o := range r.obs.m {
		rep := newReply()
		rep.fail(codes.NotFound, "")
		n.send(r, o, rep, false, now)
		delete(r.obs.m, k)
		n.forget(o)
	}
	r.obs.idleLocked()
}

// send encodes and sends one notification; a confirmable one replaces any notification still
// unacknowledged for the observer and inherits its retransmission state (RFC 7641 §4.5.2).
func (n *notifier) send(r *Resource, o *observer, rep *reply, con bool, now time.Time) {
	typ := message.NonConfirmable
	if con {
		typ = message.Confirmable
		o.lastCON = now
	}
	mid := n.srv.nextMID()
	buf := make([]byte, 1300)
	msg := rep.encode(typ, mid, o.token, &buf)
	if msg == nil {
		return
	}
	n.mu.Lock()
	prev := n.byMID[dedupKey{peer: o.key.peer, mid: o.lastMID}]
	if prev != nil && prev.o == o {
		delete(n.byMID, dedupKey{peer: o.key.peer, mid: o.lastMID})
		if prev.timer != nil {
			prev.timer.Stop()
		}
	}
	at := n.srv.ackTimeout
	p := &pendingCON{r: r, o: o, msg: msg, timeout: at + rand.N(at/2)}
	if prev != nil && prev.o == o && prev.timer != nil {
		p.tries, p.timeout = prev.tries, prev.timeout
	}
	o.lastMID = mid
	n.byMID[dedupKey{peer: o.key.peer, mid: mid}] = p
	if con {
		p.timer = time.AfterFunc(p.timeout, func() { n.retransmit(p, mid) })
	}
	n.mu.Unlock()
	o.ep.send(msg, o.key.peer)
}

// retransmit resends an unacknowledged notification with exponential back-off, and drops the
// observer after MAX_RETRANSMIT attempts.
func (n *notifier) retransmit(p *pendingCON, mid uint16) {
	k := dedupKey{peer: p.o.key.peer, mid: mid}
	n.mu.Lock()
	if n.byMID[k] != p {
		n.mu.Unlock()
		return
	}
	if p.tries >= maxRetransmit {
		n.mu.Unlock()
		n.srv.log.Debug("observer timed out", "uri", p.r.uri, "peer", p.o.key.peer.String())
		n.deregister(p.r, p.o.key)
		return
	}
	p.tries++
	p.timeout *= 2
	p.timer = time.AfterFunc(p.timeout, func() { n.retransmit(p, mid) })
	n.mu.Unlock()
	p.o.ep.send(p.msg, p.o.key.peer)
}

// answered handles an ACK or RST from a peer: an ACK settles a confirmable notification, an
// RST to any notification cancels the observation.
func (n *notifier) answered(peer netip.AddrPort, mid uint16, reset bool) {
	k := dedupKey{peer: peer, mid: mid}
	n.mu.Lock()
	p := n.byMID[k]
	if p != nil && p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	n.mu.Unlock()
	if p != nil && reset {
		n.deregister(p.r, p.o.key)
	}
}

// dropAll forgets every observer, when the server stops: their sockets are gone, and a
// client observing a restarted server registers again.
func (n *notifier) dropAll() {
	for _, r := range n.srv.Resources() {
		r.obs.mu.Lock()
		for k, o := range r.obs.m {
			delete(r.obs.m, k)
			n.forget(o)
		}
		r.obs.idleLocked()
		r.obs.mu.Unlock()
	}
}

// markRemoved is the end of a resource removed outside a DELETE request.
func (r *Resource) markRemoved() {
	r.mu.Lock()
	r.removed = true
	r.mu.Unlock()
	r.srv.notify.terminate(r)
}
