package image

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pigw/pigw/appliance/update/bundle"
)

// Partition sizes. The boot partition holds the firmware (22 MiB), the kernel (45 MiB), its
// device trees and overlays (5 MiB) and the user's files: 256 MiB leaves room for kernels to
// grow. Each root holds pigw (about 20 MiB), modules and WiFi firmware: 256 MiB, or more when
// the squashfs needs it. Root B, for updates, starts as a copy of root A. /perm takes the
// rest of the image, at least 64 MiB, and on the first boot the rest of the card
// (appliance/boot/grow).
const (
	bootSize    = 256 << 20
	minRootSize = 256 << 20
	minPermSize = 64 << 20
	// DefaultSize is the image size when Options.Size is 0: 1 GiB, 252 MiB of it /perm,
	// which grows to the card's end on the first boot. Small to download and quick to
	// flash, and a power of two, which QEMU's emulated SD card requires.
	DefaultSize = 1 << 30
	permLabel   = "perm"
)

// Options say what goes into the image.
type Options struct {
	Out         string   // the image file to write; required
	Size        int64    // bytes; 0 is DefaultSize
	Config      string   // the boot partition's pigw.yaml; "" writes a commented starter
	Overlays    []string // directories with boot/ and root/ laid over the image
	FirmwareDir string   // a Debian-like root with lib/firmware/brcm/ and regulatory.db
	Pigw        string   // a prebuilt arm64 pigw; "" cross-compiles ./cmd/pigw of ModuleRoot
	Arch        string   // "" or "arm64", the only one
	Version     string   // main.version of the compiled pigw; "" is "dev"
	ModuleRoot  string   // pigw's module root; "" is the working directory
	// Time stamps every file; zero is the commit time of the newest pinned kernel or
	// firmware module. Callers pass SOURCE_DATE_EPOCH here.
	Time time.Time
	// SignKey is an Ed25519 private key (pigw keygen): the image trusts its public half, and
	// the update bundle of the image's root is written beside it, signed with it.
	SignKey string
	Trust   []string  // more public keys (KEY.pub) whose bundles the image accepts
	Seq     uint64    // the release's sequence number; 0: the commit time of ModuleRoot's HEAD
	Log     io.Writer // progress; nil says nothing
	TTY     bool      // Log is a terminal
}

// Partition is one partition of a built image, in bytes.
type Partition struct {
	Name        string
	Start, Size int64
	Used        int64 // by the filesystem
}

// Result describes a built image.
type Result struct {
	Partitions []Partition
	Size       int64
	DiskID     uint32 // MBR disk signature: root=PARTUUID=<DiskID>-02
	Kernel     string // kernel version
	// WPASupplicant is where the root holds wpa_supplicant (the WiFi backend auto runs
	// it), or "": auto uses nl80211.
	WPASupplicant string
	Warnings      []string
	Release       bundle.Release
	Bundle        string // the update bundle's path; "" without SignKey
	BundleSize    int64
}

// Build writes the image. It writes Out.tmp and renames it to Out when done, so a failed build
// leaves no image behind.
func Build(ctx context.Context, o Options) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	p := &progress{w: o.Log, tty: o.TTY}
	tmp, err := os.MkdirTemp("", "pigw-image")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	pigw := o.Pigw
	if pigw == "" {
		err = p.step("compile pigw for linux/arm64", func() (err error) {
			pigw, err = compilePigw(ctx, o.ModuleRoot, o.Version, tmp)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if err := checkBinary(pigw); err != nil {
		return nil, err
	}
	var in *inputs
	if err := p.step("gather kernel, firmware, config and overlays", func() (err error) {
		in, err = gather(ctx, &o, pigw)
		return err
	}); err != nil {
		return nil, err
	}
	res := &Result{Size: o.Size, Kernel: in.kver}
	if in.noFirmware {
		res.Warnings = append(res.Warnings, "no WiFi firmware (lib/firmware/brcm) in --firmware-dir: the image has no WiFi; make firmware fetches it")
	}
	if in.noRegdb {
		res.Warnings = append(res.Warnings, "no regulatory.db in --firmware-dir: WiFi keeps to the world regulatory domain")
	}
	mtime := o.Time
	if mtime.IsZero() {
		for _, v := range in.versions {
			if t, ok := versionTime(v); ok && t.After(mtime) {
				mtime = t
			}
		}
	}
	seq := releaseSeq(ctx, &o, mtime)
	res.Release = bundle.Release{Product: product, BoardFamily: boardFamily, Arch: "arm64", Version: o.Version,
		Seq: seq, Floor: seq, KernelRelease: in.kver}
	key, err := in.addRelease(&o, res.Release)
	if err != nil {
		return nil, err
	}
	if o.SignKey == "" && len(o.Trust) == 0 {
		res.Warnings = append(res.Warnings, "no --sign-key or --trust: the image accepts no update over the network (pigw keygen makes a key)")
	}
	for _, w := range res.Warnings {
		p.printf("warning: %s\n", w)
	}
	if s := in.supplicant; s != nil {
		res.WPASupplicant = s.path
		p.printf("wifi: backend auto runs %s (arm64, %d libraries with the loader, %.1f MiB): WPA2, WPA3 (SAE), hidden and open networks\n",
			s.path, len(s.libs), float64(s.bytes)/(1<<20))
	} else {
		p.printf("wifi: no wpa_supplicant in the root: backend auto uses nl80211 (open networks, and WPA2-PSK where the WiFi firmware does the handshake); make image WPA_SUPPLICANT=1 adds it\n")
	}
	var digest []byte
	if err := p.step("hash the inputs", func() error {
		h := sha256.New()
		fmt.Fprintf(h, "pigw image v1 size %d\n", o.Size)
		if err := in.boot.hash(h); err != nil {
			return err
		}
		if err := in.root.hash(h); err != nil {
			return err
		}
		digest = h.Sum(nil)
		return nil
	}); err != nil {
		return nil, err
	}
	res.DiskID = seed32(digest, "mbr disk id")
	in.boot.addData("cmdline.txt", 0o644, []byte(cmdlineTxt(res.DiskID, 2)))
	in.boot.addData("tryboot.txt", 0o644, []byte(trybootTxt))
	in.boot.addData("trycmd.txt", 0o644, []byte(cmdlineTxt(res.DiskID, 3)))
	if err := write(ctx, &o, p, in, digest, mtime, res); err != nil {
		return nil, err
	}
	if key != nil {
		if err := p.step("sign the update bundle", func() (err error) {
			res.Bundle, res.BundleSize, err = writeBundle(&o, res.Release, key, res.Partitions[1])
			return err
		}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (o *Options) check() error {
	if o.Out == "" {
		return fmt.Errorf("--out: missing: name the image file to write, such as --out pigw-rpi.img")
	}
	if o.Arch != "" && o.Arch != "arm64" {
		return fmt.Errorf("--arch %s: only arm64 is supported (Pi 3, 4, 5, Zero 2 W)", o.Arch)
	}
	if o.Size == 0 {
		o.Size = DefaultSize
	}
	if need := int64(align + bootSize + 2*minRootSize + minPermSize); o.Size < need {
		return fmt.Errorf("--size %d MiB: too small, the partitions need at least %d MiB (4 MiB table, boot %d MiB, root A and B %d MiB each, /perm %d MiB)",
			o.Size>>20, need>>20, bootSize>>20, minRootSize>>20, minPermSize>>20)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.ModuleRoot == "" {
		o.ModuleRoot = "."
	}
	var err error
	o.ModuleRoot, err = filepath.Abs(o.ModuleRoot)
	return err
}
