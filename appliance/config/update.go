package config

import "time"

// Update is how the device takes updates over the network (pigw update, /sys/update).
type Update struct {
	// Confirm decides who commits a new root once its trial boot is healthy: "auto" (pigw
	// itself) or "admin" (only an admin's POST /sys/update/commit, which proves that the
	// network and the keys still work). admin needs coap.dtls with at least one identity in
	// coap.dtls.admins, or nobody could commit. Lower case is stored; any case is accepted
	// in the file. Default: "auto", which "" also means.
	Confirm string `yaml:"confirm"`
	// Trial is how a new root is tried once: "tryboot" (the Pi 4 and 5 firmware's one-shot
	// tryboot), "counter" (pigw's own one-shot boot counter on /perm: Pi 3, Zero 2 W, QEMU),
	// or "auto" (tryboot on a Pi 4, 400, 5, 500, CM4 or CM5, the counter elsewhere). Lower
	// case is stored; any case is accepted in the file. Default: "auto", which "" also
	// means.
	Trial string `yaml:"trial"`
	// TrialDeadline is how long a trial root has to become healthy before the device goes
	// back to the committed root. 30s..24h. Default: 10m, which 0 also means.
	TrialDeadline Duration `yaml:"trial_deadline"`
	// HealthyAfter is how long a trial root must have run, healthy, before it counts as
	// healthy: long enough for a fault that takes a while to show. 5s..1h, and below
	// trial_deadline. Default: 90s, which 0 also means.
	HealthyAfter Duration `yaml:"healthy_after"`
}

// The values of Update.Confirm.
const (
	UpdateConfirmAuto  = "auto"
	UpdateConfirmAdmin = "admin"
)

// The values of Update.Trial.
const (
	UpdateTrialAuto    = "auto"
	UpdateTrialTryboot = "tryboot"
	UpdateTrialCounter = "counter"
)

// Defaults and rules of the update section.
const (
	defaultTrialDeadline = 10 * time.Minute
	minTrialDeadline     = 30 * time.Second // less would not leave a boot the time to come up
	maxTrialDeadline     = 24 * time.Hour
	defaultHealthyAfter  = 90 * time.Second
	minHealthyAfter      = 5 * time.Second
	maxHealthyAfter      = time.Hour
)

// defaultUpdate returns the update section of a file that has none.
func defaultUpdate() Update {
	return Update{
		Confirm:       UpdateConfirmAuto,
		Trial:         UpdateTrialAuto,
		TrialDeadline: Duration(defaultTrialDeadline),
		HealthyAfter:  Duration(defaultHealthyAfter),
	}
}
