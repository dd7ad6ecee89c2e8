package vmtest

import (
	"context"
	"testing"
	"time"

	"github.com/pigw/pigw/image"
	"github.com/pigw/pigw/internal/lwm2mtest"
)

// lwm2mUpdate delivers res's bundle to the card as a fleet's LwM2M server does, through the
// Firmware Update object: the Package pushed block-wise, State read as Downloaded, Update
// executed. The card reboots into the trial, registers again, and once the trial committed
// reports Update Result 1 (success), State 0 and the new Firmware Version.
func lwm2mUpdate(t *testing.T, card *Card, lw *lwm2mtest.Server, res *image.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const ep = "card"
	isRegister := func(e lwm2mtest.Event) bool { return e.Kind == lwm2mtest.Register && e.Endpoint == ep }
	if _, err := lw.WaitEvent(ctx, isRegister); err != nil {
		t.Fatalf("the card did not register with the LwM2M server: %v\n%s", err, card.Console())
	}
	read := func(path string) string {
		t.Helper()
		r, err := lw.Read(ctx, ep, path, lwm2mtest.Text)
		if err != nil || r.Code != "2.05" {
			t.Fatalf("Read %s: %v %v\n%s", path, r, err, card.Console())
		}
		return string(r.Payload)
	}
	start := time.Now()
	pushCtx, cancelPush := context.WithTimeout(ctx, 4*time.Minute)
	r, blocks, err := lw.WriteBlocks(pushCtx, ep, "/5/0/0", lwm2mtest.Opaque, res.Bundle, 1024)
	cancelPush()
	if err != nil || r.Code != "2.04" {
		t.Fatalf("push the package: %v %v\n%s", r, err, card.Console())
	}
	took := time.Since(start)
	t.Logf("%s pushed through /5/0/0: %d bytes in %d Block1 blocks in %s, %.2f MB/s over QEMU's user network",
		res.Release.Version, res.BundleSize, blocks, took.Round(time.Millisecond), float64(res.BundleSize)/1e6/took.Seconds())
	if s, v := read("/5/0/3"), read("/5/0/7"); s != "2" || v != res.Release.Version {
		t.Fatalf("after the push: State %s, PkgVersion %q; want 2 and %s", s, v, res.Release.Version)
	}
	if r, err := lw.Execute(ctx, ep, "/5/0/2", ""); err != nil || r.Code != "2.04" {
		t.Fatalf("Execute Update: %v %v\n%s", r, err, card.Console())
	}
	applied := time.Now()
	if _, err := lw.WaitEvent(ctx, isRegister); err != nil {
		t.Fatalf("the card did not register again after Update: %v\n%s", err, card.Console())
	}
	t.Logf("registered again %s after Execute Update", time.Since(applied).Round(100*time.Millisecond))
	for {
		s, res5 := read("/5/0/3"), read("/5/0/5")
		if s == "0" && res5 == "1" {
			break
		}
		if ctx.Err() != nil || (s == "0" && res5 != "0") {
			t.Fatalf("State %s, Update Result %s; want 0 and 1 (success)\n%s", s, res5, card.Console())
		}
		time.Sleep(time.Second)
	}
	t.Logf("Update Result 1 (success) %s after Execute Update", time.Since(applied).Round(100*time.Millisecond))
	if v := read("/3/0/3"); v != res.Release.Version {
		t.Errorf("Firmware Version /3/0/3 %q after the update, want %s", v, res.Release.Version)
	}
}
