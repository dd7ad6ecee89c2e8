package lwm2m

import (
	"errors"
	"sync"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// FirmwareFacts are what object 5 (Firmware Update) shows and does. The object holds no
// update logic of its own: the functions are the appliance's update mechanism, the one
// /sys/update and pigw update use.
type FirmwareFacts struct {
	// Package takes the blocks of a Write of the Package resource (/5/0/0) as they arrive,
	// and answers each as /sys/update answers an upload's block. An empty Package goes to
	// Reset instead.
	Package coap.BlockHandler
	// Pull starts fetching the package at uri in the background and returns at once; an
	// error refuses the Write of Package URI (/5/0/1). An empty URI goes to Reset instead.
	Pull func(uri string) error
	// Reset ends a download in progress and forgets a package downloaded and not applied:
	// the state goes back to Idle (LwM2M 1.1 Core, Appendix E.6).
	Reset func() error
	// Update applies the downloaded package (Execute /5/0/2). It must return at once and
	// restart the device only after the answer went out.
	Update func() error
	// Status is the state, the result and the package's name and version now.
	Status func() FirmwareStatus
	// Protocols are the Package URI schemes Pull takes, as /5/0/8 numbers them: 0 CoAP,
	// 1 CoAPS, 2 HTTP 1.1, 3 HTTPS 1.1.
	Protocols []int64
}

// FirmwareStatus is what the Firmware Update object reports.
type FirmwareStatus struct {
	State      int64 // 0 Idle, 1 Downloading, 2 Downloaded, 3 Updating
	Result     int64 // 0 initial ... 9 unsupported protocol
	PkgName    string
	PkgVersion string
}

// The resources of object 5 that pigw serves.
const (
	FirmwarePackage    = 0
	FirmwarePackageURI = 1
	FirmwareUpdate     = 2
	FirmwareState      = 3
	FirmwareResult     = 5
	FirmwarePkgName    = 6
	FirmwarePkgVersion = 7
	FirmwareProtocols  = 8
	FirmwareDelivery   = 9
	firmwareObjectID   = 5
)

// Firmware is object 5 with its one instance.
type Firmware struct {
	obj *Object
	mu  sync.Mutex
	uri string // the Package URI last written
}

// NewFirmware makes object 5. Delivery Method (/5/0/9) says push and pull (2) when Pull
// takes a protocol, push only (1) otherwise.
func NewFirmware(f FirmwareFacts) (*Firmware, error) {
	if f.Package == nil || f.Pull == nil || f.Reset == nil || f.Update == nil || f.Status == nil {
		return nil, errors.New("lwm2m firmware object: Package, Pull, Reset, Update and Status are required")
	}
	fw := &Firmware{}
	delivery := int64(1)
	if len(f.Protocols) > 0 {
		delivery = 2
	}
	status := func(pick func(FirmwareStatus) node.Value) func() (node.Value, error) {
		return func() (node.Value, error) { return pick(f.Status()), nil }
	}
	pkg := func(b coap.Block) coap.Answer {
		if b.Offset == 0 && !b.More && len(b.Payload) == 0 {
			if err := f.Reset(); err != nil {
				return callbackFailed("write", node.Resource(firmwareObjectID, 0, FirmwarePackage), err)
			}
			return answerChanged
		}
		return f.Package(b)
	}
	writeURI := func(v node.Value) error {
		uri := v.String()
		var err error
		if uri == "" {
			err = f.Reset()
		} else {
			err = f.Pull(uri)
		}
		if err != nil {
			return err
		}
		fw.mu.Lock()
		fw.uri = uri
		fw.mu.Unlock()
		return nil
	}
	readURI := func() (node.Value, error) {
		fw.mu.Lock()
		defer fw.mu.Unlock()
		return node.StringValue(fw.uri), nil
	}
	protocols := func() ([]node.Value, error) {
		vs := make([]node.Value, len(f.Protocols))
		for i, p := range f.Protocols {
			vs[i] = node.IntValue(p)
		}
		return vs, nil
	}
	res := []Resource{
		{ID: FirmwarePackage, Name: "Package", Type: node.TypeOpaque, Ops: W, Blocks: pkg},
		{ID: FirmwarePackageURI, Name: "Package URI", Type: node.TypeString, Ops: RW, Read: readURI, Write: writeURI},
		{ID: FirmwareUpdate, Name: "Update", Ops: E, Execute: func(string) error { return f.Update() }},
		{ID: FirmwareState, Name: "State", Type: node.TypeInteger, Ops: R, Read: status(func(s FirmwareStatus) node.Value { return node.IntValue(s.State) })},
		{ID: FirmwareResult, Name: "Update Result", Type: node.TypeInteger, Ops: R, Read: status(func(s FirmwareStatus) node.Value { return node.IntValue(s.Result) })},
		{ID: FirmwarePkgName, Name: "PkgName", Type: node.TypeString, Ops: R, Read: status(func(s FirmwareStatus) node.Value { return node.StringValue(s.PkgName) })},
		{ID: FirmwarePkgVersion, Name: "PkgVersion", Type: node.TypeString, Ops: R, Read: status(func(s FirmwareStatus) node.Value { return node.StringValue(s.PkgVersion) })},
		{ID: FirmwareDelivery, Name: "Firmware Update Delivery Method", Type: node.TypeInteger, Ops: R, Read: constant(node.IntValue(delivery))},
	}
	if len(f.Protocols) > 0 {
		res = append(res, Resource{ID: FirmwareProtocols, Name: "Firmware Update Protocol Support", Type: node.TypeInteger, Ops: R, Multiple: true, ReadAll: protocols})
	}
	fw.obj = &Object{ID: firmwareObjectID, Instances: []*Instance{{ID: 0, Resources: res}}}
	return fw, nil
}

// Object is the object to put in the Tree.
func (fw *Firmware) Object() *Object { return fw.obj }

// Changed tells observers that the status may have changed: State, Update Result, PkgName
// and PkgVersion are read again and notified where they differ.
func (fw *Firmware) Changed() {
	for _, r := range []uint16{FirmwareState, FirmwareResult, FirmwarePkgName, FirmwarePkgVersion} {
		fw.obj.Changed(0, r)
	}
}
