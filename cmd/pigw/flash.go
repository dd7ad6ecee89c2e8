package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pigw/pigw/image/flash"
	"github.com/pigw/pigw/internal/progress"
)

const flashUsage = `Usage:
  pigw flash --device /dev/sdX [--yes] [--allow-file] IMAGE

Writes IMAGE (an uncompressed SD-card image such as bin/pigw-rpi.img) to the device from its
first byte on, then reads it back and compares. Refuses a device that is not a block device,
that holds the running system's root or swap, that has anything mounted, that is read-only
or smaller than the image. Asks before writing unless --yes; without a terminal, --yes is
required.

  --device PATH   the card to write, such as /dev/sdb or /dev/mmcblk0 (lsblk lists them)
  --yes           do not ask
  --allow-file    let PATH be a regular file (an image file; an empty one grows to fit)

Exit status: 0 written and verified, 1 refused or failed, 2 usage errors.
`

// runFlash is "pigw flash": an SD-card image to a card, checked before and verified after.
func runFlash(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stderr, flashUsage)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := flashMain(ctx, flash.Host{}, nil, args, stdin, stdout, stderr)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "pigw flash:", err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, `run "pigw flash help" for usage`)
		return exitUsage
	}
	return exitFailed
}

// flashMain does the work of runFlash; open, if not nil, replaces flash.OpenMedium.
func flashMain(ctx context.Context, host flash.Host, open func(*flash.Target) (flash.Medium, error),
	args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pigw flash", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	device := fs.String("device", "", "the block device to write")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	allowFile := fs.Bool("allow-file", false, "allow a regular file as the device")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("flash needs one IMAGE, got %d arguments", len(pos))
	}
	if *device == "" {
		return usagef("--device is required: the card to write, such as /dev/sdb (lsblk lists them)")
	}
	img := pos[0]
	size, err := flash.StatImage(img)
	if err != nil {
		return err
	}
	t, err := host.Inspect(*device, *allowFile)
	if err != nil {
		return err
	}
	if err := flash.CheckFit(t, size); err != nil {
		return err
	}
	if !*yes {
		q := fmt.Sprintf("write %s (%s) to %s? everything on it is lost [type yes] ",
			filepath.Base(img), progress.HumanSize(size), t)
		if err := confirm(ctx, q, stdin, stderr); err != nil {
			return err
		}
	}
	res, err := flash.Flash(ctx, img, t, flash.Options{Progress: stderr, Redraw: isTTY(stderr), Open: open})
	if err != nil {
		return err
	}
	for _, n := range res.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	fmt.Fprintf(stdout, "wrote %s (%s) to %s in %s (%s)\n", filepath.Base(img), progress.HumanSize(res.Size),
		t.Path, roundDuration(res.WriteTime), progress.Rate(res.Size, res.WriteTime))
	fmt.Fprintf(stdout, "verified in %s (%s): sha256 %s\n", roundDuration(res.VerifyTime),
		progress.Rate(res.Size, res.VerifyTime), res.SHA256)
	return nil
}

// roundDuration keeps the digits of a duration worth reading: "1m23.4s", "350ms".
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// confirm asks q on the terminal and wants "yes" back.
func confirm(ctx context.Context, q string, stdin io.Reader, stderr io.Writer) error {
	if !isTTY(stdin) {
		return errors.New("standard input is not a terminal, so nobody can confirm: pass --yes to write without asking")
	}
	fmt.Fprint(stderr, q)
	answer := make(chan string, 1)
	go func() { // a read that Ctrl-C cannot interrupt; the process ends soon after
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		answer <- strings.TrimSpace(line)
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(stderr)
		return errors.New("interrupted: nothing was written")
	case a := <-answer:
		if a != "yes" {
			return fmt.Errorf("answer %q is not \"yes\": nothing was written", a)
		}
	}
	return nil
}

// isTTY reports whether f is a terminal (not merely a character device such as /dev/null).
func isTTY(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(file.Fd()), unix.TCGETS)
	return err == nil
}
