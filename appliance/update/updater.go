package update

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pigw/pigw/appliance/state"
	"github.com/pigw/pigw/appliance/update/bundle"
)

// Config is what an Updater works with.
type Config struct {
	Dir    *state.Dir // its records, on /perm
	Root   string     // the running root, whose release file and trusted keys apply: "/"
	Layout Layout
	Log    *slog.Logger
}

// Updater receives bundles into the other slot. Its methods may be called from many
// goroutines.
type Updater struct {
	cfg     Config
	release bundle.Release
	noRel   error // why the running root has no release, if it has none
	trusted []ed25519.PublicKey

	notifyMu sync.Mutex // held while a status is computed and handed on, so they arrive in order
	onChange []func(Status)

	mu       sync.Mutex
	dirty    bool // the status changed since observers last had it
	cur      *upload
	notified time.Time
	started  time.Time // when the trial running here started being watched
	waiting  string    // what the trial running here still waits for
}

// New reads the running root's release and trusted keys. A root without them (one built
// without --sign-key, or a PC) gets an Updater that refuses every bundle and says why.
func New(cfg Config) (*Updater, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	u := &Updater{cfg: cfg}
	b, err := os.ReadFile(filepath.Join(cfg.Root, bundle.ReleasePath))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		u.noRel = fmt.Errorf("the running root has no %s (not a pigw image)", bundle.ReleasePath)
	case err != nil:
		return nil, fmt.Errorf("read the release: %w", err)
	default:
		if err := json.Unmarshal(b, &u.release); err != nil {
			return nil, fmt.Errorf("read the release %s: %w", bundle.ReleasePath, err)
		}
	}
	keys, err := filepath.Glob(filepath.Join(cfg.Root, bundle.KeysDir, "*.pub"))
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		pub, err := bundle.ReadPublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("trusted update keys: %w", err)
		}
		u.trusted = append(u.trusted, pub)
	}
	return u, nil
}

// floor is the lowest seq taken: the higher of the running root's own floor, which survives
// losing /perm, and the floor of the last bundle committed.
func (u *Updater) floor() uint64 {
	var f floorRecord
	if err := get(u.cfg.Dir, keyFloor, &f); err != nil {
		u.cfg.Log.Warn("update floor record unreadable; the running root's applies", "err", err)
	}
	return max(f.Floor, u.release.Floor)
}

// admit checks a complete header against the device: the refusal names the rule.
func (u *Updater) admit(h *bundle.Header, slotSize int64) error {
	if u.noRel != nil {
		return &Error{Kind: Refused, Result: ResultUnsupported, Err: u.noRel}
	}
	bad := map[string]string{}
	if err := get(u.cfg.Dir, keyBad, &bad); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	p, err := u.pending()
	if err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	d := bundle.Device{
		Trusted: u.trusted, Product: u.release.Product, BoardFamily: u.release.BoardFamily,
		Arch: u.release.Arch, KernelRelease: u.release.KernelRelease, Floor: u.floor(),
		SlotSize: slotSize, Bad: bad, TrialRunning: p != nil,
	}
	err = d.Admit(h)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bundle.ErrTooLarge):
		return &Error{Kind: TooLarge, Result: ResultNoStorage, Limit: bundle.HeaderSize + slotSize, Err: err}
	case errors.Is(err, bundle.ErrSignature):
		return &Error{Kind: Refused, Result: ResultIntegrity, Err: err}
	}
	return &Error{Kind: Refused, Result: ResultUnsupported, Err: err}
}

// Kind sorts what can go wrong with a piece of an upload, for the transport to answer with.
type Kind int

const (
	Refused     Kind = iota + 1 // signature or policy: nothing was written
	TooLarge                    // larger than the slot, or than the manifest says
	Corrupt                     // the body does not match its manifest
	OutOfOrder                  // a piece beyond what was received: resume lower
	WrongUpload                 // a resume of an upload that is not the one in progress
	Unavailable                 // the device cannot take updates now
)

// Error is a refusal of a piece of an upload.
type Error struct {
	Kind   Kind
	Result Result // what the status then shows, 0 to leave it
	Limit  int64  // TooLarge: the largest bundle taken (CoAP's Size1)
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Status is the update's status now.
func (u *Updater) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.status()
}

func (u *Updater) status() Status {
	st := Status{State: Idle, TrustedKeys: len(u.trusted), Floor: u.floor()}
	var res resultRecord
	_ = get(u.cfg.Dir, keyResult, &res)
	st.Result, st.Reason = res.Result, res.Reason
	if run, err := u.cfg.Layout.Running(); err == nil {
		st.Running = Root{Slot: run.Name, Content: "running", Version: u.release.Version, Seq: u.release.Seq}
	} else {
		st.Reason = strings.TrimSpace(st.Reason + "; " + err.Error())
	}
	if c, err := u.cfg.Layout.Committed(); err == nil {
		st.Committed.Slot = c
	}
	var other otherRecord
	_ = get(u.cfg.Dir, keyOther, &other)
	if o, err := u.cfg.Layout.Other(); err == nil {
		st.Other = Root{Slot: o.Name, Content: "empty"}
		if other.Slot == o.Name {
			st.Other.Content, st.Other.Version, st.Other.Seq = other.Content, other.Version, other.Seq
			if h, err := bundle.ParseHeader(other.Header); err == nil {
				st.Other.Version, st.Other.Seq = h.Manifest.Version, h.Manifest.Seq
				st.Other.Digest = digestHex(h)
			}
		}
		if st.Other.Content == "verified" {
			st.State = Downloaded
		}
	}
	if c := u.current(); c != nil {
		st.State = Downloading
		st.BytesReceived, st.BytesTotal = c.received, c.total
		st.UploadID = c.id
	}
	p, _ := u.pending()
	if p != nil && p.Slot == st.Running.Slot { // a trial runs: the other slot is the committed root
		st.Other = Root{Slot: otherName(p.Slot), Content: "previous", Version: p.FromVersion, Seq: p.FromSeq}
	}
	switch st.Committed.Slot {
	case st.Running.Slot:
		st.Committed = st.Running
	case st.Other.Slot:
		st.Committed = st.Other
	}
	if p != nil {
		st.State = Updating
		st.Trial = &Trial{Slot: p.Slot, Mode: p.Mode, Stage: p.Stage, ConfirmAdmin: p.Confirm,
			DeadlineSeconds: int(p.Deadline.Seconds()), HealthyAfterSeconds: int(p.Healthy.Seconds()), Waiting: u.waiting}
		if p.Slot == st.Running.Slot && !u.started.IsZero() {
			st.Trial.RemainingSeconds = int((p.Deadline - time.Since(u.started)).Seconds())
		}
	}
	return st
}

func digestHex(h *bundle.Header) string {
	d := h.Digest()
	return hex.EncodeToString(d[:])
}

// UploadID is what names an upload: the first 16 hex digits of its manifest's digest.
func UploadID(h *bundle.Header) string { return digestHex(h)[:16] }

// OnChange adds fn to those that get the status each time it changed (at most about once a
// second while an upload runs), before the method that changed it returns: an answer sent
// after it and a status read after that agree.
func (u *Updater) OnChange(fn func(Status)) {
	u.notifyMu.Lock()
	u.onChange = append(u.onChange, fn)
	u.notifyMu.Unlock()
}

// changed marks the status changed, at most once a second unless now; u.mu is held. The
// method that changed it calls notify once it released u.mu.
func (u *Updater) changed(now bool) {
	if !now && time.Since(u.notified) < time.Second {
		return
	}
	u.notified = time.Now()
	u.dirty = true
}

// notify hands the status on when it changed; u.mu is not held.
func (u *Updater) notify() {
	u.notifyMu.Lock()
	defer u.notifyMu.Unlock()
	u.mu.Lock()
	dirty := u.dirty
	u.dirty = false
	u.mu.Unlock()
	if !dirty || len(u.onChange) == 0 {
		return
	}
	st := u.Status()
	for _, fn := range u.onChange {
		fn(st)
	}
}

// setResult records how an update ended, for the status.
func (u *Updater) setResult(r Result, reason string) {
	if err := put(u.cfg.Dir, keyResult, resultRecord{Result: r, Reason: reason}); err != nil {
		u.cfg.Log.Error("record the update result", "err", err)
	}
}
