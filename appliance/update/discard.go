package update

import (
	"errors"
	"fmt"
)

// Discard ends an upload in progress and forgets a root received and not applied, so that
// the status is Idle again: what LwM2M's Firmware Update object does when its server writes
// an empty Package or Package URI. The slot's bytes stay, unused: the next upload overwrites
// them. It refuses while a trial is armed or running (Rollback ends those).
func (u *Updater) Discard(reason string) error {
	defer u.notify()
	u.mu.Lock()
	defer u.mu.Unlock()
	if p, err := u.pending(); err != nil || p != nil {
		return &Error{Kind: Unavailable, Err: errors.Join(errors.New("a trial is armed or running: roll it back instead"), err)}
	}
	var other otherRecord
	if err := get(u.cfg.Dir, keyOther, &other); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	u.drop()
	if other.Content == "partial" || other.Content == "verified" {
		if err := put(u.cfg.Dir, keyOther, otherRecord{Slot: other.Slot, Content: "discarded"}); err != nil {
			return &Error{Kind: Unavailable, Err: err}
		}
		u.cfg.Log.Info("update discarded", "slot", other.Slot, "was", other.Content, "reason", reason)
	}
	u.setResult(ResultInitial, reason)
	u.changed(true)
	return nil
}

// Refuse records r (ResultInvalidURI, ResultProtocol) for a download that was refused
// before it started, leaving whatever the slot and an upload in progress hold.
func (u *Updater) Refuse(r Result, err error) {
	defer u.notify()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.setResult(r, err.Error())
	u.changed(true)
}

// DownloadFailed ends an upload that the device pulled and could not finish, and records
// why with r (ResultConnection, ResultInvalidURI, ResultProtocol) unless the upload itself
// already recorded a refusal.
func (u *Updater) DownloadFailed(r Result, err error) {
	defer u.notify()
	u.mu.Lock()
	defer u.mu.Unlock()
	var e *Error
	if errors.As(err, &e) && e.Result != ResultInitial {
		return // Take recorded it
	}
	u.drop()
	u.setResult(r, fmt.Sprintf("download: %v", err))
	u.changed(true)
}
