package wpa

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// nextEvent returns the next event with one of names, skipping others.
func nextEvent(t *testing.T, c *Conn, timeout time.Duration, names ...string) Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("Events closed while waiting for %v", names)
			}
			for _, n := range names {
				if ev.Name == n {
					return ev
				}
			}
		case <-deadline:
			t.Fatalf("no %v within %v", names, timeout)
		}
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestRequest(t *testing.T) {
	f := startFake(t)
	c := dialFake(t, f, Dialer{})
	f.set(func(f *fakeSupplicant) { f.replies["BUSY"] = "FAIL-BUSY\n" })
	ctx := context.Background()
	for _, tc := range []struct {
		cmd, reply string
		is         error
		errText    string
	}{
		{cmd: "PING", reply: "PONG"},
		{cmd: "ADD_NETWORK", reply: "0"},
		{cmd: "BOGUS", is: ErrUnknownCommand, errText: "wpa_supplicant " + f.path + ": BOGUS: UNKNOWN COMMAND"},
		{cmd: "BUSY", is: ErrFailed, errText: "BUSY: FAIL-BUSY"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			reply, err := c.Request(ctx, tc.cmd)
			if tc.is == nil {
				if err != nil || reply != tc.reply {
					t.Fatalf("Request(%s) = %q, %v; want %q", tc.cmd, reply, err, tc.reply)
				}
				return
			}
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("Request(%s) error %v; want %v containing %q", tc.cmd, err, tc.is, tc.errText)
			}
		})
	}
}

func TestSetCountry(t *testing.T) {
	f := startFake(t)
	c := dialFake(t, f, Dialer{})
	for _, tc := range []struct {
		cc, sent string // sent "" means refused
	}{
		{"DE", "SET country DE"},
		{"us", "SET country US"},
		{"00", "SET country 00"},
		{"D", ""},
		{"DEU", ""},
		{"D1", ""},
		{"Ä", ""},
		{"", ""},
		{"D ", ""},
	} {
		f.resetReceived()
		err := c.SetCountry(context.Background(), tc.cc)
		got := f.commands(false)
		if tc.sent == "" {
			if err == nil || len(got) != 0 {
				t.Errorf("SetCountry(%q): err %v, sent %q", tc.cc, err, got)
			}
			continue
		}
		if err != nil || len(got) != 1 || got[0] != tc.sent {
			t.Errorf("SetCountry(%q): err %v, sent %q, want %q", tc.cc, err, got, tc.sent)
		}
	}
}

func TestSimpleCommands(t *testing.T) {
	f := startFake(t)
	c := dialFake(t, f, Dialer{})
	ctx := context.Background()
	for _, tc := range []struct {
		call func() error
		want string
	}{
		{func() error { return c.Scan(ctx) }, "SCAN"},
		{func() error { return c.Reconnect(ctx) }, "RECONNECT"},
		{func() error { return c.Reassociate(ctx) }, "REASSOCIATE"},
		{func() error { return c.Disconnect(ctx) }, "DISCONNECT"},
		{func() error { return c.SelectNetwork(ctx, 2) }, "SELECT_NETWORK 2"},
		{func() error { return c.EnableNetwork(ctx, 3) }, "ENABLE_NETWORK 3"},
		{func() error { return c.DisableNetwork(ctx, 4) }, "DISABLE_NETWORK 4"},
		{func() error { return c.Terminate(ctx) }, "TERMINATE"},
	} {
		f.resetReceived()
		if err := tc.call(); err != nil {
			t.Errorf("%s: %v", tc.want, err)
		}
		if got := f.commands(false); len(got) != 1 || got[0] != tc.want {
			t.Errorf("sent %q, want %q", got, tc.want)
		}
	}
	if err := c.RemoveNetwork(ctx, 1); !errors.Is(err, ErrUnknownCommand) {
		t.Errorf("RemoveNetwork on the fake: %v", err)
	}
}

func TestDialErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := Dial(ctx, dir, "wlan0")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "wlan0")) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing socket: %v", err)
	}
	for _, iface := range []string{"", "../wlan0"} {
		if _, err := Dial(ctx, dir, iface); err == nil {
			t.Errorf("Dial(%q) succeeded", iface)
		}
	}
	// A daemon that does not answer.
	f := startFake(t)
	f.set(func(f *fakeSupplicant) { f.silent["PING"] = true })
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, f.dir, "wlan0"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent daemon: %v", err)
	}
}

func TestLocalDir(t *testing.T) {
	f := startFake(t)
	local := t.TempDir()
	c, err := Dialer{LocalDir: local}.Dial(context.Background(), f.dir, "wlan0")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(local, fmt.Sprintf("pigw-wpa-%d-*", os.Getpid())))
	if len(files) != 2 {
		t.Errorf("local sockets %q, want 2 (commands, events)", files)
	}
	f.push("<3>CTRL-EVENT-SCAN-RESULTS ")
	nextEvent(t, c, 2*time.Second, EventScanResults)
	c.Close()
	if files, _ := os.ReadDir(local); len(files) != 0 {
		t.Errorf("Close left %v", files)
	}
}

func TestTimeouts(t *testing.T) {
	f := startFake(t)
	f.set(func(f *fakeSupplicant) {
		f.silent["HANG"] = true
		f.replies["LATE"] = "LATE\n"
		f.delayed["LATE"] = 150 * time.Millisecond
	})
	c := dialFake(t, f, Dialer{Timeout: 80 * time.Millisecond})
	bg := context.Background()

	t.Run("context deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Request(ctx, "HANG")
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), ": HANG: ") {
			t.Errorf("err = %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("default timeout", func(t *testing.T) {
		start := time.Now()
		if _, err := c.Request(bg, "HANG"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
		if d := time.Since(start); d < 70*time.Millisecond || d > time.Second {
			t.Errorf("took %v, want about 80ms", d)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(bg)
		time.AfterFunc(20*time.Millisecond, cancel)
		if _, err := c.Request(ctx, "HANG"); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("late reply is not taken for the next", func(t *testing.T) {
		if _, err := c.Request(bg, "LATE"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		time.Sleep(200 * time.Millisecond) // the late reply has been sent
		if reply, err := c.Request(bg, "PING"); err != nil || reply != "PONG" {
			t.Errorf("PING after a timeout = %q, %v", reply, err)
		}
	})
	t.Run("waiting for the lock honours the context", func(t *testing.T) {
		long, cancel := context.WithTimeout(bg, 300*time.Millisecond)
		defer cancel()
		go c.Request(long, "HANG")
		time.Sleep(20 * time.Millisecond)
		ctx, cancel2 := context.WithTimeout(bg, 30*time.Millisecond)
		defer cancel2()
		if _, err := c.Request(ctx, "PING"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestConcurrentRequests(t *testing.T) {
	f := startFake(t)
	c := dialFake(t, f, Dialer{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			cmd := fmt.Sprintf("ECHO%d", i)
			f.set(func(f *fakeSupplicant) { f.replies[cmd] = cmd + "\n" })
			if reply, err := c.Request(context.Background(), cmd); err != nil || reply != cmd {
				t.Errorf("%s = %q, %v", cmd, reply, err)
			}
		})
	}
	wg.Wait()
}

func TestEventsInOrder(t *testing.T) {
	f := startFake(t)
	c := dialFake(t, f, Dialer{})
	const n = 50
	for i := range n {
		f.push(fmt.Sprintf("<3>CTRL-EVENT-TEST seq=%d", i))
	}
	for i := range n {
		ev := nextEvent(t, c, 2*time.Second, "CTRL-EVENT-TEST")
		if ev.Fields["seq"] != fmt.Sprint(i) || ev.Level != 3 {
			t.Fatalf("event %d: %v", i, ev)
		}
	}
	if d := c.Dropped(); d != 0 {
		t.Errorf("Dropped = %d", d)
	}
}

func TestSlowConsumer(t *testing.T) {
	f := startFake(t)
	c := dialFake(t, f, Dialer{EventBuffer: 4})
	const n = 200
	for i := range n {
		f.push(fmt.Sprintf("<3>CTRL-EVENT-TEST seq=%d", i))
	}
	// Nobody reads Events, yet the reader keeps draining the socket.
	waitFor(t, "drops", func() bool { return c.Dropped() == n-4 })
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.numMonitors() != 1 {
		t.Error("monitor lost")
	}
	for i := n - 4; i < n; i++ {
		if ev := <-c.Events(); ev.Fields["seq"] != fmt.Sprint(i) {
			t.Errorf("kept %v, want seq=%d (the newest)", ev, i)
		}
	}
	f.push("<3>CTRL-EVENT-TEST seq=last")
	if ev := nextEvent(t, c, 2*time.Second, "CTRL-EVENT-TEST"); ev.Fields["seq"] != "last" {
		t.Errorf("after draining: %v", ev)
	}
}

func TestReattach(t *testing.T) {
	for _, tc := range []struct {
		name    string
		outage  func(f *fakeSupplicant) error
		because string
	}{
		{
			name:    "restart",
			outage:  (*fakeSupplicant).restart,
			because: "PING",
		},
		{
			name: "terminating, then down a while",
			outage: func(f *fakeSupplicant) error {
				f.push("<2>CTRL-EVENT-TERMINATING ")
				f.shut()
				time.Sleep(400 * time.Millisecond) // several back-off rounds
				return f.listen()
			},
			because: "terminating",
		},
		{
			name: "hung",
			outage: func(f *fakeSupplicant) error {
				f.set(func(f *fakeSupplicant) { f.silent["PING"] = true })
				time.Sleep(300 * time.Millisecond)
				f.set(func(f *fakeSupplicant) { f.silent["PING"] = false })
				return nil
			},
			because: "no reply to PING",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			var logs strings.Builder
			var mu sync.Mutex
			logf := func(format string, args ...any) {
				mu.Lock()
				fmt.Fprintf(&logs, format+"\n", args...)
				mu.Unlock()
			}
			c := dialFake(t, f, Dialer{PingInterval: 30 * time.Millisecond, Logf: logf})
			f.push("<3>CTRL-EVENT-TEST seq=before")
			nextEvent(t, c, 2*time.Second, "CTRL-EVENT-TEST")

			done := make(chan error, 1)
			go func() { done <- tc.outage(f) }()
			ev := nextEvent(t, c, 5*time.Second, EventDetached)
			if ev.Level != -1 || !strings.Contains(ev.Text, tc.because) {
				t.Errorf("detached event %v, want one mentioning %q", ev, tc.because)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			nextEvent(t, c, 5*time.Second, EventAttached)
			// An event pushed while a monitor is being replaced may be lost,
			// as with the real daemon; events must flow again soon.
			eventsFlow(t, f, c)
			// The command socket follows the daemon too.
			if err := c.Ping(context.Background()); err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(logs.String(), "re-attached") {
				t.Errorf("log:\n%s", logs.String())
			}
		})
	}
}

// eventsFlow pushes events until one arrives.
func eventsFlow(t *testing.T, f *fakeSupplicant, c *Conn) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		f.push(fmt.Sprintf("<3>CTRL-EVENT-TEST seq=after%d", i))
		timer := time.NewTimer(100 * time.Millisecond)
	wait:
		for {
			select {
			case ev, ok := <-c.Events():
				if !ok {
					t.Fatal("Events closed")
				}
				if ev.Name == "CTRL-EVENT-TEST" && strings.HasPrefix(ev.Fields["seq"], "after") {
					timer.Stop()
					return
				}
			case <-timer.C:
				break wait
			}
		}
	}
	t.Fatal("no events flow after re-attaching")
}

func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	f, err := newFake(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeSupplicant) { f.silent["HANG"] = true })
	c, err := Dialer{PingInterval: 20 * time.Millisecond}.Dial(context.Background(), f.dir, "wlan0")
	if err != nil {
		t.Fatal(err)
	}
	// A request in flight is ended by Close.
	errc := make(chan error, 1)
	go func() {
		_, err := c.Request(context.Background(), "HANG")
		errc <- err
	}()
	time.Sleep(30 * time.Millisecond)
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Errorf("request in flight: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	select {
	case <-c.done:
	default:
		t.Error("event goroutine still running")
	}
	for range c.Events() {
	}
	if _, err := c.Request(context.Background(), "PING"); !errors.Is(err, net.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	f.stop()
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

func TestCloseWhileReattaching(t *testing.T) {
	f := startFake(t)
	c, err := Dialer{PingInterval: 20 * time.Millisecond}.Dial(context.Background(), f.dir, "wlan0")
	if err != nil {
		t.Fatal(err)
	}
	f.shut()
	nextEvent(t, c, 2*time.Second, EventDetached)
	time.Sleep(150 * time.Millisecond) // in back-off
	c.Close()
	select {
	case <-c.done:
	case <-time.After(time.Second):
		t.Fatal("event goroutine still running")
	}
	f.listen() // for stop
}
