package dhcp4

import "github.com/pigw/pigw/internal/timesrc"

// Clock is the client's time: the real one, or a fake one in tests that moves when told.
type Clock = timesrc.Clock

// Timer fires once on C after its duration; a duration <= 0 fires at once.
type Timer = timesrc.Timer
