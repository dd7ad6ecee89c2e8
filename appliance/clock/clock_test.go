package clock

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock records what the subsystem would set.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
	set []time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fakeClock) Set(t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set, f.now = append(f.set, t), t
	return nil
}

func TestRestore(t *testing.T) {
	tests := []struct {
		name    string
		saved   string
		now     time.Time
		want    time.Time // zero: not set
		wantErr string
	}{
		{"boot in 1970", "1795000000\n", time.Unix(10, 0), time.Unix(1795000000, 0), ""},
		{"clock already ahead", "1795000000\n", time.Unix(1795000100, 0), time.Time{}, ""},
		{"no saved time", "", time.Unix(10, 0), time.Time{}, ""},
		{"damaged file", "garbage", time.Unix(10, 0), time.Time{}, `"garbage" is not a number of seconds`},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "clock")
		if tt.saved != "" {
			_ = os.WriteFile(path, []byte(tt.saved), 0o600)
		}
		fc := &fakeClock{now: tt.now}
		s := New(Config{StateFile: path, SetTime: fc.Set, Now: fc.Now, Logger: slog.New(slog.DiscardHandler)})
		got, err := s.Restore()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || (tt.want.IsZero() != (len(fc.set) == 0)) {
			t.Errorf("%s: restored %v (set %v) %v, want %v", tt.name, got, fc.set, err, tt.want)
		}
	}
}

// fakeNTP answers NTP requests with the local time plus offset.
func fakeNTP(t *testing.T, offset time.Duration) string {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 128)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if n < 48 {
				continue
			}
			now := time.Now().Add(offset)
			r := make([]byte, 48)
			r[0] = 0<<6 | 4<<3 | 4 // no leap, version 4, server
			r[1] = 2               // stratum
			r[3] = 0xec            // precision
			binary.BigEndian.PutUint32(r[12:], 0x7f000001)
			putNTPTime(r[16:], now.Add(-time.Minute)) // reference
			copy(r[24:32], buf[40:48])                // origin: the client's transmit time
			putNTPTime(r[32:], now)                   // receive
			putNTPTime(r[40:], now)                   // transmit
			_, _ = c.WriteToUDP(r, from)
		}
	}()
	return c.LocalAddr().String()
}

func putNTPTime(b []byte, t time.Time) {
	const ntpEpochOffset = 2208988800
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	binary.BigEndian.PutUint64(b, secs<<32|frac)
}

func TestSyncSteps(t *testing.T) {
	fc := &fakeClock{now: time.Now()}
	state := filepath.Join(t.TempDir(), "clock")
	s := New(Config{Servers: []string{"127.0.0.1:9", fakeNTP(t, time.Hour)}, StateFile: state, SetTime: fc.Set,
		Now: fc.Now, Logger: slog.New(slog.DiscardHandler)})
	if err := s.syncOnce(); err != nil {
		t.Fatal(err)
	}
	if len(fc.set) != 1 || fc.set[0].Sub(time.Now()) < 59*time.Minute {
		t.Errorf("clock set %v, want one step of about +1 h", fc.set)
	}
	select {
	case <-s.Ready():
	default:
		t.Error("not ready after a sync")
	}
	b, _ := os.ReadFile(state)
	if sec, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); time.Unix(sec, 0).Sub(time.Now()) < 59*time.Minute {
		t.Errorf("saved %q", b)
	}
	// A small offset is left alone.
	fc2 := &fakeClock{now: time.Now()}
	s2 := New(Config{Servers: []string{fakeNTP(t, 100*time.Millisecond)}, SetTime: fc2.Set, Now: fc2.Now, Logger: slog.New(slog.DiscardHandler)})
	if err := s2.syncOnce(); err != nil || len(fc2.set) != 0 || !s2.Synced() {
		t.Errorf("small offset: set %v, %v", fc2.set, err)
	}
}

func TestNoServerAnswers(t *testing.T) {
	silent, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer silent.Close()
	s := New(Config{Servers: []string{silent.LocalAddr().String()}, SetTime: func(time.Time) error { t.Error("clock set"); return nil },
		Logger: slog.New(slog.DiscardHandler)})
	if err := s.syncOnce(); err == nil || s.Synced() {
		t.Errorf("silent server: %v synced=%v", err, s.Synced())
	}
}

// TestAgainstChrony asks Debian's chronyd, run on loopback with -x so it never touches the
// host's clock.
func TestAgainstChrony(t *testing.T) {
	bin, err := exec.LookPath("chronyd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chronyd missing (make test-deps installs chrony)")
		}
		t.Skip("chronyd missing: apt-get install chrony")
	}
	if os.Geteuid() != 0 {
		t.Skip("chronyd needs root")
	}
	dir := t.TempDir()
	port := func() int {
		c, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}()
	conf := fmt.Sprintf("port %d\nbindaddress 127.0.0.1\ncmdport 0\nlocal stratum 8\nallow 127.0.0.1\npidfile %s/chronyd.pid\n", port, dir)
	_ = os.WriteFile(filepath.Join(dir, "chrony.conf"), []byte(conf), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-x", "-d", "-u", "root", "-f", filepath.Join(dir, "chrony.conf"))
	var out strings.Builder
	cmd.Stderr, cmd.Stdout = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	fc := &fakeClock{now: time.Now()}
	s := New(Config{Servers: []string{fmt.Sprintf("127.0.0.1:%d", port)}, SetTime: fc.Set, Now: fc.Now, Logger: slog.New(slog.DiscardHandler)})
	var serr error
	for range 50 { // chronyd takes a moment to start
		if serr = s.syncOnce(); serr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if serr != nil || !s.Synced() || len(fc.set) != 0 {
		t.Errorf("against chronyd: %v synced=%v set=%v\n%s", serr, s.Synced(), fc.set, out.String())
	}
}
