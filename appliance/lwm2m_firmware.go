package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m"
	"github.com/pigw/pigw/appliance/update"
)

// lwm2mFirmware is LwM2M's Firmware Update object (5) on the appliance's one update
// mechanism: a Package pushed with Block1 goes block by block to the same handler as a PUT of
// /sys/update, Execute Update is /sys/update/apply, and State and Update Result are the
// Updater's status, numbered as LwM2M numbers them. A Package URI is pulled (CoAP or HTTP)
// into the same Updater.Take. Nothing about an update is written twice.
type lwm2mFirmware struct {
	su  *sysUpdate
	obj *lwm2m.Firmware
	log *slog.Logger
	// last is the Updater's status as OnChange last gave it. The object's reads take it from
	// here: a change refreshes every resource of /5, /5/0 and its four, and Updater.Status
	// reads records and the boot partition, too slow for the request that made the change.
	last atomic.Pointer[update.Status]

	stall time.Duration // pullStall, or shorter in tests

	mu     sync.Mutex
	ctx    context.Context // the LwM2M client's run: pulls end with it
	cancel context.CancelFunc
	done   chan struct{} // closed when the pull in progress has ended
}

func newLwM2MFirmware(su *sysUpdate, log *slog.Logger) (*lwm2mFirmware, error) {
	f := &lwm2mFirmware{su: su, log: log}
	st := su.u.Status()
	f.last.Store(&st)
	var err error
	f.obj, err = lwm2m.NewFirmware(lwm2m.FirmwareFacts{
		Package: f.push, Pull: f.pull, Reset: f.reset, Update: f.apply, Status: f.status,
		Protocols: []int64{0, 2}, // CoAP and HTTP: the bundle's signature is its integrity
	})
	if err != nil {
		return nil, err
	}
	su.u.OnChange(func(st update.Status) {
		f.last.Store(&st)
		f.obj.Changed()
	})
	return f, nil
}

// run lets pulls start until ctx ends, and then waits for the one in progress.
func (f *lwm2mFirmware) run(ctx context.Context) {
	f.mu.Lock()
	f.ctx = ctx
	f.mu.Unlock()
	<-ctx.Done()
	f.stopPull()
}

// push is a block of a Package Write: /sys/update's upload, answered without its status.
func (f *lwm2mFirmware) push(b coap.Block) coap.Answer {
	f.stopPull()
	a := f.su.put(b)
	if a.Code == coap.Changed {
		a.ContentFormat, a.Payload = coap.NoMediaType, nil
	}
	return a
}

func (f *lwm2mFirmware) reset() error {
	f.stopPull()
	if err := f.su.u.Discard("the LwM2M server wrote an empty package"); err != nil {
		return fmt.Errorf("%w: %v", lwm2m.ErrNotAllowed, err)
	}
	return nil
}

func (f *lwm2mFirmware) apply() error {
	if st := f.last.Load(); st.State != update.Downloaded {
		return fmt.Errorf("%w: the state is %d, and Update needs a package downloaded (2)", lwm2m.ErrNotAllowed, st.State)
	}
	_, err := f.su.applyAndReboot("lwm2m")
	return err
}

// status is the Updater's status as object 5 shows it: the package is the bundle on its way
// in or received, or during a trial the root on trial.
func (f *lwm2mFirmware) status() lwm2m.FirmwareStatus {
	st := f.last.Load()
	fs := lwm2m.FirmwareStatus{State: int64(st.State), Result: int64(st.Result)}
	switch {
	case st.State == update.Updating && st.Trial != nil && st.Trial.Slot == st.Running.Slot:
		fs.PkgVersion = st.Running.Version
	case st.State != update.Idle:
		fs.PkgVersion = st.Other.Version
	}
	if fs.PkgVersion != "" {
		fs.PkgName = "pigw"
	}
	return fs
}

// pull checks uri and starts fetching it. A URI pigw cannot fetch is refused with 4.00 and
// recorded as Update Result 7 (not a URI) or 9 (a scheme pigw does not fetch), and changes
// nothing else: a package downloaded stays. A URI taken discards it, as a new download does.
func (f *lwm2mFirmware) pull(uri string) error {
	u, err := url.Parse(uri)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		err = fmt.Errorf("%w: package URI %q: want coap://host[:port]/path or http://host[:port]/path", lwm2m.ErrBadValue, uri)
		f.su.u.Refuse(update.ResultInvalidURI, err)
		return err
	case u.Scheme != "coap" && u.Scheme != "http":
		err = fmt.Errorf("%w: package URI %q: scheme %q is not fetched: coap and http are (the bundle is signed)", lwm2m.ErrBadValue, uri, u.Scheme)
		f.su.u.Refuse(update.ResultProtocol, err)
		return err
	}
	f.stopPull()
	if err := f.su.u.Discard("the LwM2M server wrote a new package URI"); err != nil {
		return fmt.Errorf("%w: %v", lwm2m.ErrNotAllowed, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx == nil || f.ctx.Err() != nil {
		return errors.New("the LwM2M client is not running")
	}
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	f.cancel, f.done = cancel, done
	go func() {
		defer close(done)
		defer cancel()
		f.fetch(ctx, u)
	}()
	return nil
}

// stopPull ends the pull in progress, if one is, and waits for it.
func (f *lwm2mFirmware) stopPull() {
	f.mu.Lock()
	cancel, done := f.cancel, f.done
	f.cancel, f.done = nil, nil
	f.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}
