package appliance

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/state"
	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/internal/blockdev"
)

// sysUpdate is /sys/update: the update's status (GET, observable) and the upload of a bundle
// into the other root slot (PUT with Block1), for admins only.
type sysUpdate struct {
	u   *update.Updater
	res *coap.Resource
}

func addUpdateResource(srv *coap.Server, opts Options, admins []string, log *slog.Logger) error {
	ur := &sysUpdate{}
	u, err := newUpdater(opts, log, func() { ur.publish() })
	if err != nil {
		log.Warn("updates unavailable", "err", err)
		why := []byte("updates unavailable: " + err.Error())
		answer := func(coap.Incoming) coap.Answer {
			return coap.Answer{Code: coap.Unavailable, ContentFormat: coap.NoMediaType, Payload: why}
		}
		_, err := srv.AddResource("sys/update", coap.WithHandler(coap.GET, answer), coap.WithHandler(coap.PUT, answer),
			coap.WithGuard(adminOnly(admins)), coap.WithAttribute("rt", "pigw.update"), coap.WithHidden())
		return err
	}
	ur.u = u
	ur.res, err = srv.AddResource("sys/update", coap.WithMediaType(coap.AppJSON), coap.WithMethods(coap.GET),
		coap.WithBlockHandler(coap.PUT, ur.put), coap.WithGuard(adminOnly(admins)),
		coap.WithAttribute("rt", "pigw.update"), coap.WithHidden())
	if err != nil {
		return err
	}
	ur.publish()
	return nil
}

// newUpdater is the updater of the running system: the card's partitions, or the file
// Options.UpdateSlot names.
func newUpdater(opts Options, log *slog.Logger, onChange func()) (*update.Updater, error) {
	if opts.StateDir == "" {
		return nil, errors.New("they need a state directory (--state-dir) to resume uploads and keep the floor")
	}
	dir, err := state.Open(filepath.Join(opts.StateDir, "update"))
	if err != nil {
		return nil, err
	}
	var layout update.Layout = update.Partitions{Finder: blockdev.Kernel(), Root: "/"}
	if opts.UpdateSlot != "" {
		layout = update.FileSlot{Path: opts.UpdateSlot}
	}
	root := opts.UpdateRoot
	if root == "" {
		root = "/"
	}
	return update.New(update.Config{Dir: dir, Root: root, Layout: layout, Log: log.With("subsystem", "update"), OnChange: onChange})
}

func (ur *sysUpdate) publish() {
	if ur.res != nil {
		_ = ur.res.SetValue(marshal(ur.u.Status()))
	}
}

// put takes one block of a bundle. A client resuming an upload names it with ?id=UPLOAD_ID.
func (ur *sysUpdate) put(b coap.Block) coap.Answer {
	p := update.Piece{Offset: b.Offset, Data: b.Payload, More: b.More, Size1: b.Size1}
	for _, q := range b.Queries {
		if v, ok := strings.CutPrefix(q, "id="); ok {
			p.ID = v
		}
	}
	done, err := ur.u.Take(p)
	switch {
	case err != nil:
		return updateRefusal(err)
	case done:
		return coap.Answer{Code: coap.Changed, ContentFormat: coap.AppJSON, Payload: marshal(ur.u.Status())}
	}
	return coap.Answer{Code: coap.Continue, ContentFormat: coap.NoMediaType}
}

// updateRefusal answers a refused piece: 4.03 signature or policy, 4.13 too large, 4.00 a
// bundle that does not match its manifest, 4.08 a piece beyond what arrived, 4.12 another
// upload, 5.03 a device that cannot take updates now.
func updateRefusal(err error) coap.Answer {
	code := coap.Code(coap.Unavailable)
	var e *update.Error
	if errors.As(err, &e) {
		code = map[update.Kind]coap.Code{update.Refused: coap.Forbidden, update.TooLarge: coap.TooLarge,
			update.Corrupt: coap.BadRequest, update.OutOfOrder: coap.Incomplete, update.WrongUpload: coap.PreconditionFailed,
			update.Unavailable: coap.Unavailable}[e.Kind]
	}
	return coap.Answer{Code: code, ContentFormat: coap.NoMediaType, Payload: fmt.Appendf(nil, "update refused: %v", err)}
}
