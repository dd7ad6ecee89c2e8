package boot

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/syncbuf"
	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo terminal: what a person types goes into
// master; the slave stands for the console.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no pseudo terminals here, and CI=true: %v", err)
		}
		t.Skipf("no pseudo terminals here: %v", err)
	}
	m := os.NewFile(uintptr(mfd), "ptmx")
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(fmt.Sprintf("/dev/pts/%d", n), unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := os.NewFile(uintptr(fd), "pts")
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

func waitDumps(t *testing.T, out *syncbuf.Buffer, n int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := out.String(); strings.Count(s, "=== end of goroutine dump ===") >= n {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %d goroutine dumps; got:\n%s", n, out.String())
	return ""
}

// TestGoroutineDumps: Ctrl-\ on the console and SIGQUIT each write every goroutine's stack,
// and the process lives on; other keys do nothing, and nothing typed is echoed.
func TestGoroutineDumps(t *testing.T) {
	master, console := openPTY(t)
	var out, logs syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	GoroutineDumps(ctx, slog.New(slog.NewTextHandler(&logs, nil)), console, &out)

	if _, err := master.Write([]byte("abc\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if out.String() != "" {
		t.Fatalf("a dump without the key: %q", out.String())
	}
	if _, err := master.Write([]byte{QuitKey}); err != nil {
		t.Fatal(err)
	}
	s := waitDumps(t, &out, 1)
	for _, want := range []string{"pigw goroutine dump (Ctrl-\\ on the console)", "goroutine ", "boot.readQuitKeys"} {
		if !strings.Contains(s, want) {
			t.Errorf("dump lacks %q:\n%s", want, s)
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	s = waitDumps(t, &out, 2)
	if !strings.Contains(s, "pigw goroutine dump (SIGQUIT)") {
		t.Errorf("no SIGQUIT dump:\n%s", s)
	}
	if !strings.Contains(logs.String(), `msg="goroutine dump written to the console" trigger=SIGQUIT`) {
		t.Errorf("log: %s", logs.String())
	}
	if err := master.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	if n, _ := master.Read(b); n > 0 {
		t.Errorf("the console echoed %q", b[:n])
	}
}
