package boot

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPingInterval(t *testing.T) {
	for _, c := range []struct {
		timeout int
		want    time.Duration
	}{
		{15, 5 * time.Second},
		{60, 20 * time.Second},
		{2, time.Second}, // never more often than every second
		{1, time.Second},
	} {
		if got := pingInterval(c.timeout); got != c.want {
			t.Errorf("pingInterval(%d) = %v, want %v", c.timeout, got, c.want)
		}
	}
}

func TestReadWatchdogState(t *testing.T) {
	root := t.TempDir()
	if _, ok := ReadWatchdogState(root); ok {
		t.Fatal("a watchdog without /sys/class/watchdog/watchdog0")
	}
	dir := filepath.Join(root, "class", "watchdog", "watchdog0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"identity": "Broadcom BCM2835 Watchdog timer\n", "state": "inactive\n", "timeout": "15\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, ok := ReadWatchdogState(root)
	want := WatchdogState{Device: "/dev/watchdog0", Identity: "Broadcom BCM2835 Watchdog timer", State: "inactive", TimeoutSeconds: 15}
	if !ok || got != want {
		t.Errorf("ReadWatchdogState = %+v, %v; want %+v", got, ok, want)
	}
}
