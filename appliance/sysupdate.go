package appliance

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/appliance/state"
	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/internal/blockdev"
)

// sysUpdate is /sys/update, for admins only: the update's status (GET, observable), the
// upload of a bundle into the other root slot (PUT with Block1), and the trial's actions
// (POST apply, commit, rollback).
type sysUpdate struct {
	u      *update.Updater
	res    *coap.Resource
	policy update.Policy
	health update.Health
	log    *slog.Logger
	stop   func(error) // asks Run to stop, after the answer is sent
	init   bool        // pigw is the card's init: a reboot starts what it armed
}

// OpenUpdater is the updater of the running system: its records in stateDir, the release and
// keys of the root at root ("/" when empty), and the card's other root partition, or the
// file slot when not empty (tests on a PC).
func OpenUpdater(stateDir, root, slot string, log *slog.Logger) (*update.Updater, error) {
	if stateDir == "" {
		return nil, errors.New("updates need a state directory (--state-dir) to resume uploads and keep the floor")
	}
	dir, err := state.Open(filepath.Join(stateDir, "update"))
	if err != nil {
		return nil, err
	}
	var layout update.Layout = update.Partitions{Finder: blockdev.Kernel(), Root: "/"}
	if slot != "" {
		layout = update.FileSlot{Path: slot}
	}
	if root == "" {
		root = "/"
	}
	return update.New(update.Config{Dir: dir, Root: root, Layout: layout, Log: log.With("subsystem", "update")})
}

func addUpdateResources(srv *coap.Server, su *sysUpdate, admins []string, why error) error {
	guard := coap.WithGuard(adminOnly(admins))
	if su.u == nil {
		msg := []byte("updates unavailable: " + why.Error())
		answer := func(coap.Incoming) coap.Answer {
			return coap.Answer{Code: coap.Unavailable, ContentFormat: coap.NoMediaType, Payload: msg}
		}
		_, err := srv.AddResource("sys/update", coap.WithHandler(coap.GET, answer), coap.WithHandler(coap.PUT, answer),
			guard, coap.WithAttribute("rt", "pigw.update"), coap.WithHidden())
		return err
	}
	var err error
	su.res, err = srv.AddResource("sys/update", coap.WithMediaType(coap.AppJSON), coap.WithMethods(coap.GET), coap.WithETag(),
		coap.WithBlockHandler(coap.PUT, su.put), guard, coap.WithAttribute("rt", "pigw.update"), coap.WithHidden())
	if err != nil {
		return err
	}
	for name, fn := range map[string]coap.Handler{"apply": su.apply, "commit": su.commit, "rollback": su.rollback} {
		if _, err := srv.AddResource("sys/update/"+name, coap.WithHandler(coap.POST, fn), guard,
			coap.WithAttribute("rt", "pigw.action"), coap.WithHidden()); err != nil {
			return err
		}
	}
	su.u.OnChange(su.publish)
	su.publish(su.u.Status())
	return nil
}

func (su *sysUpdate) publish(st update.Status) { _ = su.res.SetValue(marshal(st)) }

func (su *sysUpdate) status() coap.Answer {
	return coap.Answer{Code: coap.Changed, ContentFormat: coap.AppJSON, Payload: marshal(su.u.Status())}
}

// put takes one block of a bundle. A client resuming an upload names it with ?id=UPLOAD_ID.
func (su *sysUpdate) put(b coap.Block) coap.Answer {
	p := update.Piece{Offset: b.Offset, Data: b.Payload, More: b.More, Size1: b.Size1}
	for _, q := range b.Queries {
		if v, ok := strings.CutPrefix(q, "id="); ok {
			p.ID = v
		}
	}
	done, err := su.u.Take(p)
	switch {
	case err != nil:
		return updateRefusal(err)
	case done:
		return su.status()
	}
	return coap.Answer{Code: coap.Continue, ContentFormat: coap.NoMediaType}
}

// apply arms a trial of the root received and reboots into it.
func (su *sysUpdate) apply(in coap.Incoming) coap.Answer {
	said, err := su.applyAndReboot(in.Identity)
	if err != nil {
		return updateRefusal(err)
	}
	// A short answer: it must leave in one datagram before the reboot (a status would need
	// Block2, and the device would be gone before the client asked for the second block).
	return coap.Answer{Code: coap.Changed, ContentFormat: coap.TextPlain, Payload: []byte(said)}
}

// applyAndReboot arms a trial of the root received, for who, and has the appliance reboot
// into it once the answer went out: /sys/update/apply and LwM2M's Execute of /5/0/2.
func (su *sysUpdate) applyAndReboot(who string) (string, error) {
	if !su.init {
		return "", &update.Error{Kind: update.Unavailable, Err: errors.New("pigw runs as a program here, not as the card's init: nothing would boot the new root")}
	}
	if err := su.u.Apply(su.policy, addressedLinks()); err != nil {
		return "", err
	}
	su.log.Warn("update applied: rebooting into the trial", "by", who, "mode", su.policy.Mode)
	if su.policy.Mode == update.ModeTryboot {
		su.stop(ErrTryboot)
	} else {
		su.stop(ErrReboot)
	}
	return fmt.Sprintf("trial armed (%s): rebooting", su.policy.Mode), nil
}

// commit is an admin's confirmation of the trial running here.
func (su *sysUpdate) commit(coap.Incoming) coap.Answer {
	if err := su.u.Confirm(su.health); err != nil {
		return updateRefusal(err)
	}
	return coap.Answer{Code: coap.Changed, ContentFormat: coap.TextPlain, Payload: []byte("committed")}
}

// rollback ends a trial: an armed one is cancelled, a running one reboots to the committed root.
func (su *sysUpdate) rollback(in coap.Incoming) coap.Answer {
	st := su.u.Status()
	if err := su.u.Rollback(fmt.Sprintf("rolled back by %s", in.Identity)); err != nil {
		return updateRefusal(err)
	}
	if st.Trial != nil && st.Trial.Slot == st.Running.Slot {
		su.log.Warn("update trial rolled back: rebooting to the committed root", "identity", in.Identity)
		su.stop(ErrReboot)
		return coap.Answer{Code: coap.Changed, ContentFormat: coap.TextPlain, Payload: []byte("trial rolled back: rebooting to the committed root")}
	}
	return coap.Answer{Code: coap.Changed, ContentFormat: coap.TextPlain, Payload: []byte("armed trial cancelled")}
}

// updateRefusal answers a refusal: 4.03 signature or policy, 4.13 too large (with Size1), 4.00 a bundle
// that does not match its manifest, 4.08 a piece beyond what arrived, 4.12 another upload,
// 5.03 a device that cannot do it now.
func updateRefusal(err error) coap.Answer {
	a := coap.Answer{Code: coap.Unavailable, ContentFormat: coap.NoMediaType, Payload: fmt.Appendf(nil, "update: %v", err)}
	var e *update.Error
	if errors.As(err, &e) {
		a.Code = map[update.Kind]coap.Code{update.Refused: coap.Forbidden, update.TooLarge: coap.TooLarge,
			update.Corrupt: coap.BadRequest, update.OutOfOrder: coap.Incomplete, update.WrongUpload: coap.PreconditionFailed,
			update.Unavailable: coap.Unavailable}[e.Kind]
		a.Size1 = e.Limit // 4.13 says how much is taken (RFC 7959 §4)
	}
	return a
}

// trialPolicy is how trials run, from the update section; board is the device tree's model.
func trialPolicy(c config.Update, board string) update.Policy {
	p := update.Policy{Mode: update.ModeCounter, ConfirmAdmin: c.Confirm == config.UpdateConfirmAdmin,
		TrialDeadline: time.Duration(c.TrialDeadline), HealthyAfter: time.Duration(c.HealthyAfter)}
	switch c.Trial {
	case config.UpdateTrialTryboot:
		p.Mode = update.ModeTryboot
	case config.UpdateTrialAuto, "":
		if trybootBoard(board) {
			p.Mode = update.ModeTryboot
		}
	}
	return p
}

// trybootBoard reports a board whose firmware has tryboot: Pi 4, 400, 5, 500, CM4 and CM5
// (the Raspberry Pi documentation's "tryboot"; the Zero 2 W and Pi 3 are left to the counter).
func trybootBoard(model string) bool {
	for _, m := range []string{"Raspberry Pi 4 ", "Raspberry Pi 400 ", "Raspberry Pi 5 ", "Raspberry Pi 500 ", "Raspberry Pi Compute Module 4", "Raspberry Pi Compute Module 5"} {
		if strings.HasPrefix(model+" ", m) {
			return true
		}
	}
	return false
}
