package vmtest

// A card that boots like a Pi: before every boot the harness does what the Pi's firmware does
// with the boot partition (reads config.txt and the command line file it names, or after a
// reboot with the "tryboot" argument, tryboot.txt, once), boots that command line on QEMU's
// virt machine, and boots again whenever the guest reboots (a reset, a panic with panic=N, a
// watchdog), until the test ends or cuts the power. Updates need all of this: root= on the
// card decides which root runs, and a trial that fails must end on a reboot nobody asks for.

import (
	"cmp"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/freeport"
	"github.com/pigw/pigw/internal/pifw"
)

// CardOptions describe a card and the board it boots in.
type CardOptions struct {
	ImageOptions // Image is the card; Cmdline is ignored (the card's own is used)
	// Board is whose config.txt sections count: pifw.Pi3B when zero.
	Board pifw.Board
	// EditCmdline, when set, changes each boot's command line (to shorten panic=10, say).
	EditCmdline func(string) string
	// MaxBoots ends the test as failed after this many boots (default 20): a boot loop.
	MaxBoots int
}

// CardBoot is one boot of a card.
type CardBoot struct {
	N       int // from 1
	Cmdline string
	Tryboot bool   // booted from tryboot.txt
	Ended   string // "" while running; "reboot", "tryboot reboot", "power off", "power cut", "failed: ..."
	VM      *VM
}

// Card is a card in a board that reboots it.
type Card struct {
	t     testing.TB
	o     CardOptions
	ports map[int]int // the same host ports on every boot
	tcp   map[int]int

	bootMu sync.Mutex // held while a boot starts and while the power is cut

	mu      sync.Mutex
	boots   []*CardBoot
	off     bool          // the power is off: no more boots
	changed chan struct{} // closed and replaced on every change
}

// StartCard boots the card and keeps rebooting it; it returns once the first boot printed on
// its console.
func StartCard(t testing.TB, o CardOptions) *Card {
	t.Helper()
	o.complete(t)
	if o.Board.Model == "" {
		o.Board = pifw.Pi3B
	}
	if o.MaxBoots == 0 {
		o.MaxBoots = 20
	}
	c := &Card{t: t, o: o, changed: make(chan struct{})}
	var err error
	if c.ports, err = freePorts(o.ForwardUDP, freeport.UDP); err == nil {
		c.tcp, err = freePorts(o.ForwardTCP, freeport.TCP)
	}
	if err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	t.Cleanup(c.Kill)
	if err := c.PowerOn(); err != nil {
		t.Fatal(err)
	}
	return c
}

// HostAddr is the host address forwarded to guestPort, the same on every boot.
func (c *Card) HostAddr(guestPort int) string { return fmt.Sprintf("127.0.0.1:%d", c.ports[guestPort]) }

// PowerOn boots the card from a powered-off state: the tryboot flag does not survive that.
func (c *Card) PowerOn() error {
	c.mu.Lock()
	c.off = false
	c.mu.Unlock()
	return c.boot(false)
}

// boot starts the next boot and a goroutine that waits for its end.
func (c *Card) boot(tryboot bool) error {
	c.bootMu.Lock()
	defer c.bootMu.Unlock()
	c.mu.Lock()
	n, off := len(c.boots)+1, c.off
	c.mu.Unlock()
	if off {
		return nil
	}
	if n > c.o.MaxBoots {
		return fmt.Errorf("vmtest: card booted %d times: a boot loop?", c.o.MaxBoots)
	}
	dir, err := os.MkdirTemp("", "vmcard")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files, err := pifw.CardBootFS(c.o.Image, dir)
	if err != nil {
		return fmt.Errorf("vmtest: card: %w", err)
	}
	cmdline, err := pifw.VirtCmdline(files, c.o.Board, tryboot)
	if err != nil {
		return fmt.Errorf("vmtest: card boot %d: %w", n, err)
	}
	if c.o.EditCmdline != nil {
		cmdline = c.o.EditCmdline(cmdline)
	}
	o := c.o.ImageOptions
	o.Cmdline = cmdline
	vm := newVM(c.t, nil, nil)
	vm.ports, vm.tcp = c.ports, c.tcp
	b := &CardBoot{N: n, Cmdline: cmdline, Tryboot: tryboot, VM: vm}
	c.mu.Lock()
	c.boots = append(c.boots, b)
	c.signal()
	c.mu.Unlock()
	if err := vm.start(qemuARM64, vm.imageArgs(o), o.StartTimeout); err != nil {
		c.ended(b, "failed: "+err.Error())
		return err
	}
	go c.watch(b)
	return nil
}

// watch waits for a boot's end and boots again unless the power went off.
func (c *Card) watch(b *CardBoot) {
	<-b.VM.done
	console := b.VM.Console()
	b.VM.mu.Lock()
	killed := b.VM.killed
	b.VM.mu.Unlock()
	switch {
	case killed:
		c.ended(b, "power cut")
		return
	case strings.Contains(console, "reboot: Power down"):
		c.ended(b, "power off")
		return
	case strings.Contains(console, "Restarting system with command '0 tryboot'"):
		c.ended(b, "tryboot reboot")
	default:
		c.ended(b, "reboot")
	}
	c.mu.Lock()
	off := c.off
	c.mu.Unlock()
	if off {
		return
	}
	if err := c.boot(b.Ended == "tryboot reboot"); err != nil {
		c.t.Errorf("vmtest: card: %v", err)
		c.mu.Lock()
		c.off = true
		c.signal()
		c.mu.Unlock()
	}
}

func (c *Card) ended(b *CardBoot, why string) {
	c.mu.Lock()
	b.Ended = why
	c.signal()
	c.mu.Unlock()
}

// signal wakes the waiters; c.mu is held.
func (c *Card) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Kill cuts the power: the running boot is killed and no other follows until PowerOn.
func (c *Card) Kill() {
	c.bootMu.Lock()
	defer c.bootMu.Unlock()
	c.mu.Lock()
	c.off = true
	c.signal()
	if len(c.boots) == 0 {
		c.mu.Unlock()
		return
	}
	last := c.boots[len(c.boots)-1]
	c.mu.Unlock()
	last.VM.Kill()
	for { // until the watcher has seen the end
		c.mu.Lock()
		ended, ch := last.Ended != "", c.changed
		c.mu.Unlock()
		if ended {
			return
		}
		<-ch
	}
}

// Boots are the boots so far.
func (c *Card) Boots() []CardBoot {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]CardBoot, len(c.boots))
	for i, b := range c.boots {
		out[i] = *b
	}
	return out
}

// VM is the current (last) boot's QEMU.
func (c *Card) VM() *VM {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.boots[len(c.boots)-1].VM
}

// WaitBoot waits until boot n has begun and returns it; wait on its VM for what it prints.
func (c *Card) WaitBoot(n int, timeout time.Duration) (CardBoot, error) {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		count, off, ch := len(c.boots), c.off, c.changed
		var b CardBoot
		if count >= n {
			b = *c.boots[n-1]
		}
		c.mu.Unlock()
		switch {
		case count >= n:
			return b, nil
		case off:
			return b, fmt.Errorf("vmtest: card powered off after %d boots, waiting for boot %d", count, n)
		}
		select {
		case <-ch:
		case <-deadline:
			return b, fmt.Errorf("vmtest: no boot %d within %v (%d boots)", n, timeout, count)
		}
	}
}

// Console is every boot's console, each after a line naming the boot.
func (c *Card) Console() string {
	var b strings.Builder
	for _, boot := range c.Boots() {
		fmt.Fprintf(&b, "=== boot %d (tryboot %v, %s): %s\n%s\n", boot.N, boot.Tryboot, cmp.Or(boot.Ended, "running"), boot.Cmdline, boot.VM.Console())
	}
	return b.String()
}
