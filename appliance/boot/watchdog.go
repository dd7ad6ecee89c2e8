package boot

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// WatchdogTimeout is the timeout pigw asks of the hardware watchdog: long enough for a slow
// SD card to stall the appliance for a while, short enough that a hung appliance is back soon.
const WatchdogTimeout = 15 * time.Second

// Watchdog opens /dev/watchdog, which arms it, and pings it while healthy() holds; when it
// stops holding (the appliance hangs), the pings stop and the hardware resets the machine.
// When ctx ends (a clean stop) the watchdog is disarmed with the magic close. No watchdog: it
// returns at once.
//
// The timeout the driver really took is read back and logged: drivers round it or refuse it
// (bcm2835-wdt accepts at most 15 s), and pings must come well within the real one.
func Watchdog(ctx context.Context, log *slog.Logger, healthy func() bool) {
	f, err := os.OpenFile("/dev/watchdog", os.O_WRONLY, 0)
	if err != nil {
		log.Info("no hardware watchdog", "err", err)
		return
	}
	fd := int(f.Fd())
	identity := "unknown"
	if info, err := unix.IoctlGetWatchdogInfo(fd); err == nil {
		identity = unix.ByteSliceToString(info.Identity[:])
	}
	want := int(WatchdogTimeout / time.Second)
	if err := unix.IoctlSetPointerInt(fd, unix.WDIOC_SETTIMEOUT, want); err != nil {
		log.Warn("hardware watchdog refused the timeout; it keeps its own", "identity", identity, "timeout_seconds", want, "err", err)
	}
	timeout, err := unix.IoctlGetInt(fd, unix.WDIOC_GETTIMEOUT)
	if err != nil || timeout <= 0 {
		log.Warn("hardware watchdog timeout unknown; pinging as if it were the one asked for", "identity", identity, "err", err)
		timeout = want
	}
	log.Info("hardware watchdog armed", "timeout_seconds", timeout, "identity", identity)
	t := time.NewTicker(pingInterval(timeout))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_, _ = f.Write([]byte("V")) // magic close: a clean stop disarms it
			f.Close()
			return
		case <-t.C:
			if healthy() {
				_, _ = f.Write([]byte{0})
			} else {
				log.Error("appliance unhealthy: watchdog not pinged; the hardware will reset the machine")
			}
		}
	}
}

// pingInterval pings three times per timeout, at least every second.
func pingInterval(timeoutSeconds int) time.Duration {
	return max(time.Duration(timeoutSeconds)*time.Second/3, time.Second)
}

// WatchdogState is what the kernel says of the first watchdog device, from sysfs.
type WatchdogState struct {
	Device         string `json:"device"`
	Identity       string `json:"identity,omitempty"`
	State          string `json:"state,omitempty"` // "active" while armed, "inactive" otherwise
	TimeoutSeconds int    `json:"timeout_seconds,omitempty"`
}

// ReadWatchdogState reads /sys/class/watchdog/watchdog0 under sysRoot ("/sys" on a machine).
// It returns false when there is no watchdog device.
func ReadWatchdogState(sysRoot string) (WatchdogState, bool) {
	dir := filepath.Join(sysRoot, "class", "watchdog", "watchdog0")
	if _, err := os.Stat(dir); err != nil {
		return WatchdogState{}, false
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return strings.TrimSpace(string(b))
	}
	st := WatchdogState{Device: "/dev/watchdog0", Identity: read("identity"), State: read("state")}
	st.TimeoutSeconds, _ = strconv.Atoi(read("timeout"))
	return st, true
}
