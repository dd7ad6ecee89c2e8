package config

import (
	"strings"
	"time"
)

// update checks the update section and fills in its defaults. dtls is the
// coap.dtls section, at dtlsPath, checked already: confirm admin needs one of
// its admins.
func (v *validator) update(u *Update, path string, dtls *DTLS, dtlsPath string) {
	switch {
	case u.Confirm == "":
		u.Confirm = UpdateConfirmAuto
	default:
		written := u.Confirm
		u.Confirm = v.oneOf(path+".confirm", u.Confirm, "a confirm mode", UpdateConfirmAuto, UpdateConfirmAdmin)
		// Only an admin can commit then: without one, every new root would go
		// back at its trial deadline.
		if u.Confirm == UpdateConfirmAdmin && !v.failed(dtlsPath+".admins") {
			switch {
			case dtls == nil:
				v.fail(path+".confirm", false, "%q needs %s with at least one identity in %s.admins (there is no %s): otherwise nobody could ever commit a new root",
					written, dtlsPath, dtlsPath, dtlsPath)
			case len(dtls.Admins) == 0:
				v.fail(path+".confirm", false, "%q needs %s with at least one identity in %s.admins (%s has no admins): otherwise nobody could ever commit a new root",
					written, dtlsPath, dtlsPath, dtlsPath)
			}
		}
	}

	switch {
	case u.Trial == "":
		u.Trial = UpdateTrialAuto
	default:
		u.Trial = v.oneOf(path+".trial", u.Trial, "a trial mode", UpdateTrialAuto, UpdateTrialTryboot, UpdateTrialCounter)
	}

	deadlineOK := v.duration(&u.TrialDeadline, path+".trial_deadline", defaultTrialDeadline, minTrialDeadline, maxTrialDeadline)
	healthyOK := v.duration(&u.HealthyAfter, path+".healthy_after", defaultHealthyAfter, minHealthyAfter, maxHealthyAfter)
	// A root that must run healthy for longer than it is given can never pass its trial.
	if deadlineOK && healthyOK && u.HealthyAfter >= u.TrialDeadline {
		v.fail(path+".healthy_after", false, "%s: must be below trial_deadline (%s)",
			shortDuration(time.Duration(u.HealthyAfter)), shortDuration(time.Duration(u.TrialDeadline)))
	}
}

// duration fills in def for a duration of 0, or else checks that it is
// min..max, and reports whether it is valid and was written validly.
func (v *validator) duration(d *Duration, path string, def, min, max time.Duration) bool {
	switch x := time.Duration(*d); {
	case x == 0: // left out of a Config built in Go, or written 0
		*d = Duration(def)
	case x < min || x > max:
		v.fail(path, false, "%s: must be %s..%s", shortDuration(x), shortDuration(min), shortDuration(max))
		return false
	}
	return !v.failed(path)
}

// shortDuration writes d as a rule gives it: 1m or 24h rather than 1m0s or
// 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
