package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pigw/pigw/image"
)

const imageUsage = `Usage: pigw image build --out FILE [flags]
       pigw image emulate [flags] IMAGE   (pigw image emulate -h says more)

Builds the SD-card image: run it in pigw's source tree (it cross-compiles ./cmd/pigw and takes
the kernel and the Pi firmware from the Go modules pinned in go.mod). Two builds from the same
inputs give the same bytes; SOURCE_DATE_EPOCH, when set, stamps the files.

Flags:
`

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runImage(args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "emulate" {
		return runEmulate(args[1:], stderr)
	}
	if len(args) == 0 || args[0] != "build" {
		fmt.Fprint(stderr, imageUsage)
		return 2
	}
	fs := flag.NewFlagSet("pigw image build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, imageUsage); fs.PrintDefaults() }
	var o image.Options
	var overlays stringList
	fs.StringVar(&o.Out, "out", "", "the image file to write (required), such as pigw-rpi.img")
	fs.StringVar(&o.Config, "config", "", "pigw.yaml for the boot partition (default: a commented starter file)")
	fs.Var(&overlays, "overlay", "a directory with boot/ and root/ to lay over the image, such as overlays/i2c (repeatable)")
	size := fs.String("size", fmt.Sprintf("%dG", image.DefaultSize>>30), "the image size: bytes, or with K, M, G or T (powers of 1024); /perm grows to the card's end on the first boot")
	fs.StringVar(&o.FirmwareDir, "firmware-dir", "", "a Debian-like root with lib/firmware/brcm and regulatory.db (make firmware fetches one)")
	fs.StringVar(&o.Arch, "arch", "arm64", "the Pi's architecture: arm64")
	fs.StringVar(&o.Pigw, "pigw", "", "a prebuilt linux/arm64 pigw binary to use instead of compiling ./cmd/pigw")
	fs.StringVar(&o.Version, "version", version, "the version compiled into pigw")
	fs.StringVar(&o.ModuleRoot, "module-root", ".", "pigw's source tree")
	fs.StringVar(&o.SignKey, "sign-key", "", "an Ed25519 private key (pigw keygen): the image trusts it, and its update bundle (FILE.update) is written beside it, signed")
	var trust stringList
	fs.Var(&trust, "trust", "a public key (KEY.pub) whose update bundles the image also accepts (repeatable)")
	fs.Uint64Var(&o.Seq, "seq", 0, "the release's sequence number; devices refuse bundles below their floor (default: the commit time of the source tree's HEAD)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pigw image build: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	o.Overlays, o.Trust = overlays, trust
	var err error
	if o.Size, err = parseSize(*size); err != nil {
		fmt.Fprintf(stderr, "pigw image build: --size %q: %v\n", *size, err)
		return 2
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "pigw image build: SOURCE_DATE_EPOCH %q: want seconds since 1970\n", s)
			return 2
		}
		o.Time = time.Unix(sec, 0)
	}
	o.Log = stderr
	if f, ok := stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			o.TTY = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	res, err := image.Build(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "pigw image build: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "%s: %d MiB, disk id %08x, kernel %s, built in %s\n", o.Out, res.Size>>20, res.DiskID, res.Kernel, time.Since(start).Round(100*time.Millisecond))
	for i, p := range res.Partitions {
		fmt.Fprintf(stderr, "  %d %-18s at %5d MiB  %5d MiB  %7.1f MiB used\n", i+1, p.Name, p.Start>>20, p.Size>>20, float64(p.Used)/(1<<20))
	}
	fmt.Fprintf(stderr, "release %s seq %d for %s, kernel %s\n", res.Release.Version, res.Release.Seq, res.Release.BoardFamily, res.Release.KernelRelease)
	if res.Bundle != "" {
		fmt.Fprintf(stderr, "update bundle: %s, %.1f MiB, signed\n", res.Bundle, float64(res.BundleSize)/(1<<20))
	}
	return 0
}

// parseSize reads 2G, 512M, 1.5G or 2147483648.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	if n := len(s); n > 0 {
		if i := strings.IndexByte("KMGT", s[n-1]&^0x20); i >= 0 {
			mult, s = 1<<(10*(i+1)), s[:n-1]
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f*float64(mult) > 1<<41 {
		return 0, fmt.Errorf("want a size such as 2G, 512M or a number of bytes, up to 2T")
	}
	return int64(f*float64(mult)) &^ (512 - 1), nil
}
