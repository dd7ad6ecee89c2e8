package push

import (
	"context"
	"fmt"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/update"
)

// RolledBackError is a trial that ended on the committed root: the device's result code and
// its reason.
type RolledBackError struct {
	Result update.Result
	Reason string
}

func (e *RolledBackError) Error() string {
	return fmt.Sprintf("the device went back to its committed root (result %d): %s", e.Result, e.Reason)
}

// Watch reports what the device says while it applies an update.
type Watch func(update.Status)

// Apply arms the trial of the root the device holds, then follows the device through its
// reboot until the new version runs committed (with confirm: admin, it confirms when the
// device waits for that), or the device is back on its old root. wait bounds the whole.
func (p *Pusher) Apply(ctx context.Context, want string, wait time.Duration, watch Watch) (update.Status, error) {
	st, err := p.poll(ctx)
	if err != nil {
		return st, err
	}
	from := st.Running.Slot
	s, err := p.Dial()
	if err != nil {
		return st, err
	}
	resp, err := s.Do(ctx, coap.NewRequest(coap.POST, Path+"/apply"))
	s.Close()
	if err != nil {
		return st, fmt.Errorf("apply: %w", err)
	}
	if resp.Code != coap.Changed {
		return st, &RefusedError{resp}
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	time.Sleep(time.Second) // the device stops its listeners to reboot
	for {
		st, err := p.poll(ctx)
		if err == nil {
			if watch != nil {
				watch(st)
			}
			switch {
			case st.Trial == nil && st.Running.Version == want && st.Committed.Slot == st.Running.Slot:
				return st, nil
			case st.Trial == nil && st.Running.Slot == from && st.Result == update.ResultFailed:
				return st, &RolledBackError{Result: st.Result, Reason: st.Reason}
			case st.Trial != nil && st.Trial.Slot == st.Running.Slot && st.Trial.ConfirmAdmin && st.Trial.Waiting == update.WaitingForAdmin:
				if err := p.confirm(ctx); err != nil && p.Log != nil {
					p.Log.Warn("confirm the trial", "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("the device did not finish the update within %s (last: %v)", wait, cmpErr(err, st))
		case <-time.After(2 * time.Second):
		}
	}
}

func cmpErr(err error, st update.Status) any {
	if err != nil {
		return err
	}
	if st.Trial != nil {
		return fmt.Sprintf("trial of slot %s, stage %s, waiting for %s", st.Trial.Slot, st.Trial.Stage, st.Trial.Waiting)
	}
	return fmt.Sprintf("running %s on slot %s", st.Running.Version, st.Running.Slot)
}

// poll asks for the status on a new session: the device may have rebooted since the last.
func (p *Pusher) poll(ctx context.Context) (update.Status, error) {
	s, err := p.Dial()
	if err != nil {
		return update.Status{}, err
	}
	defer s.Close()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return Status(rctx, s)
}

// confirm commits the trial running on the device.
func (p *Pusher) confirm(ctx context.Context) error {
	s, err := p.Dial()
	if err != nil {
		return err
	}
	defer s.Close()
	resp, err := s.Do(ctx, coap.NewRequest(coap.POST, Path+"/commit"))
	if err != nil {
		return err
	}
	if resp.Code != coap.Changed {
		return &RefusedError{resp}
	}
	return nil
}
