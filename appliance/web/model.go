package web

import "time"

// Snapshot is everything the page shows at one moment. Its types hold no configuration, only
// what the appliance reports, so that nothing secret can end up on the page.
type Snapshot struct {
	System     System      `json:"system"`
	Network    Network     `json:"network"`
	Subsystems []Subsystem `json:"subsystems"`
	Sensors    []Sensor    `json:"sensors"`
	GPIO       []Pin       `json:"gpio"`
	Resources  []Resource  `json:"resources"`
	// ResourcesOmitted counts the resources left out past the page's limit.
	ResourcesOmitted int       `json:"resources_omitted,omitempty"`
	Sessions         []Session `json:"sessions"`
	// Registrations are pigw's registrations with servers that list it: an LwM2M server, a
	// Resource Directory.
	Registrations []Registration `json:"registrations"`
	Counters      Counters       `json:"counters"`
}

// System is the machine and the pigw on it.
type System struct {
	Hostname      string   `json:"hostname"`
	Version       string   `json:"version"`
	Board         string   `json:"board"`
	Kernel        string   `json:"kernel"`
	UptimeSeconds int64    `json:"uptime_seconds"` // of pigw
	Memory        Memory   `json:"memory"`
	Storage       *Storage `json:"storage,omitempty"` // nil without a state directory
}

// Memory is the machine's memory and what pigw's Go runtime holds of it.
type Memory struct {
	TotalBytes     uint64 `json:"total_bytes"`
	AvailableBytes uint64 `json:"available_bytes"`
	GoBytes        uint64 `json:"go_bytes"` // all memory the Go runtime mapped
	GoHeapBytes    uint64 `json:"go_heap_bytes"`
}

// Storage is the use of the file system the state is kept on (/perm on the Pi).
type Storage struct {
	Path       string `json:"path"`
	TotalBytes uint64 `json:"total_bytes"`
	FreeBytes  uint64 `json:"free_bytes"`
}

// Network is the links and the WiFi.
type Network struct {
	Links []Link `json:"links"`
	Wifi  *Wifi  `json:"wifi,omitempty"` // nil when WiFi is off
}

// Link is one network interface.
type Link struct {
	Name      string   `json:"name"`
	Up        bool     `json:"up"`
	MAC       string   `json:"mac,omitempty"`
	MTU       int      `json:"mtu"`
	Addresses []string `json:"addresses"`
	DHCP      string   `json:"dhcp,omitempty"` // the DHCP client's state, when it runs
	Lease     *Lease   `json:"lease,omitempty"`
}

// Lease is a DHCPv4 lease.
type Lease struct {
	Address string    `json:"address"`
	Router  string    `json:"router,omitempty"`
	DNS     []string  `json:"dns,omitempty"`
	Server  string    `json:"server"`
	Expires time.Time `json:"expires"`
}

// Wifi is the WiFi link's state: never its keys.
type Wifi struct {
	Interface string    `json:"interface"`
	State     string    `json:"state"`
	SSID      string    `json:"ssid,omitempty"`
	SignalDBm int       `json:"signal_dbm,omitempty"`
	Frequency int       `json:"frequency_mhz,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	Since     time.Time `json:"since"`
}

// Subsystem is one part of the appliance the supervisor runs.
type Subsystem struct {
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Restarts  int       `json:"restarts"`
	LastError string    `json:"last_error,omitempty"`
	Since     time.Time `json:"since"`
	LastLog   string    `json:"last_log,omitempty"` // its last log line
}

// Sensor is one sensor's last sample.
type Sensor struct {
	Name       string    `json:"name"`
	Readings   []Reading `json:"readings"`
	At         time.Time `json:"at,omitzero"` // when it was read; zero before the first reading
	AgeSeconds float64   `json:"age_seconds"`
	Failure    string    `json:"failure,omitempty"`
}

// Reading is one quantity of a sample.
type Reading struct {
	Quantity string  `json:"quantity"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
}

// Pin is one GPIO pin.
type Pin struct {
	Name      string `json:"name"`
	Direction string `json:"direction"` // in or out
	Level     string `json:"level"`     // "0", "1", or "" when unusable
	Failure   string `json:"failure,omitempty"`
}

// Resource is one CoAP resource (not the appliance's own, which are hidden, nor sensors and
// pins, which have their own lists).
type Resource struct {
	URI       string `json:"uri"`
	MediaType string `json:"media_type,omitempty"`
	Methods   string `json:"methods,omitempty"`
	Dynamic   bool   `json:"dynamic,omitempty"` // created by a client's PUT
	// Value is the value as text when it is UTF-8, else as hex (Hex is true), cut to
	// MaxShownValue bytes of the value; Size is the whole value's.
	Value     string `json:"value"`
	Hex       bool   `json:"hex,omitempty"`
	Size      int    `json:"size"`
	Truncated bool   `json:"truncated,omitempty"`
	Failure   string `json:"failure,omitempty"`
}

// MaxShownValue is how many bytes of a value the page and the API show.
const MaxShownValue = 256

// Session is one client session.
type Session struct {
	Name     string        `json:"name"`
	Peer     string        `json:"peer"`
	State    string        `json:"state"` // connecting, connected, or why not
	Requests []LastRequest `json:"requests"`
}

// LastRequest is the last result of one request of a session.
type LastRequest struct {
	Request string    `json:"request"`
	Method  string    `json:"method"`
	Path    string    `json:"path"`
	At      time.Time `json:"at,omitzero"`
	Code    string    `json:"code,omitempty"`
	Payload string    `json:"payload,omitempty"`
	Hex     bool      `json:"hex,omitempty"`
	RTTms   float64   `json:"rtt_ms,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// Registration is pigw registered with a server that lists it.
type Registration struct {
	Kind       string    `json:"kind"` // "lwm2m" or "rd"
	Server     string    `json:"server"`
	Endpoint   string    `json:"endpoint"`
	Registered bool      `json:"registered"`
	Location   string    `json:"location,omitempty"` // the registration's path at the server
	Lifetime   uint32    `json:"lifetime"`           // seconds
	LastUpdate time.Time `json:"last_update,omitzero"`
	NextUpdate time.Time `json:"next_update,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
}

// Counters are the CoAP server's counters.
type Counters struct {
	Requests  uint64            `json:"requests"`
	Observers int               `json:"observers"`
	Rejected  uint64            `json:"rejected"`
	Events    map[string]uint64 `json:"events"` // every event kind the server counts
}

// LogLine is one line of the appliance's log, numbered from 1 in the order written.
type LogLine struct {
	Seq  uint64 `json:"seq"`
	Text string `json:"text"`
}

// Source is where the page's data comes from.
type Source interface {
	Snapshot() Snapshot
	// LogAfter returns the log lines numbered after seq that are still held, at most max
	// (the newest), and the number of the last line written.
	LogAfter(seq uint64, max int) ([]LogLine, uint64)
	// Changed returns a channel closed at the next change of the snapshot or the log.
	Changed() <-chan struct{}
}
