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
	"github.com/pigw/pigw/appliance/update/push"
	"github.com/pigw/pigw/internal/progress"
)

const updateUsage = `Usage: pigw update --identity NAME --psk-file FILE [flags] coaps://HOST BUNDLE

Pushes an update bundle (made by pigw image build --sign-key) to a pigw device's other root
slot, resuming after lost connections, and waits until the device has read it back and
verified it.

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
	st, err := f.Stat()
	if err != nil {
		fmt.Fprintln(stderr, "pigw update:", err)
		return exitFailed
	}
	b, err := push.OpenBundle(f, st.Size())
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
	return exitOK
}
