package update

// State is where an update is, numbered as LwM2M's Firmware Update object (/5/0/3), so that a
// fleet's LwM2M server reads pigw's own status unchanged.
type State int

const (
	Idle        State = 0
	Downloading State = 1
	Downloaded  State = 2
	Updating    State = 3
)

// Result is how the last update ended, numbered as LwM2M's Firmware Update object (/5/0/5,
// OMA LwM2M 1.0 §E.6).
type Result int

const (
	ResultInitial     Result = 0
	ResultSuccess     Result = 1
	ResultNoStorage   Result = 2 // the root does not fit the slot
	ResultConnection  Result = 4 // a pulled download broke off
	ResultIntegrity   Result = 5 // bad signature, or the root read back differs from the manifest
	ResultUnsupported Result = 6 // signed, but not for this device: board, architecture, kernel, a downgrade
	ResultInvalidURI  Result = 7 // a download's URI that cannot be fetched: not found, or not a URI
	ResultFailed      Result = 8 // the trial did not come up healthy
	ResultProtocol    Result = 9 // a download's URI scheme that pigw does not fetch
)

// Status is what GET /sys/update shows.
type Status struct {
	State   State  `json:"state"`
	Result  Result `json:"result"`
	Reason  string `json:"reason,omitempty"`
	Running Root   `json:"running"`
	// Committed is the root the next normal boot starts: the running one or the other.
	Committed Root `json:"committed"`
	Other     Root `json:"other"`
	// The upload in progress: its ID (what a client resumes with), the bundle bytes received
	// and the bundle's size.
	UploadID      string `json:"upload_id,omitempty"`
	BytesReceived int64  `json:"bytes_received"`
	BytesTotal    int64  `json:"bytes_total,omitempty"`
	// TrustedKeys is how many keys the running root accepts bundles from; 0 refuses every one.
	TrustedKeys int    `json:"trusted_keys"`
	Floor       uint64 `json:"floor"`
	// Trial is the trial armed or running, nil when none is.
	Trial *Trial `json:"trial,omitempty"`
}

// Trial describes a trial armed or running.
type Trial struct {
	Slot                string `json:"slot"`
	Mode                Mode   `json:"mode"`
	Stage               string `json:"stage"` // armed, started, booted
	ConfirmAdmin        bool   `json:"confirm_admin"`
	DeadlineSeconds     int    `json:"deadline_seconds"`
	HealthyAfterSeconds int    `json:"healthy_after_seconds"`
	// While the trial runs: the seconds left before the device goes back to the committed
	// root, and what the commit still waits for.
	RemainingSeconds int    `json:"remaining_seconds,omitempty"`
	Waiting          string `json:"waiting,omitempty"`
}

// Root describes what a slot holds.
type Root struct {
	Slot    string `json:"slot"`
	Content string `json:"content"` // running, empty, partial (an upload in progress or broken off), verified, invalid
	Version string `json:"version,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	Digest  string `json:"digest,omitempty"` // the SHA-256 of the bundle's manifest
}
