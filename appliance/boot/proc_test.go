package boot

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// An orphan that ends up a child of the appliance is reaped; a child someone tracks is left
// to its owner's Wait.
func TestReap(t *testing.T) {
	start := func() int {
		p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Pid
	}
	orphan, tracked := start(), start()
	Track(tracked)
	defer Untrack(tracked)
	waitZombie := func(pid int) {
		for range 200 {
			if slices.Contains(zombies(), pid) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("pid %d never became a zombie", pid)
	}
	waitZombie(orphan)
	waitZombie(tracked)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Reap(ctx, slog.New(slog.DiscardHandler)); close(done) }()
	for range 200 {
		if !slices.Contains(zombies(), orphan) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	var ws unix.WaitStatus
	if _, err := unix.Wait4(orphan, &ws, unix.WNOHANG, nil); !errors.Is(err, unix.ECHILD) {
		t.Errorf("orphan %d not reaped: %v", orphan, err)
	}
	if pid, err := unix.Wait4(tracked, &ws, 0, nil); err != nil || pid != tracked {
		t.Errorf("tracked child taken by the reaper: %d %v", pid, err)
	}
}
