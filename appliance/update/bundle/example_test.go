package bundle_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/pigw/pigw/appliance/update/bundle"
)

// A builder signs a manifest; a device parses the first 4 KiB it receives and checks them
// before it writes anything.
func ExampleDevice_Admit() {
	pub, priv, _ := ed25519.GenerateKey(nil)
	root := []byte("a squashfs")
	sum := sha256.Sum256(root)
	header, err := bundle.Sign(bundle.Manifest{
		Format: 1, Product: "pigw", BoardFamily: "rpi-arm64", Arch: "arm64",
		Version: "v1.3", Seq: 13, Floor: 12, KernelRelease: "6.12.47-v8",
		Components: []bundle.Component{{Name: "root", Size: int64(len(root)), SHA256: hex.EncodeToString(sum[:])}},
	}, priv)
	if err != nil {
		fmt.Println(err)
		return
	}
	device := &bundle.Device{Trusted: []ed25519.PublicKey{pub}, Product: "pigw", BoardFamily: "rpi-arm64",
		Arch: "arm64", KernelRelease: "6.12.47-v8", Floor: 12, SlotSize: 64 << 20}
	h, err := bundle.ParseHeader(header)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Manifest.Version, device.Admit(h))
	device.Floor = 14
	fmt.Println(device.Admit(h))
	// Output:
	// v1.3 <nil>
	// bundle seq 13 (version v1.3) is below this device's floor 14: a downgrade
}
