package image

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pigw/pigw/appliance/update/bundle"
)

// What the root says it is, and the update bundle beside the image: a device takes a bundle
// only when signed by a key its running root trusts, for its product, board family,
// architecture and kernel, and not below its floor (package bundle).

const (
	product     = "pigw"
	boardFamily = "rpi-arm64" // Pi 3, 4, 5 and Zero 2 W in 64-bit mode: one kernel, one root
)

// releaseSeq is the image's sequence number: Options.Seq, or else the commit time of the
// module root's HEAD (so that builds of one commit agree, and later commits count higher), or
// else the image's file time.
func releaseSeq(ctx context.Context, o *Options, mtime time.Time) uint64 {
	if o.Seq != 0 {
		return o.Seq
	}
	out, err := exec.CommandContext(ctx, "git", "-C", o.ModuleRoot, "log", "-1", "--format=%ct").Output()
	if err == nil {
		if s, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64); err == nil && s > 0 {
			return s
		}
	}
	return uint64(mtime.Unix())
}

// addRelease writes the release file and the trusted keys into the root. It returns the
// signing key, nil without --sign-key.
func (in *inputs) addRelease(o *Options, rel bundle.Release) (ed25519.PrivateKey, error) {
	var key ed25519.PrivateKey
	var trusted []ed25519.PublicKey
	if o.SignKey != "" {
		k, err := bundle.ReadPrivateKey(o.SignKey)
		if err != nil {
			return nil, fmt.Errorf("--sign-key: %w", err)
		}
		key = k
		trusted = append(trusted, k.Public().(ed25519.PublicKey))
	}
	for _, path := range o.Trust {
		pub, err := bundle.ReadPublicKey(path)
		if err != nil {
			return nil, fmt.Errorf("--trust: %w", err)
		}
		trusted = append(trusted, pub)
	}
	b, err := json.MarshalIndent(rel, "", "  ")
	if err != nil {
		return nil, err
	}
	in.root.addData(bundle.ReleasePath, 0o644, append(b, '\n'))
	in.root.mkdirAll(bundle.KeysDir)
	for _, pub := range trusted {
		in.root.addData(fmt.Sprintf("%s/%s.pub", bundle.KeysDir, bundle.IDOf(pub)), 0o644, bundle.MarshalPublicKey(pub))
	}
	return key, nil
}

// bundlePath is where the bundle of the image out goes: pigw-rpi.img → pigw-rpi.update.
func bundlePath(out string) string { return strings.TrimSuffix(out, ".img") + ".update" }

// writeBundle writes the signed bundle of the image's root A beside the image, through a
// temporary file renamed when complete.
func writeBundle(o *Options, rel bundle.Release, key ed25519.PrivateKey, root Partition) (string, int64, error) {
	img, err := os.Open(o.Out)
	if err != nil {
		return "", 0, err
	}
	defer img.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(img, root.Start, root.Used)); err != nil {
		return "", 0, fmt.Errorf("read root A: %w", err)
	}
	header, err := bundle.Sign(rel.Manifest(bundle.Component{Size: root.Used, SHA256: hex.EncodeToString(h.Sum(nil))}), key)
	if err != nil {
		return "", 0, err
	}
	path := bundlePath(o.Out)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", 0, fmt.Errorf("bundle: %w", err)
	}
	defer os.Remove(tmp)
	_, err = f.Write(header)
	if err == nil {
		_, err = io.Copy(f, io.NewSectionReader(img, root.Start, root.Used))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return "", 0, fmt.Errorf("bundle %s: %w", path, err)
	}
	return path, int64(len(header)) + root.Used, nil
}
