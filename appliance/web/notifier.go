package web

import "sync"

// Notifier tells any number of waiters that something changed: each gets a channel from C
// that Notify closes. It is the Changed of a Source.
type Notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// C returns a channel closed at the next Notify.
func (n *Notifier) C() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

// Notify wakes every waiter.
func (n *Notifier) Notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
