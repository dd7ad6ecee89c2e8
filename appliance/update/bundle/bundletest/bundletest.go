// Package bundletest makes what tests of updates need, as periph's *test packages do for
// hardware: the files by which a root says what it is and whom it trusts, and signed bundles of
// any bytes. It is for tests only; image build makes the real ones.
package bundletest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pigw/pigw/appliance/update/bundle"
)

// WriteRoot writes into dir what a root says of itself: rel as its release file, and the keys
// it takes bundles from.
func WriteRoot(dir string, rel bundle.Release, trusted ...ed25519.PublicKey) error {
	b, err := json.Marshal(rel)
	if err != nil {
		return err
	}
	files := map[string][]byte{bundle.ReleasePath: b}
	for _, pub := range trusted {
		files[filepath.Join(bundle.KeysDir, bundle.IDOf(pub).String()+".pub")] = bundle.MarshalPublicKey(pub)
	}
	if err := os.MkdirAll(filepath.Join(dir, bundle.KeysDir), 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write root: %w", err)
		}
	}
	return nil
}

// Root is the component a manifest lists for root.
func Root(root []byte) bundle.Component {
	sum := sha256.Sum256(root)
	return bundle.Component{Name: "root", Size: int64(len(root)), SHA256: hex.EncodeToString(sum[:])}
}

// Bundle is the bundle of m, signed with key, followed by root (which m may describe falsely:
// the tests of refusals need such bundles).
func Bundle(m bundle.Manifest, root []byte, key ed25519.PrivateKey) ([]byte, error) {
	h, err := bundle.Sign(m, key)
	if err != nil {
		return nil, err
	}
	return append(h, root...), nil
}
