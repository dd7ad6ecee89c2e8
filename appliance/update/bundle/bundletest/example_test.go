package bundletest_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"

	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/pigw/pigw/appliance/update/bundle/bundletest"
)

// A root that trusts a key, and a bundle of a newer release signed with it, as a test of an
// update starts.
func Example() {
	dir, _ := os.MkdirTemp("", "bundletest")
	defer os.RemoveAll(dir)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	v1 := bundle.Release{Product: "pigw", BoardFamily: "rpi-arm64", Arch: "arm64", Version: "v1", Seq: 1, Floor: 1, KernelRelease: "k"}
	if err := bundletest.WriteRoot(dir, v1, key.Public().(ed25519.PublicKey)); err != nil {
		panic(err)
	}
	v2 := v1
	v2.Version, v2.Seq, v2.Floor = "v2", 2, 2
	root := []byte("a root file system")
	b, err := bundletest.Bundle(v2.Manifest(bundletest.Root(root)), root, key)
	if err != nil {
		panic(err)
	}
	h, _ := bundle.ParseHeader(b)
	fmt.Println(h.Manifest.Version, len(b)-bundle.HeaderSize, h.Verify([]ed25519.PublicKey{key.Public().(ed25519.PublicKey)}))
	// Output: v2 18 <nil>
}
