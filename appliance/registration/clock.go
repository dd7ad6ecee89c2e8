package registration

import "github.com/pigw/pigw/internal/timesrc"

// Clock is the engine's time: the system's, or in tests one that runs faster.
type Clock = timesrc.Clock

// Timer fires once on C after its duration; a duration <= 0 fires at once.
type Timer = timesrc.Timer
