package coap

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// Observation is a client's observe registration (RFC 7641): notifications go to its
// function in order until Cancel, the context's end, or the session's close.
type Observation struct {
	s     *Session
	req   Request
	token []byte
	fn    func(Response)
	done  chan struct{}

	mu   sync.Mutex // held while a notification is delivered, so they arrive in order
	seq  uint32
	at   time.Time
	have bool
}

// Observe registers for changes of path; fn gets the current representation and then every
// notification, Block2 bodies reassembled. The registration ends with ctx or Cancel.
func (s *Session) Observe(ctx context.Context, path string, fn func(Response)) (*Observation, error) {
	req := NewRequest(GET, path)
	if err := req.check(); err != nil {
		return nil, err
	}
	o := &Observation{s: s, req: req, token: randomToken(), fn: fn, done: make(chan struct{})}
	s.mu.Lock()
	s.observing[string(o.token)] = o
	s.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	resp := s.roundTrip(rctx, &req, o.token, wire{mid: s.nextMID(), observe: 0})
	cancel()
	if resp.Err == nil && resp.Code.Class() != 2 {
		resp.Err = fmt.Errorf("observe %s on %s: %s", path, s.peer, resp.Code)
	}
	if resp.Err != nil {
		o.forget()
		return nil, resp.Err
	}
	o.notify(resp)
	if _, ok := resp.uintOption(message.Observe); !ok {
		o.forget() // the server does not notify: this was the only answer
		return o, nil
	}
	go func() {
		select {
		case <-ctx.Done():
			o.Cancel()
		case <-o.done:
		}
	}()
	return o, nil
}

// Done is closed when the observation has ended.
func (o *Observation) Done() <-chan struct{} { return o.done }

// Cancel deregisters (GET with Observe 1, RFC 7641 §3.6) and stops the notifications. A lost
// deregistration is caught too: the next notification for the token gets an RST.
func (o *Observation) Cancel() {
	if !o.forget() {
		return
	}
	msg, err := o.s.build(&Request{Method: GET, Path: o.req.Path, NonConfirmable: true, ContentFormat: NoMediaType, Accept: NoMediaType},
		o.token, wire{mid: o.s.nextMID(), observe: 1})
	if err == nil {
		_, _ = o.s.conn.Write(msg)
	}
}

// forget removes the registration; it reports whether it was still there.
func (o *Observation) forget() bool {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	if o.s.observing[string(o.token)] != o {
		return false
	}
	delete(o.s.observing, string(o.token))
	close(o.done)
	return true
}

// notify takes a notification (or the registration's answer); one whose Block2 body is
// incomplete is fetched whole first, off the session's reader, which must stay free to
// receive the blocks.
func (o *Observation) notify(r Response) {
	if v, ok := r.uintOption(message.Block2); ok {
		if _, _, more, err := blockwise.DecodeBlockOption(v); err == nil && more {
			go o.complete(r)
			return
		}
	}
	o.offer(r)
}

func (o *Observation) complete(first Response) {
	ctx, cancel := context.WithTimeout(o.s.ctx, o.s.opts.Timeout)
	defer cancel()
	req := o.req
	o.offer(o.s.rest(ctx, &req, randomToken(), first))
}

// offer delivers r if it is newer than the last delivered (RFC 7641 §3.4); the check and the
// call are one step, so notifications reach fn in order, one at a time. One without Observe
// and not 2.xx (a 4.04 after DELETE) ends the observation.
func (o *Observation) offer(r Response) {
	seq, hasSeq := r.uintOption(message.Observe)
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if hasSeq && o.have && !newer(o.seq, seq, o.at, now) {
		return
	}
	if hasSeq {
		o.seq, o.at, o.have = seq, now, true
	}
	r.Peer = o.s.String()
	o.fn(r)
	if !hasSeq && r.Code.Class() != 2 {
		o.forget()
	}
}

// newer is RFC 7641 §3.4: v2 is fresher than v1 in 24-bit serial arithmetic, or came more
// than 128 s later.
func newer(v1, v2 uint32, t1, t2 time.Time) bool {
	return (v1 < v2 && v2-v1 < 1<<23) || (v1 > v2 && v1-v2 > 1<<23) || t2.After(t1.Add(128*time.Second))
}
