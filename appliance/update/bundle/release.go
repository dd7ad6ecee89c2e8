package bundle

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
)

// Where an image's root says what it is and whom it trusts, for the device's checks.
const (
	ReleasePath = "etc/pigw/release.json"
	KeysDir     = "etc/pigw/update-keys" // one <key ID>.pub per trusted key
)

// Release is what a root is: the image builder writes it to ReleasePath, a device reads it from
// its running root to check bundles against, and the root's bundle carries it in its manifest.
type Release struct {
	Product       string `json:"product"`
	BoardFamily   string `json:"board_family"`
	Arch          string `json:"arch"`
	Version       string `json:"version"`
	Seq           uint64 `json:"seq"`
	Floor         uint64 `json:"floor"`
	KernelRelease string `json:"kernel_release"`
}

// Manifest is the manifest of a bundle of this release with the given root.
func (r Release) Manifest(root Component) Manifest {
	root.Name = "root"
	return Manifest{
		Format: 1, Product: r.Product, BoardFamily: r.BoardFamily, Arch: r.Arch, Version: r.Version,
		Seq: r.Seq, Floor: r.Floor, KernelRelease: r.KernelRelease, Components: []Component{root},
	}
}

// MarshalPublicKey is pub in PKIX PEM, the form of KEY.pub and of the image's trusted keys.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub) // cannot fail for an Ed25519 key
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
