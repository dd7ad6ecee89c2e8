package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The console is how a person at the machine sees a stuck gateway: PID 1's log goes to every
// console the kernel has (a serial cable and a screen alike), and Ctrl-\ typed on the console,
// or SIGQUIT, writes the stack of every goroutine there, as Go does when a program dies of
// SIGQUIT, but without dying: PID 1 must not exit.

// QuitKey is the byte that asks for a goroutine dump on the console: Ctrl-\, the terminal's
// usual QUIT character.
const QuitKey = 0x1c

// ConsoleWriter returns w (PID 1's stderr, which the kernel opened on /dev/console) and every
// other console the kernel lists in /sys/class/tty/console/active, such as tty1 (the screen)
// beside ttyS0 (the serial port). A console that fails to take a line does not hold up the
// others.
func ConsoleWriter(log *slog.Logger, w io.Writer) io.Writer {
	b, err := os.ReadFile("/sys/class/tty/console/active")
	if err != nil {
		return w
	}
	names := strings.Fields(string(b))
	// The last one is where /dev/console points, which w already is.
	ws := []io.Writer{w}
	for i, n := range names {
		if i == len(names)-1 || strings.ContainsAny(n, "/.") {
			continue
		}
		f, err := os.OpenFile(filepath.Join("/dev", n), os.O_WRONLY|unix.O_NOCTTY, 0)
		if err != nil {
			log.Debug("console not mirrored", "console", n, "err", err)
			continue
		}
		ws = append(ws, f)
	}
	if len(ws) == 1 {
		return w
	}
	return fanout(ws)
}

// fanout writes to each writer, reporting the first one's result only.
type fanout []io.Writer

func (f fanout) Write(p []byte) (int, error) {
	n, err := f[0].Write(p)
	for _, w := range f[1:] {
		_, _ = w.Write(p)
	}
	return n, err
}

// GoroutineDumps writes every goroutine's stack to w each time the process gets SIGQUIT or
// QuitKey arrives on console (nil: signals only), until ctx ends. SIGQUIT is caught before it
// returns; the dumps are written by a goroutine of its own. The console is read without line
// buffering or echo, so one key press is enough and nothing typed shows.
func GoroutineDumps(ctx context.Context, log *slog.Logger, console *os.File, w io.Writer) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGQUIT)
	keys := make(chan struct{}, 1)
	if console != nil {
		if err := rawInput(console); err != nil {
			log.Debug("console keys not read", "err", err)
		} else {
			go readQuitKeys(ctx, console, keys)
		}
	}
	go func() {
		defer signal.Stop(sig)
		for {
			var why string
			select {
			case <-ctx.Done():
				return
			case <-sig:
				why = "SIGQUIT"
			case <-keys:
				why = "Ctrl-\\ on the console"
			}
			n := WriteGoroutines(w, why)
			log.Info("goroutine dump written to the console", "trigger", why, "goroutines", n)
		}
	}()
}

// WriteGoroutines writes the stacks of all goroutines to w, headed by why, and returns how
// many there were.
func WriteGoroutines(w io.Writer, why string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 64<<20 {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := strings.Count(string(buf), "\ngoroutine ") + 1
	fmt.Fprintf(w, "\n=== pigw goroutine dump (%s) at %s: %d goroutines ===\n%s\n=== end of goroutine dump ===\n",
		why, time.Now().UTC().Format(time.RFC3339), count, buf)
	return count
}

// rawInput makes the console deliver each byte at once, without echo, and without turning
// control characters into signals.
func rawInput(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("console settings: %w", err)
	}
	t.Lflag &^= unix.ICANON | unix.ECHO | unix.ECHONL | unix.ISIG
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("console settings: %w", err)
	}
	return nil
}

// readQuitKeys reads the console until ctx ends, and signals keys at each QuitKey. The file
// must be non-blocking (see OpenConsole), so that closing it ends a read in progress.
func readQuitKeys(ctx context.Context, f *os.File, keys chan<- struct{}) {
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 64)
	for {
		n, err := f.Read(buf)
		for _, b := range buf[:n] {
			if b == QuitKey {
				select {
				case keys <- struct{}{}:
				default: // a dump is being written already
				}
			}
		}
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
				time.Sleep(time.Second) // a console with nothing behind it: do not spin
				continue
			}
			return
		}
	}
}

// OpenConsole opens /dev/console for reading keys, non-blocking so that reads can be
// cancelled, and never as a controlling terminal (so no key press sends PID 1 a signal).
func OpenConsole() (*os.File, error) {
	fd, err := unix.Open("/dev/console", unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/console: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/console"), nil
}
