package wpa

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults for the zero Dialer.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultPingInterval = 5 * time.Second
	DefaultEventBuffer  = 64
)

// maxDatagram is the largest reply or event read. wpa_supplicant's replies are
// at most a few KiB (SCAN_RESULTS is cut at 4 KiB); a datagram larger than
// the buffer would be truncated silently, so be generous.
const maxDatagram = 64 << 10

// A Dialer holds options for connecting to wpa_supplicant. The zero value is
// ready to use.
type Dialer struct {
	// LocalDir, when set, is a directory in which the client binds its
	// sockets as files (removed again by Close). When empty the client binds
	// abstract addresses, which need no file system but work only within one
	// network namespace.
	LocalDir string
	// Timeout bounds a request whose context has no deadline
	// (DefaultTimeout when zero).
	Timeout time.Duration
	// PingInterval is how often the event socket checks that wpa_supplicant
	// still answers (DefaultPingInterval when zero).
	PingInterval time.Duration
	// EventBuffer is the capacity of the Events channel (DefaultEventBuffer
	// when zero).
	EventBuffer int
	// Logf, when set, receives a line when the event monitor is lost or
	// re-attached. It is never given a key.
	Logf func(format string, args ...any)
}

// Conn is a connection to the control interface of one network interface.
// Its methods may be called from several goroutines; requests are sent one
// at a time.
type Conn struct {
	path string // ctrlDir/iface
	d    Dialer // with defaults filled in

	sem chan struct{} // held while a request is in flight; guards cmd and buf
	cmd *sock
	buf []byte

	events  chan Event
	dropped atomic.Uint64

	life      context.Context // ends with Close
	cancel    context.CancelFunc
	done      chan struct{} // closed when the event goroutine has returned
	closeOnce sync.Once
}

// Dial connects to wpa_supplicant's control socket for iface in ctrlDir with
// the zero Dialer.
func Dial(ctx context.Context, ctrlDir, iface string) (*Conn, error) {
	var d Dialer
	return d.Dial(ctx, ctrlDir, iface)
}

// Dial connects to wpa_supplicant's control socket for iface in ctrlDir (for
// example "/run/wpa_supplicant", "wlan0"), checks that it answers PING and
// attaches the event socket. ctx bounds only the dialling; the Conn lives
// until Close.
func (d Dialer) Dial(ctx context.Context, ctrlDir, iface string) (*Conn, error) {
	if iface == "" || strings.ContainsRune(iface, '/') {
		return nil, fmt.Errorf("wpa_supplicant: invalid interface name %q", iface)
	}
	if d.Timeout <= 0 {
		d.Timeout = DefaultTimeout
	}
	if d.PingInterval <= 0 {
		d.PingInterval = DefaultPingInterval
	}
	if d.EventBuffer <= 0 {
		d.EventBuffer = DefaultEventBuffer
	}
	life, cancel := context.WithCancel(context.Background())
	c := &Conn{
		path:   filepath.Join(ctrlDir, iface),
		d:      d,
		sem:    make(chan struct{}, 1),
		buf:    make([]byte, maxDatagram),
		events: make(chan Event, d.EventBuffer),
		life:   life,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	if err := c.Ping(ctx); err != nil {
		c.closeCmd()
		cancel()
		return nil, err
	}
	ev, err := c.attach(ctx)
	if err != nil {
		c.closeCmd()
		cancel()
		return nil, err
	}
	go c.monitor(ev)
	return c, nil
}

// Path is the control socket the Conn talks to.
func (c *Conn) Path() string { return c.path }

// Events delivers wpa_supplicant's unsolicited messages in the order they
// arrived, plus EventDetached and EventAttached when the monitor is lost and
// regained. The channel is closed by Close. A consumer that falls behind
// loses the oldest events; see Dropped.
func (c *Conn) Events() <-chan Event { return c.events }

// Dropped is the number of events discarded because the Events channel was
// full.
func (c *Conn) Dropped() uint64 { return c.dropped.Load() }

// Close stops the event goroutine, closes both sockets and closes the Events
// channel. A request in flight returns an error wrapping net.ErrClosed.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		c.sem <- struct{}{} // wait for a request in flight, which Close woke
		c.closeCmd()
		<-c.sem
		<-c.done
	})
	return nil
}

func (c *Conn) closeCmd() {
	if c.cmd != nil {
		c.cmd.close()
		c.cmd = nil
	}
}

// Request sends one command and returns the reply without its trailing
// newline. The context's deadline bounds the exchange (Dialer.Timeout when it
// has none). Replies "FAIL…" and "UNKNOWN COMMAND" become a *CommandError.
// Errors name the command with any secret value replaced by "***".
func (c *Conn) Request(ctx context.Context, cmd string) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.d.Timeout)
		defer cancel()
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return "", c.errorf(cmd, ctx.Err())
	}
	defer func() { <-c.sem }()
	if c.life.Err() != nil {
		return "", c.errorf(cmd, net.ErrClosed)
	}
	reply, err := c.exchange(ctx, cmd)
	if err != nil {
		return "", c.errorf(cmd, err)
	}
	if isFailure(reply) {
		return "", &CommandError{Path: c.path, Command: maskCommand(cmd), Reply: firstLine(reply)}
	}
	return reply, nil
}

// exchange sends cmd on the command socket and reads the reply. The caller
// holds c.sem. After any error the socket is dropped, so that a late reply
// can not be taken for the answer to the next command; when the write itself
// failed because wpa_supplicant went away (it restarted), the command was not
// delivered and is sent once more on a new socket.
func (c *Conn) exchange(ctx context.Context, cmd string) (string, error) {
	for attempt := 0; ; attempt++ {
		if c.cmd == nil {
			s, err := c.d.dialSock(c.path)
			if err != nil {
				return "", err
			}
			c.cmd = s
		}
		reply, sent, err := roundTrip(ctx, c.life, c.cmd.conn, c.buf, cmd)
		if err == nil {
			return reply, nil
		}
		c.closeCmd()
		if !sent && attempt == 0 && peerGone(err) && ctx.Err() == nil {
			continue
		}
		return "", err
	}
}

// roundTrip writes cmd to conn and returns the first reply that is not an
// event. sent reports whether the write succeeded.
func roundTrip(ctx, life context.Context, conn *net.UnixConn, buf []byte, cmd string) (reply string, sent bool, err error) {
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return "", false, err
	}
	wake := func() { conn.SetDeadline(time.Unix(1, 0)) }
	defer context.AfterFunc(ctx, wake)()
	defer context.AfterFunc(life, wake)()
	ctxErr := func(err error) error {
		switch {
		case life.Err() != nil:
			return net.ErrClosed
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(deadline):
			return context.DeadlineExceeded // the socket's timer fired first
		}
		return err
	}
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return "", false, ctxErr(err)
	}
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return "", true, ctxErr(err)
		}
		if n > 0 && buf[0] == '<' {
			continue // an event, though this socket is not attached
		}
		return strings.TrimSuffix(string(buf[:n]), "\n"), true, nil
	}
}

// peerGone reports whether err says the control socket no longer exists or
// no longer has its owner behind it.
func peerGone(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) ||
		errors.Is(err, syscall.ENOTCONN) || errors.Is(err, syscall.ECONNRESET)
}

func (c *Conn) errorf(cmd string, err error) error {
	return fmt.Errorf("wpa_supplicant %s: %s: %w", c.path, maskCommand(cmd), err)
}

func (c *Conn) logf(format string, args ...any) {
	if c.d.Logf != nil {
		c.d.Logf(format, args...)
	}
}
