// Package push is the pushing end of an update: it sends a bundle to a device's /sys/update,
// resumes where the device says it stopped when the connection breaks, and reports progress.
// `pigw update` is built on it.
//
// The device, not the pusher, knows how much of an upload is on its medium (it syncs every
// megabyte and forgets what a power cut lost), so after every break the pusher asks it
// (GET /sys/update) and resumes from there, naming the upload by its ID so that a device that
// meanwhile took another upload refuses instead of mixing the two.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/appliance/update/bundle"
)

// Path is the device's update resource.
const Path = "sys/update"

// Bundle is a bundle to push: its header, parsed, and where its bytes are.
type Bundle struct {
	Header *bundle.Header
	Data   io.ReaderAt
	Size   int64
}

// OpenBundle reads the header of the bundle in r, of size bytes.
func OpenBundle(r io.ReaderAt, size int64) (*Bundle, error) {
	hdr := make([]byte, bundle.HeaderSize)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("read the bundle's header: %w", err)
	}
	h, err := bundle.ParseHeader(hdr)
	if err != nil {
		return nil, err
	}
	if want := bundle.HeaderSize + h.Manifest.PayloadSize(); size != want {
		return nil, fmt.Errorf("bundle of %d bytes; its manifest makes it %d: truncated or not a bundle", size, want)
	}
	return &Bundle{Header: h, Data: r, Size: size}, nil
}

// Dialer opens a new session to the device: after a break, the old one is dead.
type Dialer func() (*coap.Session, error)

// Pusher sends bundles.
type Pusher struct {
	Dial Dialer
	// Start, when set, is called as each pass of the upload begins, with the bytes the device
	// holds already; Progress, when set, gets the bytes it holds after each block.
	Start, Progress func(received int64)
	// Retry is how long to keep trying to reach the device after a break (default 5 min).
	Retry time.Duration
	Log   *slog.Logger
}

// RefusedError is the device's refusal of the bundle: a 4.xx answer, not a broken connection.
type RefusedError struct{ Response coap.Response }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the device refused the bundle: %s %s", e.Response.Code, e.Response.Payload)
}

// Status asks the device for its update status.
func Status(ctx context.Context, s *coap.Session) (update.Status, error) {
	var st update.Status
	resp, err := s.Do(ctx, coap.NewRequest(coap.GET, Path))
	if err != nil {
		return st, err
	}
	if resp.Code != coap.Content {
		return st, &RefusedError{resp}
	}
	if err := json.Unmarshal(resp.Payload, &st); err != nil {
		return st, fmt.Errorf("the device's update status: %w", err)
	}
	return st, nil
}

// Send uploads b until the device holds it verified, resuming after breaks. It returns the
// device's status after the last block.
func (p *Pusher) Send(ctx context.Context, b *Bundle) (update.Status, error) {
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	id := update.UploadID(b.Header)
	digest := b.Header.Digest()
	retry := p.Retry
	if retry <= 0 {
		retry = 5 * time.Minute
	}
	lastProgress := time.Now()
	for attempt := 0; ; attempt++ {
		st, err := p.attempt(ctx, b, id, fmt.Sprintf("%x", digest[:]), &lastProgress)
		var refused *RefusedError
		switch {
		case err == nil:
			return st, nil
		case errors.As(err, &refused), ctx.Err() != nil:
			return st, err
		case time.Since(lastProgress) > retry:
			return st, fmt.Errorf("no progress for %s, giving up: %w", retry.Round(time.Second), err)
		}
		log.Warn("update upload broke off; resuming", "err", err, "attempt", attempt+1)
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(min(time.Duration(attempt+1)*time.Second, 5*time.Second)):
		}
	}
}

// attempt is one session's try: ask where the device is, then upload from there.
func (p *Pusher) attempt(ctx context.Context, b *Bundle, id, digest string, lastProgress *time.Time) (update.Status, error) {
	s, err := p.Dial()
	if err != nil {
		return update.Status{}, err
	}
	defer s.Close()
	st, err := Status(ctx, s)
	if err != nil {
		return st, err
	}
	if st.Other.Digest == digest && st.Other.Content == "verified" && st.UploadID == "" {
		return st, nil // the device has it already
	}
	const bs = 1024
	var from int64
	if st.UploadID == id {
		from = st.BytesReceived - st.BytesReceived%bs
	}
	if p.Start != nil {
		p.Start(from)
	}
	req := coap.NewRequest(coap.PUT, Path+"?id="+id)
	req.ContentFormat = coap.AppOctetStream
	req.BlockSize = bs
	resp, err := s.Upload(ctx, req, b.Data, b.Size, from, func(n int64) {
		*lastProgress = time.Now()
		if p.Progress != nil {
			p.Progress(n)
		}
	})
	if err != nil {
		return st, err
	}
	if resp.Code != coap.Changed {
		return st, &RefusedError{resp}
	}
	if err := json.Unmarshal(resp.Payload, &st); err != nil {
		return st, fmt.Errorf("the device's update status: %w", err)
	}
	return st, nil
}
