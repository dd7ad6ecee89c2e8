// Package flash writes a disk image to an SD card, the one step of putting pigw on a Pi where
// a typo costs data: "dd of=/dev/sda" and the laptop's own disk is gone. So before writing,
// Inspect refuses any device that is not a block device, holds the running system's root
// file system or swap, has something mounted, is read-only, or is smaller than the image.
// Then Flash writes in large sector-aligned chunks that bypass the page cache, flushes the
// device's buffers so nothing is read back from memory, and reads everything back to compare
// it with the image: cheap cards and readers fail silently often enough that an unverified
// card is not worth booting.
package flash

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pigw/pigw/internal/progress"
)

// DefaultChunk is the size of each write and read-back: large enough that an SD card writes at
// full speed, a whole number of erase blocks.
const DefaultChunk = 4 << 20

// Options tune Flash. The zero value writes silently to the real device.
type Options struct {
	Progress io.Writer // where progress goes; nil: nowhere
	Redraw   bool      // Progress is a terminal: redraw one line instead of a line per 10%
	Chunk    int       // bytes per write; 0 is DefaultChunk. Rounded up to 4 KiB.
	// Open opens the target; nil is OpenMedium.
	Open func(*Target) (Medium, error)
	Now  func() time.Time // nil is time.Now
}

// Result is what Flash did.
type Result struct {
	Size       int64         // bytes written and verified
	SHA256     string        // hex digest of the image and of what was read back
	WriteTime  time.Duration // writing and flushing
	VerifyTime time.Duration // reading back
	Notes      []string      // things worth telling that are not errors
}

// MismatchError is a read-back that differs from the image.
type MismatchError struct {
	Device      string
	Offset      int64 // of the first byte that differs
	Want, Found byte
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("verify %s: the card differs from the image at byte %d (0x%x): wrote 0x%02x, read back 0x%02x; do not boot from it (a faulty or fake card, or a bad reader)",
		e.Device, e.Offset, e.Offset, e.Want, e.Found)
}

// StatImage checks that path is an uncompressed image and returns its size.
func StatImage(path string) (int64, error) {
	for _, ext := range []string{".xz", ".zst", ".gz", ".bz2", ".zip", ".7z"} {
		if strings.HasSuffix(strings.ToLower(path), ext) {
			return 0, fmt.Errorf("image %s is compressed (%s): decompress it first", path, ext)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("image: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("image %s: a %s, not a regular file", path, kind(fi.Mode()))
	}
	if fi.Size() == 0 {
		return 0, fmt.Errorf("image %s is empty", path)
	}
	return fi.Size(), nil
}

// CheckFit refuses an image larger than the target. An empty regular file grows to fit.
func CheckFit(t *Target, imageSize int64) error {
	if (t.Block || t.Size > 0) && imageSize > t.Size {
		return refuse(t.Path, "the image (%s, %d bytes) is larger than the device (%s, %d bytes)",
			progress.HumanSize(imageSize), imageSize, progress.HumanSize(t.Size), t.Size)
	}
	return nil
}

// Flash writes the image file at path to t from its first byte on, makes it durable, and
// verifies it by reading it back. Bytes of t past the image's end are left as they were.
// Cancelling ctx stops between chunks; the target then holds part of the image.
func Flash(ctx context.Context, path string, t *Target, opt Options) (Result, error) {
	size, err := StatImage(path)
	if err != nil {
		return Result{}, err
	}
	if err := CheckFit(t, size); err != nil {
		return Result{}, err
	}
	img, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("image: %w", err)
	}
	defer img.Close()
	if ii, err := img.Stat(); err == nil {
		if ti, err := os.Stat(t.Path); err == nil && os.SameFile(ii, ti) {
			return Result{}, refuse(t.Path, "it is the image itself")
		}
	}
	open := opt.Open
	if open == nil {
		open = OpenMedium
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	chunk := max(opt.Chunk, 0)
	if chunk == 0 {
		chunk = DefaultChunk
	}
	chunk = (chunk + 4095) &^ 4095
	// Anonymous memory is page-aligned, as O_DIRECT needs.
	buf, err := unix.Mmap(-1, 0, chunk, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return Result{}, fmt.Errorf("allocate %d-byte buffer: %w", chunk, err)
	}
	defer unix.Munmap(buf)

	m, err := open(t)
	if err != nil {
		return Result{}, err
	}
	closed := false
	defer func() {
		if !closed {
			m.Close()
		}
	}()
	w := &writer{ctx: ctx, img: img, m: m, t: t, size: size, buf: buf, opt: opt, now: now}
	res := Result{Size: size}
	start := now()
	if err := w.write(); err != nil {
		return res, err
	}
	if err := m.Flush(); err != nil {
		return res, err
	}
	res.WriteTime = now().Sub(start)
	res.SHA256 = hex.EncodeToString(w.sum)

	start = now()
	if err := w.verify(); err != nil {
		return res, err
	}
	res.VerifyTime = now().Sub(start)
	// Only now: a desktop may auto-mount the new partitions, and mounting can write to them.
	if note := rereadPartitions(m, t.Path); note != "" {
		res.Notes = append(res.Notes, note)
	}
	closed = true
	if err := m.Close(); err != nil {
		return res, fmt.Errorf("close %s: %w", t.Path, err)
	}
	return res, nil
}

// rereadPartitions has the kernel read a block device's new partition table. The card is
// written and verified by then, so a failure is worth a note, not an error.
func rereadPartitions(m Medium, dev string) string {
	pr, ok := m.(PartitionRereader)
	if !ok {
		return ""
	}
	switch err := pr.RereadPartitions(); {
	case err == nil:
		return ""
	case errors.Is(err, unix.EBUSY):
		return fmt.Sprintf("the kernel still uses %s's old partition table (busy); replug the card to see the new one", dev)
	case errors.Is(err, unix.EINVAL):
		return fmt.Sprintf("the kernel does not scan %s for partitions (BLKRRPART: %v)", dev, unix.EINVAL)
	default:
		return fmt.Sprintf("%v; replug the card to see its new partitions", err)
	}
}

// writer is one Flash in progress.
type writer struct {
	ctx  context.Context
	img  *os.File
	m    Medium
	t    *Target
	size int64
	buf  []byte
	opt  Options
	now  func() time.Time
	sums [][sha256.Size]byte // of each chunk, to find where a read-back differs
	sum  []byte              // of the whole image
}

func (w *writer) write() error {
	p := progress.New(w.opt.Progress, w.opt.Redraw, "writing", w.size, w.now)
	h := sha256.New()
	for off := int64(0); off < w.size; {
		if err := w.ctx.Err(); err != nil {
			p.End()
			return fmt.Errorf("interrupted after writing %s of %s: %s now holds an incomplete image, flash it again before use: %w",
				progress.HumanSize(off), progress.HumanSize(w.size), w.t.Path, err)
		}
		b := w.buf[:min(int64(len(w.buf)), w.size-off)]
		if _, err := io.ReadFull(w.img, b); err != nil {
			p.End()
			return fmt.Errorf("read image %s at offset %d: %w", w.img.Name(), off, err)
		}
		h.Write(b)
		w.sums = append(w.sums, sha256.Sum256(b))
		if _, err := w.m.WriteAt(b, off); err != nil {
			p.End()
			return fmt.Errorf("write %s at offset %d: %w", w.t.Path, off, err)
		}
		off += int64(len(b))
		p.Update(off)
	}
	w.sum = h.Sum(nil)
	return nil
}

// verify reads the written range back and compares it chunk by chunk with the image's sums;
// at the first chunk that differs it reads the image again to name the byte.
func (w *writer) verify() error {
	p := progress.New(w.opt.Progress, w.opt.Redraw, "verifying", w.size, w.now)
	h := sha256.New()
	for i, off := 0, int64(0); off < w.size; i++ {
		if err := w.ctx.Err(); err != nil {
			p.End()
			return fmt.Errorf("verification interrupted after %s of %s: %s holds the whole image, but unverified: %w",
				progress.HumanSize(off), progress.HumanSize(w.size), w.t.Path, err)
		}
		b := w.buf[:min(int64(len(w.buf)), w.size-off)]
		if n, err := w.m.ReadAt(b, off); n < len(b) {
			p.End()
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read back %s at offset %d: %w", w.t.Path, off+int64(n), err)
		}
		h.Write(b)
		if sha256.Sum256(b) != w.sums[i] {
			p.End()
			return w.mismatch(b, off)
		}
		off += int64(len(b))
		p.Update(off)
	}
	if got := h.Sum(nil); !bytes.Equal(got, w.sum) { // cannot differ if every chunk matched
		return fmt.Errorf("verify %s: sha256 %x, want %x", w.t.Path, got, w.sum)
	}
	return nil
}

func (w *writer) mismatch(got []byte, off int64) error {
	want := make([]byte, len(got))
	if _, err := w.img.ReadAt(want, off); err != nil {
		return fmt.Errorf("verify %s: differs from the image in the %s from offset %d (re-reading the image: %v)",
			w.t.Path, progress.HumanSize(int64(len(got))), off, err)
	}
	i := 0
	for i < len(got) && got[i] == want[i] {
		i++
	}
	if i == len(got) { // the image changed under us
		return fmt.Errorf("verify %s: the image %s changed while it was written", w.t.Path, w.img.Name())
	}
	return &MismatchError{Device: w.t.Path, Offset: off + int64(i), Want: want[i], Found: got[i]}
}
