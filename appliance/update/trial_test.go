package update

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/state"
	"github.com/pigw/pigw/appliance/update/bundle/bundletest"
)

// cardLayout is a card as the updater sees it: which slot runs, which cmdline.txt and
// trycmd.txt start, and slot B a file.
type cardLayout struct {
	mu                         sync.Mutex
	running, committed, tryCmd string
	slot                       string
}

func (l *cardLayout) Running() (SlotInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return SlotInfo{Name: l.running}, nil
}

func (l *cardLayout) Other() (SlotInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, err := os.Stat(l.slot)
	if err != nil {
		return SlotInfo{}, err
	}
	return SlotInfo{Name: otherName(l.running), Path: l.slot, Size: st.Size()}, nil
}

func (l *cardLayout) Committed() (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.committed, nil
}

func (l *cardLayout) Commit(slot string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.committed = slot
	return nil
}

func (l *cardLayout) SetTryboot(slot string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tryCmd = slot
	return nil
}

// boot is a boot of the card: a new Updater on the same records, running slot run.
func (d *device) boot(t *testing.T, l *cardLayout, run string) *Updater {
	t.Helper()
	l.mu.Lock()
	l.running = run
	l.mu.Unlock()
	dir, err := state.Open(d.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	root := d.root
	if run == "b" { // slot b holds makeBundle's root: v2 seq 200
		root = d.rootOf(t, "v2", 200)
	}
	u, err := New(Config{Dir: dir, Root: root, Layout: l})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// rootOf is a copy of the device's root with another release.
func (d *device) rootOf(t *testing.T, version string, seq uint64) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(d.root), "root-"+version)
	rel := testRelease
	rel.Version, rel.Seq, rel.Floor = version, seq, seq
	if err := bundletest.WriteRoot(dir, rel, d.key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// downloaded is a card running slot a with v2 verified in slot b.
func downloaded(t *testing.T) (*device, *cardLayout, *Updater) {
	d := newDevice(t, 4<<20, true)
	l := &cardLayout{running: "a", committed: "a", tryCmd: "b", slot: d.slot}
	u := d.boot(t, l, "a")
	if done, err := push(u, makeBundle(t, d.key, 1<<20, nil), 0, 1<<40, 1024, ""); !done || err != nil {
		t.Fatalf("download: %v %v", done, err)
	}
	return d, l, u
}

var quick = Policy{Mode: ModeCounter, TrialDeadline: 30 * time.Second, HealthyAfter: time.Second}

func healthy([]string) error { return nil }

func atBoot(t *testing.T, u *Updater, want BootKind) Decision {
	t.Helper()
	dec, err := u.AtBoot()
	if err != nil || dec.Kind != want {
		t.Fatalf("AtBoot: %+v %v, want kind %d", dec, err, want)
	}
	return dec
}

// The counter path: apply, the committed root starts the trial once, the trial commits.
func TestTrialCommits(t *testing.T) {
	d, l, u := downloaded(t)
	if err := u.Apply(quick, []string{"eth0"}); err != nil {
		t.Fatal(err)
	}
	if st := u.Status(); st.State != Updating || st.Trial == nil || st.Trial.Stage != "armed" {
		t.Fatalf("after apply: %+v", st)
	}
	var e *Error
	if _, err := push(u, makeBundle(t, d.key, 4096, nil), 0, 1<<40, 1024, ""); !errors.As(err, &e) || !strings.Contains(err.Error(), "a trial of another update is running") {
		t.Errorf("an upload while a trial is armed: %v", err)
	}
	dec := atBoot(t, d.boot(t, l, "a"), BootStartTrial)
	if dec.Root.Name != "b" {
		t.Errorf("trial root %+v", dec.Root)
	}
	trial := d.boot(t, l, "b")
	atBoot(t, trial, BootTrial)
	if st := trial.Status(); st.Running.Version != "v2" || st.Committed.Slot != "a" || st.Committed.Version != "v1" || st.Trial == nil || st.Trial.Stage != "booted" {
		t.Errorf("during the trial: %+v", st)
	}
	var links []string
	trial.Watch(context.Background(), func(l []string) error { links = l; return nil }, func(string) { t.Error("reboot") })
	st := trial.Status()
	if l.committed != "b" || st.Result != ResultSuccess || st.Trial != nil || st.Floor != 200 || st.Other.Content != "previous" || st.Other.Version != "v1" {
		t.Errorf("after the trial: committed %s, %+v", l.committed, st)
	}
	if len(links) != 1 || links[0] != "eth0" {
		t.Errorf("health asked about links %v", links)
	}
	atBoot(t, d.boot(t, l, "b"), BootNormal)
}

// Every way a trial ends without a commit ends on the committed root, which records it.
func TestTrialFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		trial  func(t *testing.T, d *device, l *cardLayout) // from apply to the committed root's boot
		reason string
		bad    bool // the bundle is refused after
	}{
		{"the trial root never runs", func(t *testing.T, d *device, l *cardLayout) {
			atBoot(t, d.boot(t, l, "a"), BootStartTrial)
		}, "did not come up", true},
		{"the trial root crashes", func(t *testing.T, d *device, l *cardLayout) {
			atBoot(t, d.boot(t, l, "a"), BootStartTrial)
			atBoot(t, d.boot(t, l, "b"), BootTrial)
		}, "stopped before it was healthy", true},
		{"the trial root does not mount", func(t *testing.T, d *device, l *cardLayout) {
			u := d.boot(t, l, "a")
			atBoot(t, u, BootStartTrial)
			if err := u.TrialNotStarted(errors.New("mount /dev/vda3: invalid argument")); err != nil {
				t.Fatal(err)
			}
		}, "could not be started: mount /dev/vda3", true},
		{"the deadline passes", func(t *testing.T, d *device, l *cardLayout) {
			atBoot(t, d.boot(t, l, "a"), BootStartTrial)
			u := d.boot(t, l, "b")
			atBoot(t, u, BootTrial)
			rebooted := ""
			u.Watch(context.Background(), func([]string) error { return errors.New("link eth0 has no address") }, func(r string) { rebooted = r })
			if !strings.Contains(rebooted, "deadline") {
				t.Errorf("reboot reason %q", rebooted)
			}
		}, "the trial deadline of 2s passed, waiting for link eth0 has no address", true},
		{"the trial root is another release", func(t *testing.T, d *device, l *cardLayout) {
			atBoot(t, d.boot(t, l, "a"), BootStartTrial)
			l.mu.Lock()
			l.running = "b"
			l.mu.Unlock()
			dir, _ := state.Open(d.stateDir)
			u, err := New(Config{Dir: dir, Root: d.rootOf(t, "v3", 300), Layout: l})
			if err != nil {
				t.Fatal(err)
			}
			atBoot(t, u, BootGiveUp)
		}, "the trial root says it is v3 seq 300, the bundle was v2 seq 200", true},
		{"an admin rolls back", func(t *testing.T, d *device, l *cardLayout) {
			atBoot(t, d.boot(t, l, "a"), BootStartTrial)
			u := d.boot(t, l, "b")
			atBoot(t, u, BootTrial)
			if err := u.Rollback("rolled back by admin"); err != nil {
				t.Fatal(err)
			}
		}, "rolled back by admin", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, l, u := downloaded(t)
			pol := quick
			pol.TrialDeadline = 2 * time.Second
			if err := u.Apply(pol, nil); err != nil {
				t.Fatal(err)
			}
			tc.trial(t, d, l)
			back := d.boot(t, l, "a")
			dec := atBoot(t, back, BootNormal)
			st := back.Status()
			if l.committed != "a" || st.Result != ResultFailed || !strings.Contains(st.Reason, tc.reason) || (dec.Note != "" && !strings.Contains(dec.Note, tc.reason)) || st.Trial != nil {
				t.Errorf("back on the committed root: committed %s, note %q, %+v", l.committed, dec.Note, st)
			}
			_, err := push(back, makeBundle(t, d.key, 1<<20, nil), 0, 1<<40, 1024, "")
			if refused := err != nil && strings.Contains(err.Error(), "failed its trial"); refused != tc.bad {
				t.Errorf("the bundle again: %v", err)
			}
		})
	}
}

// Tryboot: apply points trycmd.txt at the new slot; a boot on the committed root means the
// firmware's one boot is used up. A power cut before the reboot leaves the bundle applicable.
func TestTrialTryboot(t *testing.T) {
	d, l, u := downloaded(t)
	l.tryCmd = "a"
	pol := quick
	pol.Mode = ModeTryboot
	if err := u.Apply(pol, nil); err != nil {
		t.Fatal(err)
	}
	if l.tryCmd != "b" {
		t.Errorf("trycmd.txt starts %s", l.tryCmd)
	}
	back := d.boot(t, l, "a") // the power went before the tryboot reboot
	atBoot(t, back, BootNormal)
	if st := back.Status(); st.Result != ResultFailed || st.Other.Content != "verified" || st.State != Downloaded {
		t.Errorf("after a cut before the tryboot: %+v", st)
	}
	if err := back.Apply(pol, nil); err != nil {
		t.Fatalf("apply again: %v", err)
	}
	trial := d.boot(t, l, "b") // the firmware booted trycmd.txt
	atBoot(t, trial, BootTrial)
	if err := trial.Confirm(healthy); err != nil {
		t.Fatal(err)
	}
	if l.committed != "b" || trial.Status().Result != ResultSuccess {
		t.Errorf("after the commit: %s %+v", l.committed, trial.Status())
	}
}

// A cut between the commit's flip and its records: the next boot (on the new root) records it.
func TestTrialCommitRecordedAfterCut(t *testing.T) {
	d, l, u := downloaded(t)
	if err := u.Apply(quick, nil); err != nil {
		t.Fatal(err)
	}
	atBoot(t, d.boot(t, l, "a"), BootStartTrial)
	atBoot(t, d.boot(t, l, "b"), BootTrial)
	l.committed = "b" // the flip, then the power went
	next := d.boot(t, l, "b")
	dec := atBoot(t, next, BootNormal)
	if st := next.Status(); st.Result != ResultSuccess || st.Trial != nil || st.Floor != 200 || !strings.Contains(dec.Note, "recorded now") {
		t.Errorf("%q %+v", dec.Note, st)
	}
}

// confirm: admin waits for the admin, and an armed trial can be cancelled.
func TestTrialConfirmAndCancel(t *testing.T) {
	d, l, u := downloaded(t)
	if err := u.Rollback("changed my mind"); err == nil {
		t.Error("rollback with no trial: no error")
	}
	pol := quick
	pol.ConfirmAdmin = true
	if err := u.Apply(pol, nil); err != nil {
		t.Fatal(err)
	}
	if err := u.Rollback("cancelled by admin"); err != nil {
		t.Fatal(err)
	}
	if st := u.Status(); st.Trial != nil || st.State != Downloaded || !strings.Contains(st.Reason, "cancelled") {
		t.Errorf("after cancel: %+v", st)
	}
	if err := u.Apply(pol, nil); err != nil {
		t.Fatal(err)
	}
	atBoot(t, d.boot(t, l, "a"), BootStartTrial)
	trial := d.boot(t, l, "b")
	atBoot(t, trial, BootTrial)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { trial.Watch(ctx, healthy, func(string) {}); close(done) }()
	for trial.Status().Trial.Waiting != WaitingForAdmin {
		time.Sleep(50 * time.Millisecond)
	}
	if err := trial.Confirm(func([]string) error { return errors.New("link eth0 has no address") }); err == nil || !strings.Contains(err.Error(), "not healthy yet") {
		t.Errorf("confirm while unhealthy: %v", err)
	}
	if err := trial.Confirm(healthy); err != nil {
		t.Fatal(err)
	}
	<-done
	cancel()
	if l.committed != "b" {
		t.Errorf("committed %s", l.committed)
	}
}
