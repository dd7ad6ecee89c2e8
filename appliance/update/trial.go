package update

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/pigw/pigw/appliance/update/bundle"
)

// A new root runs once as a trial before it is committed. The commit is one write: root= in
// the boot partition's cmdline.txt flipped to the new slot. Before it, any failure (a panic,
// a hang the watchdog ends, a missed deadline, a power cut) reboots onto the committed root,
// which finds the pending trial used up and records it as failed; after it, the new root is
// what boots. Only two trial mechanisms are one-shot without the device's help: the Pi 4 and
// 5 firmware's tryboot, and pigw's counter on /perm, which the committed pigw decrements
// (synced) before it starts the trial root.

// Mode is how a trial boot is started.
type Mode string

const (
	ModeCounter Mode = "counter" // the committed pigw starts the trial root once (any board)
	ModeTryboot Mode = "tryboot" // the firmware boots tryboot.txt once (Pi 4, 5)
)

// Policy is how trials run: from the update section of pigw.yaml.
type Policy struct {
	Mode          Mode
	ConfirmAdmin  bool          // commit only on an admin's POST /sys/update/commit
	TrialDeadline time.Duration // from the trial boot's start
	HealthyAfter  time.Duration // up this long, healthy, before a commit
}

// pendingRecord is a trial armed or running.
type pendingRecord struct {
	Slot     string        `json:"slot"`
	Header   []byte        `json:"header"`
	Mode     Mode          `json:"mode"`
	Attempts int           `json:"attempts"` // boots left to start it: 1 when armed, 0 once started
	Links    []string      `json:"links"`    // links with a global address at apply: they must get one again
	Confirm  bool          `json:"confirm_admin"`
	Deadline time.Duration `json:"deadline"`
	Healthy  time.Duration `json:"healthy_after"`
	Stage    string        `json:"stage,omitempty"`  // how far the trial got: armed, started, booted
	Reason   string        `json:"reason,omitempty"` // why it is ending, when the trial root knows
	// The running root at apply: the previous root once the trial is committed.
	FromVersion string `json:"from_version"`
	FromSeq     uint64 `json:"from_seq"`
}

const keyPending = "pending"

func (u *Updater) pending() (*pendingRecord, error) {
	var p pendingRecord
	if err := get(u.cfg.Dir, keyPending, &p); err != nil {
		return nil, err
	}
	if p.Slot == "" {
		return nil, nil
	}
	return &p, nil
}

// Apply arms a trial of the verified root in the other slot. links are the links that have
// a global address now: the trial must bring each up again. The caller then reboots (counter
// mode) or reboots into tryboot (tryboot mode, after ArmTryboot).
func (u *Updater) Apply(pol Policy, links []string) error {
	defer u.notify()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.current() != nil {
		return &Error{Kind: Unavailable, Err: errors.New("an upload is in progress: finish or restart it first")}
	}
	if p, err := u.pending(); err != nil || p != nil {
		return &Error{Kind: Unavailable, Err: errors.Join(errors.New("a trial is already armed or running"), err)}
	}
	var other otherRecord
	if err := get(u.cfg.Dir, keyOther, &other); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	o, err := u.cfg.Layout.Other()
	if err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	if other.Slot != o.Name || other.Content != "verified" {
		return &Error{Kind: Refused, Err: fmt.Errorf("slot %s holds no verified root (it is %s): upload a bundle first", o.Name, cmp.Or(other.Content, "empty"))}
	}
	h, err := bundle.ParseHeader(other.Header)
	if err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	if err := u.admit(h, o.Size); err != nil { // the floor or the keys may have changed since
		return err
	}
	if pol.Mode == ModeTryboot {
		if err := u.cfg.Layout.SetTryboot(o.Name); err != nil {
			return &Error{Kind: Unavailable, Err: err}
		}
	}
	p := pendingRecord{Slot: o.Name, Header: other.Header, Mode: pol.Mode, Attempts: 1, Links: links,
		Confirm: pol.ConfirmAdmin, Deadline: pol.TrialDeadline, Healthy: pol.HealthyAfter, Stage: "armed",
		FromVersion: u.release.Version, FromSeq: u.release.Seq}
	if pol.Mode == ModeTryboot {
		p.Attempts = 0 // the firmware's flag is the one-shot; a boot on the committed root means it failed
	}
	if err := put(u.cfg.Dir, keyPending, p); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	u.setResult(ResultInitial, "")
	u.cfg.Log.Warn("update trial armed", "version", h.Manifest.Version, "slot", o.Name, "mode", pol.Mode)
	u.changed(true)
	return nil
}
