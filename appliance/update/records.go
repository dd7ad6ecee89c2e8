package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pigw/pigw/appliance/state"
)

// Keys of the records in the update's state.Dir.
const (
	keyUpload = "upload" // the upload in progress: uploadRecord
	keyOther  = "other"  // what the other slot holds: otherRecord
	keyResult = "result" // how the last update ended: resultRecord
	keyFloor  = "floor"  // the highest floor of a committed bundle: floorRecord
	keyBad    = "bad"    // digests whose trial failed: map of hex digest to reason
)

// uploadRecord is what a resumed upload needs: the bundle's header and how many bytes of its
// root are on the medium (synced before the record is written).
type uploadRecord struct {
	Header []byte `json:"header"`
	Slot   string `json:"slot"`
	Mark   int64  `json:"mark"`
}

// otherRecord is what the other slot holds.
type otherRecord struct {
	Slot    string `json:"slot"`
	Content string `json:"content"` // partial, verified, invalid, failed, previous
	Header  []byte `json:"header,omitempty"`
	// Version and Seq of a previous root, which came with no bundle header.
	Version string `json:"version,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
}

type resultRecord struct {
	Result Result `json:"result"`
	Reason string `json:"reason,omitempty"`
}

type floorRecord struct {
	Floor uint64 `json:"floor"`
}

// get reads the JSON record key into v; a missing record leaves v as it is and is no error.
func get(d *state.Dir, key string, v any) error {
	b, err := d.Get(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("update record %q: %w", key, err)
	}
	return nil
}

func put(d *state.Dir, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return d.Put(key, b)
}
