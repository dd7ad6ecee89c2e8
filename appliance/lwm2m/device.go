package lwm2m

import (
	"errors"
	"time"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// DeviceFacts are what object 3 (Device) shows and does.
type DeviceFacts struct {
	Manufacturer    string
	Model           string // the board, as /sys shows it
	Serial          string // the board's serial number
	FirmwareVersion string // pigw's version
	// Reboot runs when the server executes Reboot (/3/0/4). It must return at once and
	// reboot after the answer went out, as the appliance's stop does.
	Reboot func() error
	// ErrorCodes are the current error codes (LwM2M 1.1 Core, Appendix E.4: 1 low battery ...
	// 8 out of storage); nil means none, which the object shows as the one code 0.
	ErrorCodes func() []int64
	Now        func() time.Time // nil means time.Now
}

// The resources of object 3 that pigw serves.
const (
	DeviceManufacturer = 0
	DeviceModel        = 1
	DeviceSerial       = 2
	DeviceFirmware     = 3
	DeviceReboot       = 4
	DeviceErrorCode    = 11
	DeviceCurrentTime  = 13
	DeviceBinding      = 16
	deviceObjectID     = 3
)

// NewDeviceObject is object 3 with its one instance. Current Time is read-only: pigw's clock
// comes from NTP, not from a fleet server.
func NewDeviceObject(f DeviceFacts) (*Object, error) {
	if f.Reboot == nil {
		return nil, errors.New("lwm2m device object: Reboot is required")
	}
	now := f.Now
	if now == nil {
		now = time.Now
	}
	codes := func() ([]node.Value, error) {
		var cs []int64
		if f.ErrorCodes != nil {
			cs = f.ErrorCodes()
		}
		if len(cs) == 0 {
			cs = []int64{0}
		}
		vs := make([]node.Value, len(cs))
		for i, c := range cs {
			vs[i] = node.IntValue(c)
		}
		return vs, nil
	}
	return &Object{ID: deviceObjectID, Version: "1.1", Instances: []*Instance{{ID: 0, Resources: []Resource{
		{ID: DeviceManufacturer, Name: "Manufacturer", Type: node.TypeString, Ops: R, Read: constant(node.StringValue(f.Manufacturer))},
		{ID: DeviceModel, Name: "Model Number", Type: node.TypeString, Ops: R, Read: constant(node.StringValue(f.Model))},
		{ID: DeviceSerial, Name: "Serial Number", Type: node.TypeString, Ops: R, Read: constant(node.StringValue(f.Serial))},
		{ID: DeviceFirmware, Name: "Firmware Version", Type: node.TypeString, Ops: R, Read: constant(node.StringValue(f.FirmwareVersion))},
		{ID: DeviceReboot, Name: "Reboot", Ops: E, Execute: func(string) error { return f.Reboot() }},
		{ID: DeviceErrorCode, Name: "Error Code", Type: node.TypeInteger, Ops: R, Multiple: true, ReadAll: codes},
		{ID: DeviceCurrentTime, Name: "Current Time", Type: node.TypeTime, Ops: R, Read: func() (node.Value, error) { return node.TimeValue(now()), nil }},
		{ID: DeviceBinding, Name: "Supported Binding and Modes", Type: node.TypeString, Ops: R, Read: constant(node.StringValue(bindingUDP))},
	}}}}, nil
}
