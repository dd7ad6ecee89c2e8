package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/appliance/update/push"
	"github.com/pigw/pigw/internal/progress"
)

const updateUsage = `Usage: pigw update --identity NAME --psk-file FILE [flags] coaps://HOST BUNDLE

Pushes an update bundle (made by pigw image build --sign-key) to a pigw device's other root
slot, resuming after lost connections, waits until the device has read it back and verified
it, then applies it: the device reboots into a trial of the new root and commits it once
healthy (or, with update.confirm: admin on the device, when this command confirms it), or goes
back to its old root by itself. Exit status 0 when the new version runs committed, 1 when the
device refused the bundle or went back (with its result code and reason), 3 when it did not
finish in time.

Flags:
`

func runUpdate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pigw update", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, updateUsage); fs.PrintDefaults() }
	identity := fs.String("identity", "", "the admin's PSK identity (in the device's coap.dtls.admins)")
	psk := fs.String("psk", "", "the pre-shared key, text or 0x-hex")
	pskFile := fs.String("psk-file", "", "read the pre-shared key from this file")
	retry := fs.Duration("retry", 5*time.Minute, "keep trying to reach the device this long without progress")
	timeout := fs.Duration("timeout", 30*time.Second, "wait this long for the device to answer one block")
	downloadOnly := fs.Bool("download-only", false, "stop once the device holds the bundle verified (apply it later)")
	wait := fs.Duration("wait", 20*time.Minute, "after apply, wait this long for the device to run the new version committed")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 2 {
		fmt.Fprintf(stderr, "pigw update: needs a coaps:// URL and a bundle, got %d arguments\n", len(pos))
		return exitUsage
	}
	t, err := parseTarget(pos[0])
	if err == nil && !t.secure {
		err = usagef("URL %q: updates need coaps:// (an admin identity over DTLS)", pos[0])
	}
	var key []byte
	if err == nil {
		key, err = secretArg(*psk, *pskFile)
	}
	if err == nil && (key == nil || *identity == "") {
		err = usagef("needs --identity and --psk (or --psk-file)")
	}
	if err != nil {
		fmt.Fprintln(stderr, "pigw update:", err)
		return exitUsage
	}
	f, err := os.Open(pos[1])
	if err != nil {
		fmt.Fprintln(stderr, "pigw update:", err)
		return exitFailed
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		fmt.Fprintln(stderr, "pigw update:", err)
		return exitFailed
	}
	b, err := push.OpenBundle(f, fi.Size())
	if err != nil {
		fmt.Fprintf(stderr, "pigw update: %s: %v\n", pos[1], err)
		return exitFailed
	}
	m := b.Header.Manifest
	fmt.Fprintf(stdout, "bundle %s: %s seq %d for %s/%s, %s\n", pos[1], m.Version, m.Seq, m.BoardFamily, m.Arch, progress.HumanSize(b.Size))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	client := coap.NewClient(slog.New(slog.DiscardHandler))
	defer client.Close()
	bar := progress.New(stderr, isTTY(stderr), "uploading", b.Size, time.Now)
	p := &push.Pusher{
		Dial: func() (*coap.Session, error) {
			return client.NewSession(t.addr, coap.SessionOptions{PSK: key, Identity: *identity, Timeout: *timeout})
		},
		Start:    bar.Resume,
		Progress: bar.Update,
		Retry:    *retry,
		Log:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	dev, err := p.Send(ctx, b)
	if err != nil {
		bar.End()
		fmt.Fprintln(stderr, "pigw update:", err)
		var refused *push.RefusedError
		if errors.As(err, &refused) {
			return exitFailed
		}
		return exitTimeout
	}
	fmt.Fprintf(stdout, "slot %s of %s holds %s seq %d, read back and verified\n", dev.Other.Slot, pos[0], dev.Other.Version, dev.Other.Seq)
	if *downloadOnly {
		return exitOK
	}
	start := time.Now()
	last := ""
	st, err := p.Apply(ctx, m.Version, *wait, func(st update.Status) {
		if line := applyLine(st); line != last {
			fmt.Fprintf(stdout, "%6s  %s\n", progress.Clock(time.Since(start)), line)
			last = line
		}
	})
	var refused *push.RefusedError
	var back *push.RolledBackError
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "%s runs %s seq %d on slot %s, committed (%s after apply)\n", pos[0], st.Running.Version, st.Running.Seq, st.Running.Slot, progress.Clock(time.Since(start)))
		return exitOK
	case errors.As(err, &back), errors.As(err, &refused):
		fmt.Fprintln(stderr, "pigw update:", err)
		return exitFailed
	}
	fmt.Fprintln(stderr, "pigw update:", err)
	return exitTimeout
}

// applyLine says where the device is in an update.
func applyLine(st update.Status) string {
	if t := st.Trial; t != nil {
		if t.Slot != st.Running.Slot {
			return fmt.Sprintf("trial of slot %s armed (%s); %s still runs", t.Slot, t.Mode, st.Running.Version)
		}
		return fmt.Sprintf("trial of %s on slot %s: waiting for %s", st.Running.Version, t.Slot, t.Waiting)
	}
	return fmt.Sprintf("running %s on slot %s, committed slot %s", st.Running.Version, st.Running.Slot, st.Committed.Slot)
}
