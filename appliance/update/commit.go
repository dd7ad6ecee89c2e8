package update

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// WaitingForAdmin is what a healthy trial with confirm: admin waits for.
const WaitingForAdmin = "an admin's POST /sys/update/commit"

// Health says whether the system runs well enough to commit a trial root: nil, or what is
// still missing. links are the links that had a global address when the trial was armed.
type Health func(links []string) error

// Watch runs the trial this boot is, until it is committed or given up: with the policy of
// the trial, it commits once health has held for HealthyAfter (or, with ConfirmAdmin, when an
// admin calls Confirm); at the deadline it records why the trial failed and calls reboot,
// which ends on the committed root. It returns when ctx is done or the trial ended.
func (u *Updater) Watch(ctx context.Context, health Health, reboot func(reason string)) {
	u.mu.Lock()
	u.started = time.Now()
	u.mu.Unlock()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var healthySince time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		u.mu.Lock()
		p, err := u.pending()
		u.mu.Unlock()
		if err != nil || p == nil {
			return // committed (Confirm) or rolled back
		}
		now := time.Now()
		herr := health(p.Links)
		switch {
		case herr != nil:
			healthySince = time.Time{}
		case healthySince.IsZero():
			healthySince = now
		}
		up := now.Sub(u.started)
		waiting := ""
		switch {
		case herr != nil:
			waiting = herr.Error()
		case p.Confirm:
			waiting = WaitingForAdmin
		case now.Sub(healthySince) < p.Healthy:
			waiting = fmt.Sprintf("healthy for %s (so far %s)", p.Healthy, now.Sub(healthySince).Round(time.Second))
		}
		u.mu.Lock()
		if u.waiting != waiting {
			u.waiting = waiting
			u.changed(true)
		}
		u.mu.Unlock()
		u.notify()
		if waiting == "" {
			if err := u.commit(); err != nil {
				u.cfg.Log.Error("update commit failed", "err", err)
				continue
			}
			return
		}
		if up > p.Deadline {
			reason := fmt.Sprintf("the trial deadline of %s passed, waiting for %s", p.Deadline, waiting)
			if err := u.Rollback(reason); err != nil {
				u.cfg.Log.Error("update rollback", "err", err)
			}
			reboot(reason)
			return
		}
	}
}

// Confirm is an admin's commit of the trial running here: it commits when health holds now.
func (u *Updater) Confirm(health Health) error {
	u.mu.Lock()
	p, err := u.pending()
	running, rerr := u.cfg.Layout.Running()
	u.mu.Unlock()
	switch {
	case err != nil:
		return &Error{Kind: Unavailable, Err: err}
	case rerr != nil:
		return &Error{Kind: Unavailable, Err: rerr}
	case p == nil || p.Slot != running.Name:
		return &Error{Kind: Refused, Err: errors.New("no trial is running here: nothing to commit")}
	}
	if err := health(p.Links); err != nil {
		return &Error{Kind: Unavailable, Err: fmt.Errorf("not healthy yet: %w", err)}
	}
	return u.commit()
}

// commit makes the running trial root the committed one.
func (u *Updater) commit() error {
	defer u.notify()
	u.mu.Lock()
	defer u.mu.Unlock()
	p, err := u.pending()
	if err != nil || p == nil {
		return err
	}
	if err := u.cfg.Layout.Commit(p.Slot); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	u.waiting = ""
	err = u.finishCommit(p)
	u.changed(true)
	return err
}

// Rollback gives up the trial armed or running here, with a reason the committed root
// records. A trial that is running must then reboot; an armed one is simply gone.
func (u *Updater) Rollback(reason string) error {
	defer u.notify()
	u.mu.Lock()
	defer u.mu.Unlock()
	p, err := u.pending()
	if err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	if p == nil {
		return &Error{Kind: Refused, Err: errors.New("no trial is armed or running")}
	}
	u.changed(true)
	running, err := u.cfg.Layout.Running()
	if err == nil && p.Slot != running.Name { // armed, not started: nothing runs it
		u.setResult(ResultInitial, "trial cancelled: "+reason)
		return u.cfg.Dir.Delete(keyPending)
	}
	p.Reason = reason
	return put(u.cfg.Dir, keyPending, p)
}

// Probe checks that the state directory on /perm takes a synced write and reads it back.
func (u *Updater) Probe() error {
	want := []byte(time.Now().UTC().Format(time.RFC3339Nano))
	if err := u.cfg.Dir.Put("probe", want); err != nil {
		return err
	}
	got, err := u.cfg.Dir.Get("probe")
	if err != nil {
		return err
	}
	if string(got) != string(want) {
		return errors.New("/perm returned another value than the one written")
	}
	return nil
}
