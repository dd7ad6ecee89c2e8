package vmtest

// QEMU's machine protocol (QMP): what QEMU itself says happened to the machine. The guest's
// console cannot tell a power-off from a reboot, a panic or a watchdog reset when -no-reboot
// turns them all into QEMU's exit; QEMU's events can: SHUTDOWN carries the reason
// ("guest-shutdown", "guest-reset", "guest-panic", "host-signal"), WATCHDOG the action its
// emulated watchdog took. With Options.QMP, QEMU waits at start until the harness has
// connected, so no event is missed.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Event is one QMP event, with the time the harness read it.
type Event struct {
	Name string         `json:"event"`
	Data map[string]any `json:"data"`
	At   time.Time      `json:"-"`
}

// String is "NAME key=value ...", for messages.
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Name)
	for k, v := range e.Data {
		fmt.Fprintf(&b, " %s=%v", k, v)
	}
	return b.String()
}

// qmpSocket returns a fresh socket path for QEMU's -qmp: short enough for a Unix socket's
// 108 bytes whatever the test's name.
func qmpSocket() (dir, path string, err error) {
	dir, err = os.MkdirTemp("", "vmqmp")
	if err != nil {
		return "", "", err
	}
	return dir, filepath.Join(dir, "qmp.sock"), nil
}

// qmpArgs makes vm use QMP and returns QEMU's option for it.
func (vm *VM) qmpArgs() []string {
	dir, path, err := qmpSocket()
	if err != nil {
		vm.t.Fatalf("vmtest: %v", err)
	}
	vm.t.Cleanup(func() { os.RemoveAll(dir) })
	vm.qmpPath, vm.events.ended = path, make(chan struct{})
	return []string{"-qmp", "unix:" + path + ",server=on,wait=on"}
}

// connectQMP connects to the socket QEMU serves (it starts the guest only then), leaves the
// protocol's negotiation mode and reads events until QEMU closes the socket.
func (vm *VM) connectQMP(path string, timeout time.Duration) error {
	var c net.Conn
	var err error
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if c, err = net.Dial("unix", path); err == nil {
			break
		}
		select {
		case <-vm.done:
			return fmt.Errorf("vmtest: QEMU exited before its QMP socket took a connection (%v): %s", vm.waitErr, vm.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vmtest: QMP socket %s: %w", path, err)
		}
	}
	r := bufio.NewReader(c)
	if _, err := r.ReadBytes('\n'); err != nil { // the greeting
		c.Close()
		return fmt.Errorf("vmtest: QMP greeting: %w", err)
	}
	if _, err := c.Write([]byte(`{"execute":"qmp_capabilities"}` + "\n")); err != nil {
		c.Close()
		return fmt.Errorf("vmtest: QMP: %w", err)
	}
	go func() {
		defer close(vm.events.ended)
		defer c.Close()
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			var e Event
			if json.Unmarshal(line, &e) == nil && e.Name != "" {
				e.At = time.Now()
				vm.events.add(e)
			}
		}
	}()
	return nil
}

// Events returns QEMU's events so far (Options.QMP).
func (vm *VM) Events() []Event { return vm.events.all() }

// WaitEvent waits for QEMU's event name (Options.QMP) and returns the first one. It fails at
// once when QEMU has exited without it, and after timeout.
func (vm *VM) WaitEvent(name string, timeout time.Duration) (Event, error) {
	if vm.events.ended == nil {
		return Event{}, fmt.Errorf("vmtest: WaitEvent %s: the VM was started without Options.QMP", name)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		changed := vm.events.changed()
		for _, e := range vm.events.all() {
			if e.Name == name {
				return e, nil
			}
		}
		select {
		case <-changed:
		case <-vm.done:
			select { // the reader may still be taking QEMU's last events from the socket
			case <-vm.events.ended:
			case <-time.After(time.Second):
			}
			for _, e := range vm.events.all() {
				if e.Name == name {
					return e, nil
				}
			}
			return Event{}, fmt.Errorf("vmtest: QEMU exited (%v) without a %s event; events: %v", vm.exitErr(), name, vm.events.all())
		case <-timer.C:
			return Event{}, fmt.Errorf("vmtest: no %s event within %v; events: %v", name, timeout, vm.events.all())
		}
	}
}

// eventLog keeps the events and wakes waiters on each.
type eventLog struct {
	mu    sync.Mutex
	list  []Event
	wake  chan struct{} // closed at the next event
	ended chan struct{} // closed when QEMU closed the socket; nil without QMP
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, e)
	if l.wake != nil {
		close(l.wake)
		l.wake = nil
	}
}

// changed returns a channel closed at the next event.
func (l *eventLog) changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.wake == nil {
		l.wake = make(chan struct{})
	}
	return l.wake
}

func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.list)
}
