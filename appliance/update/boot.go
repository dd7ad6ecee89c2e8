package update

import (
	"encoding/hex"
	"fmt"

	"github.com/pigw/pigw/appliance/update/bundle"
)

// BootKind is what a boot is, as far as updates go.
type BootKind int

const (
	BootNormal     BootKind = iota
	BootStartTrial          // counter mode: start the trial root now, once (Decision.Root)
	BootTrial               // this boot runs a trial root: watch its health, then commit or go back
	BootGiveUp              // this trial root is not the bundle's: reboot to the committed root now
)

// Decision is what PID 1 does about updates at boot.
type Decision struct {
	Kind BootKind
	Root SlotInfo // BootStartTrial: the trial root
	Note string   // what was found, for the log; "" when there is nothing to say
}

// AtBoot decides what this boot is, from the slot that runs (the device of "/"), the slot
// cmdline.txt commits and the pending trial, and records what it found: a trial that used up
// its one boot without a commit failed. A BootStartTrial decision has already used up the
// trial's boot (synced) when AtBoot returns: if the trial root never gets to run, the next
// boot records the failure.
func (u *Updater) AtBoot() (Decision, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, err := u.pending()
	if err != nil {
		return Decision{}, err
	}
	run, err := u.cfg.Layout.Running()
	if err != nil {
		return Decision{}, err
	}
	committed, err := u.cfg.Layout.Committed()
	if err != nil {
		return Decision{}, err
	}
	switch {
	case p == nil && run.Name == committed:
		return Decision{}, nil
	case p == nil:
		return Decision{Note: fmt.Sprintf("running slot %s, but cmdline.txt commits slot %s and no trial is pending: left as it is", run.Name, committed)}, nil
	case p.Slot == run.Name && run.Name != committed:
		p.Stage = "booted"
		if h, err := bundle.ParseHeader(p.Header); err == nil && (h.Manifest.Version != u.release.Version || h.Manifest.Seq != u.release.Seq) {
			p.Reason = fmt.Sprintf("the trial root says it is %s seq %d, the bundle was %s seq %d", u.release.Version, u.release.Seq, h.Manifest.Version, h.Manifest.Seq)
			return Decision{Kind: BootGiveUp, Note: p.Reason}, put(u.cfg.Dir, keyPending, p)
		}
		if err := put(u.cfg.Dir, keyPending, p); err != nil {
			return Decision{}, err
		}
		return Decision{Kind: BootTrial, Note: fmt.Sprintf("trial of slot %s (%s mode)", run.Name, p.Mode)}, nil
	case p.Slot == run.Name: // committed, but the records were not finished
		return Decision{Note: "the commit of slot " + run.Name + " is recorded now"}, u.finishCommit(p)
	case p.Attempts > 0 && p.Mode == ModeCounter:
		other, err := u.cfg.Layout.Other()
		if err != nil {
			return Decision{}, err
		}
		p.Attempts, p.Stage = 0, "started"
		if err := put(u.cfg.Dir, keyPending, p); err != nil {
			return Decision{}, err
		}
		return Decision{Kind: BootStartTrial, Root: other, Note: "starting the trial of slot " + other.Name}, nil
	}
	reason := p.Reason
	if reason == "" {
		reason = map[string]string{
			"armed":   "the trial boot never started",
			"started": "the trial root did not come up: a kernel panic, PID 1 exiting, a hang the watchdog ended, or a power cut",
			"booted":  "the trial root stopped before it was healthy: a crash, a hang the watchdog ended, or a power cut",
		}[p.Stage]
	}
	return Decision{Note: "trial of slot " + p.Slot + " failed: " + reason}, u.failTrial(p, reason)
}

// TrialNotStarted records that a trial root could not be started (its file system does not
// mount, it has no /pigw): the boot goes on on the committed root.
func (u *Updater) TrialNotStarted(why error) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, err := u.pending()
	if err != nil || p == nil {
		return err
	}
	return u.failTrial(p, "the trial root could not be started: "+why.Error())
}

// failTrial records a failed trial: its digest as bad (a bundle that failed once is refused
// after), the result, and no trial pending.
func (u *Updater) failTrial(p *pendingRecord, reason string) error {
	h, err := bundle.ParseHeader(p.Header)
	if err == nil && p.Stage != "armed" { // a root that never ran is not known bad
		bad := map[string]string{}
		_ = get(u.cfg.Dir, keyBad, &bad)
		if len(bad) >= 64 { // bounded: the oldest entries matter least
			for k := range bad {
				delete(bad, k)
				break
			}
		}
		d := h.Digest()
		bad[hex.EncodeToString(d[:])] = reason
		if err := put(u.cfg.Dir, keyBad, bad); err != nil {
			return err
		}
		if err := put(u.cfg.Dir, keyOther, otherRecord{Slot: p.Slot, Content: "failed", Header: p.Header}); err != nil {
			return err
		}
	}
	u.setResult(ResultFailed, reason)
	u.cfg.Log.Error("update trial failed: back on the committed root", "slot", p.Slot, "reason", reason)
	return u.cfg.Dir.Delete(keyPending)
}

// finishCommit records a committed trial: the floor, the result, no trial pending.
func (u *Updater) finishCommit(p *pendingRecord) error {
	h, err := bundle.ParseHeader(p.Header)
	if err != nil {
		return err
	}
	if err := put(u.cfg.Dir, keyFloor, floorRecord{Floor: max(h.Manifest.Floor, u.floor())}); err != nil {
		return err
	}
	if err := put(u.cfg.Dir, keyOther, otherRecord{Slot: otherName(p.Slot), Content: "previous", Version: p.FromVersion, Seq: p.FromSeq}); err != nil {
		return err
	}
	u.setResult(ResultSuccess, fmt.Sprintf("slot %s runs %s, committed", p.Slot, h.Manifest.Version))
	u.cfg.Log.Info("update committed", "slot", p.Slot, "version", h.Manifest.Version, "seq", h.Manifest.Seq)
	return u.cfg.Dir.Delete(keyPending)
}

func otherName(slot string) string {
	if slot == "a" {
		return "b"
	}
	return "a"
}
