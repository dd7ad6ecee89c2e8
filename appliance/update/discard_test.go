package update

import (
	"errors"
	"strings"
	"testing"
)

// Discard takes the status back to Idle from a download in progress and from a root
// received, and refuses while a trial is armed; Refuse and DownloadFailed record the
// download's results, and every change reaches each OnChange function.
func TestDiscard(t *testing.T) {
	d, _, u := downloaded(t)
	var seen [2][]State
	for i := range seen {
		u.OnChange(func(st Status) { seen[i] = append(seen[i], st.State) })
	}
	u.Refuse(ResultProtocol, errors.New("scheme ftp"))
	if st := u.Status(); st.State != Downloaded || st.Result != ResultProtocol {
		t.Errorf("after Refuse: state %d result %d, want the root kept (2) and result 9", st.State, st.Result)
	}
	if err := u.Discard("test"); err != nil {
		t.Fatal(err)
	}
	if st := d.updater(t).Status(); st.State != Idle || st.Result != ResultInitial || st.Other.Content != "discarded" {
		t.Errorf("after Discard, restarted: %+v", st)
	}
	if err := u.Apply(quick, nil); err == nil || !strings.Contains(err.Error(), "holds no verified root") {
		t.Errorf("Apply after Discard: %v", err)
	}

	b := makeBundle(t, d.key, 1<<20, nil)
	if _, err := push(u, b, 0, 8192, 1024, ""); err != nil {
		t.Fatal(err)
	}
	if st := u.Status(); st.State != Downloading {
		t.Fatalf("half a bundle: state %d", st.State)
	}
	u.DownloadFailed(ResultConnection, errors.New("connection reset"))
	if st := d.updater(t).Status(); st.State != Idle || st.Result != ResultConnection || !strings.Contains(st.Reason, "connection reset") {
		t.Errorf("after DownloadFailed, restarted: %+v", st)
	}
	// A refusal Take recorded stays: DownloadFailed does not overwrite it.
	u.DownloadFailed(ResultInvalidURI, &Error{Kind: Refused, Result: ResultIntegrity, Err: errors.New("bad signature")})
	if st := u.Status(); st.Result != ResultConnection {
		t.Errorf("result %d after a refusal Take had recorded", st.Result)
	}

	if done, err := push(u, b, 0, 1<<40, 1024, ""); !done || err != nil {
		t.Fatal(done, err)
	}
	if err := u.Apply(quick, nil); err != nil {
		t.Fatal(err)
	}
	var e *Error
	if err := u.Discard("test"); !errors.As(err, &e) || e.Kind != Unavailable {
		t.Errorf("Discard with a trial armed: %v, want Unavailable", err)
	}
	for i, s := range seen {
		if len(s) < 4 || s[len(s)-1] != Updating {
			t.Errorf("OnChange function %d saw %v", i, s)
		}
	}
}
