package appliance

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// pullPiece is how much of an HTTP body goes to the slot at a time; the header goes first,
// whole, since a piece may not cross its end.
const pullPiece = 64 << 10

// coapNotFound is 4.04, what a CoAP server answers for a package it does not have.
var coapNotFound = coap.Code(codes.NotFound)

// errNotFound marks a package URI whose server has nothing there: Update Result 7.
var errNotFound = errors.New("not found")

// pullStall is how long a pull may go without a byte before it counts as a lost connection
// (Update Result 4): an HTTP server that stops sending would hold it forever.
const pullStall = time.Minute

// errStalled ends a pull that received nothing for the stall time.
var errStalled = errors.New("stalled")

// fetch pulls the bundle at u into the Updater and records how it ended.
func (f *lwm2mFirmware) fetch(ctx context.Context, u *url.URL) {
	start := time.Now()
	f.log.Info("lwm2m: pulling a firmware package", "uri", u.Redacted())
	stall := cmp.Or(f.stall, pullStall)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(stall, func() { cancel(fmt.Errorf("%w: no data for %v", errStalled, stall)) })
	defer watchdog.Stop()
	take := func(p update.Piece) error {
		watchdog.Reset(stall)
		_, err := f.su.u.Take(p)
		return err
	}
	var err error
	if u.Scheme == "coap" {
		err = pullCoAP(ctx, u, take)
	} else {
		err = pullHTTP(ctx, u, take)
	}
	stalled := errors.Is(context.Cause(ctx), errStalled)
	if stalled {
		err = context.Cause(ctx)
	}
	switch {
	case ctx.Err() != nil && !stalled:
		f.log.Info("lwm2m: firmware pull stopped", "uri", u.Redacted())
	case err == nil:
		f.log.Info("lwm2m: firmware package pulled", "uri", u.Redacted(), "took", time.Since(start).Round(time.Millisecond))
	default:
		result := update.ResultConnection
		if errors.Is(err, errNotFound) {
			result = update.ResultInvalidURI
		}
		f.log.Warn("lwm2m: firmware pull failed", "uri", u.Redacted(), "err", err)
		f.su.u.DownloadFailed(result, err)
	}
}

// pullCoAP fetches a coap:// URI block by block (Block2).
func pullCoAP(ctx context.Context, u *url.URL, take func(update.Piece) error) error {
	port := uint16(5683)
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return fmt.Errorf("port %q: %w", p, err)
		}
		port = uint16(n)
	}
	c := coap.NewClient(nil)
	defer c.Close()
	s, err := c.NewSession(net.JoinHostPort(u.Hostname(), strconv.Itoa(int(port))), coap.SessionOptions{})
	if err != nil {
		return err
	}
	path := u.EscapedPath()
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	err = s.Download(ctx, path, func(off int64, data []byte, more bool) error {
		return take(update.Piece{Offset: off, Data: data, More: more, Size1: -1})
	})
	var answer *coap.AnswerError
	if errors.As(err, &answer) && answer.Code == coapNotFound {
		return fmt.Errorf("%w: %w", errNotFound, err)
	}
	return err
}

// pullHTTP fetches an http:// URI, the header first and then pullPiece at a time.
func pullHTTP(ctx context.Context, u *url.URL, take func(update.Piece) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return fmt.Errorf("%w: GET %s: %s", errNotFound, u.Redacted(), resp.Status)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: %s", u.Redacted(), resp.Status)
	}
	size := resp.ContentLength // -1 when the server does not say
	body := bufio.NewReaderSize(resp.Body, pullPiece)
	piece := make([]byte, bundle.HeaderSize)
	for off := int64(0); ; {
		n, err := io.ReadFull(body, piece)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("GET %s at byte %d: %w", u.Redacted(), off, err)
		}
		more := false
		if err == nil { // a full piece: more follows unless the body ends right here
			_, perr := body.Peek(1)
			if perr != nil && !errors.Is(perr, io.EOF) {
				return fmt.Errorf("GET %s at byte %d: %w", u.Redacted(), off+int64(n), perr)
			}
			more = perr == nil
		}
		if err := take(update.Piece{Offset: off, Data: piece[:n], More: more, Size1: size}); err != nil {
			return err
		}
		if !more {
			return nil
		}
		off += int64(n)
		if len(piece) < pullPiece {
			piece = make([]byte, pullPiece)
		}
	}
}
