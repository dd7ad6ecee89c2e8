package update_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pigw/pigw/appliance/state"
	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/appliance/update/bundle"
)

// A device running v1 takes a bundle of v2, piece by piece as Block1 brings it, into its other
// slot (here a file), and reads it back before it calls it downloaded.
func ExampleUpdater_Take() {
	dir, _ := os.MkdirTemp("", "update-example")
	defer os.RemoveAll(dir)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	v1 := bundle.Release{Product: "pigw", BoardFamily: "rpi-arm64", Arch: "arm64", Version: "v1", Seq: 1, Floor: 1, KernelRelease: "6.12.47-v8"}
	rel, _ := json.Marshal(v1)
	root := filepath.Join(dir, "root") // the running root: its release and the keys it trusts
	_ = os.MkdirAll(filepath.Join(root, bundle.KeysDir), 0o755)
	_ = os.WriteFile(filepath.Join(root, bundle.ReleasePath), rel, 0o644)
	_ = os.WriteFile(filepath.Join(root, bundle.KeysDir, bundle.IDOf(pub).String()+".pub"), bundle.MarshalPublicKey(pub), 0o644)
	slot := filepath.Join(dir, "slot-b")
	_ = os.WriteFile(slot, make([]byte, 1<<20), 0o600)

	squashfs := []byte("the new root file system")
	sum := sha256.Sum256(squashfs)
	v2 := v1
	v2.Version, v2.Seq, v2.Floor = "v2", 2, 2
	header, _ := bundle.Sign(v2.Manifest(bundle.Component{Size: int64(len(squashfs)), SHA256: hex.EncodeToString(sum[:])}), key)
	b := append(header, squashfs...)

	records, _ := state.Open(filepath.Join(dir, "perm", "update"))
	u, _ := update.New(update.Config{Dir: records, Root: root, Layout: update.FileSlot{Path: slot}})
	for off := 0; off < len(b); off += 1024 {
		end := min(off+1024, len(b))
		if _, err := u.Take(update.Piece{Offset: int64(off), Data: b[off:end], More: end < len(b), Size1: -1}); err != nil {
			fmt.Println(err)
			return
		}
	}
	st := u.Status()
	fmt.Printf("state %d: slot %s holds %s seq %d, %s\n", st.State, st.Other.Slot, st.Other.Version, st.Other.Seq, st.Other.Content)
	// Output: state 2: slot b holds v2 seq 2, verified
}
