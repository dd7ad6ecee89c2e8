package lwm2m

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// ServerFacts are what object 1 (LwM2M Server) shows and does. The registration supplies
// them: a written lifetime and the Registration Update Trigger both make it send an Update.
type ServerFacts struct {
	ShortServerID uint16 // 1..65534
	Lifetime      int64  // seconds, as registered
	// OnLifetime gets a lifetime the server wrote, before it is stored: the registration
	// sends an Update with it. An error refuses the Write (wrap ErrBadValue for 4.00).
	OnLifetime func(seconds int64) error
	// OnUpdateTrigger runs when the server executes Registration Update Trigger (/1/0/8): the
	// registration sends an Update at once. It must not wait for the Update.
	OnUpdateTrigger func() error
}

// The resources of object 1 that pigw serves: the mandatory ones of LwM2M 1.1.
const (
	ServerShortID       = 0
	ServerLifetime      = 1
	ServerNotifStoring  = 6
	ServerBinding       = 7
	ServerUpdateTrigger = 8
	serverObjectID      = 1
	maxLifetime         = math.MaxUint32
	serverObjectVersion = "1.1"
	bindingUDP          = "U"
)

// NewServerObject is object 1 with instance 0 for the one server pigw registers with. A
// written lifetime lasts until the object is made again (the next start): the configured
// one is the truth across restarts. Notification Storing is false: pigw keeps no notification
// for a server it cannot reach.
func NewServerObject(f ServerFacts) (*Object, error) {
	switch {
	case f.ShortServerID == 0 || f.ShortServerID == 65535:
		return nil, fmt.Errorf("lwm2m server object: short server id %d: want 1..65534", f.ShortServerID)
	case f.Lifetime < 1 || f.Lifetime > maxLifetime:
		return nil, fmt.Errorf("lwm2m server object: lifetime %d s: want 1..%d", f.Lifetime, int64(maxLifetime))
	case f.OnLifetime == nil || f.OnUpdateTrigger == nil:
		return nil, errors.New("lwm2m server object: OnLifetime and OnUpdateTrigger are required")
	}
	var mu sync.Mutex
	lifetime := f.Lifetime
	readLifetime := func() (node.Value, error) {
		mu.Lock()
		defer mu.Unlock()
		return node.IntValue(lifetime), nil
	}
	writeLifetime := func(v node.Value) error {
		s := v.Int()
		if s < 1 || s > maxLifetime {
			return fmt.Errorf("%w: lifetime %d s: want 1..%d", ErrBadValue, s, int64(maxLifetime))
		}
		if err := f.OnLifetime(s); err != nil {
			return err
		}
		mu.Lock()
		lifetime = s
		mu.Unlock()
		return nil
	}
	return &Object{ID: serverObjectID, Version: serverObjectVersion, Instances: []*Instance{{ID: 0, Resources: []Resource{
		{ID: ServerShortID, Name: "Short Server ID", Type: node.TypeInteger, Ops: R, Read: constant(node.IntValue(int64(f.ShortServerID)))},
		{ID: ServerLifetime, Name: "Lifetime", Type: node.TypeInteger, Ops: RW, Read: readLifetime, Write: writeLifetime},
		{ID: ServerNotifStoring, Name: "Notification Storing When Disabled or Offline", Type: node.TypeBoolean, Ops: R, Read: constant(node.BoolValue(false))},
		{ID: ServerBinding, Name: "Binding", Type: node.TypeString, Ops: R, Read: constant(node.StringValue(bindingUDP))},
		{ID: ServerUpdateTrigger, Name: "Registration Update Trigger", Ops: E, Execute: func(string) error { return f.OnUpdateTrigger() }},
	}}}}, nil
}

func constant(v node.Value) func() (node.Value, error) {
	return func() (node.Value, error) { return v, nil }
}
