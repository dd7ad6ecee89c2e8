package appliance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/state"
)

// resourceStore keeps the CoAP server's snapshots in the state directory, one durable file per
// resource, so every write a client saw acknowledged is there after a restart or a power cut.
type resourceStore struct {
	dir *state.Dir
}

func openResourceStore(stateDir string) (*resourceStore, error) {
	d, err := state.Open(filepath.Join(stateDir, "resources"))
	if err != nil {
		return nil, err
	}
	return &resourceStore{dir: d}, nil
}

// key names a URI's file; URIs too long for a file name go by their hash (the snapshot holds
// the URI itself).
func (s *resourceStore) key(uri string) string {
	if len(uri) <= state.MaxKeyLen {
		return uri
	}
	sum := sha256.Sum256([]byte(uri))
	return "#" + hex.EncodeToString(sum[:])
}

func (s *resourceStore) Store(snap coap.Snapshot) error {
	b, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encode snapshot of %s: %w", snap.URI, err)
	}
	return s.dir.Put(s.key(snap.URI), b)
}

func (s *resourceStore) Forget(uri string) error { return s.dir.Delete(s.key(uri)) }

// snapshots returns what is stored; damaged entries are reported in err and left out.
func (s *resourceStore) snapshots() ([]coap.Snapshot, error) {
	all, err := s.dir.All()
	snaps := make([]coap.Snapshot, 0, len(all))
	for key, b := range all {
		var snap coap.Snapshot
		if jerr := json.Unmarshal(b, &snap); jerr != nil {
			err = errors.Join(err, fmt.Errorf("snapshot %q: %w", key, jerr))
			continue
		}
		snaps = append(snaps, snap)
	}
	return snaps, err
}
