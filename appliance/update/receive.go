package update

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/pigw/pigw/appliance/update/bundle"
)

// syncEvery is how many root bytes are written between syncs of the slot; each sync moves the
// point a resumed upload restarts from. Every block size divides it.
const syncEvery = 1 << 20

// Piece is one piece of a bundle being uploaded: a Block1 block.
type Piece struct {
	Offset int64  // in the bundle
	Data   []byte // the piece's bytes
	More   bool   // more pieces follow
	Size1  int64  // the bundle's size when the client announced it, else -1
	ID     string // the upload the client means to continue ("" for any): Status.UploadID
}

// upload is the upload in progress.
type upload struct {
	hdr      []byte         // the header while it arrives
	h        *bundle.Header // once it has arrived and checked out
	id       string
	slot     Slot
	info     SlotInfo
	received int64 // bundle bytes received, header included
	mark     int64 // root bytes synced to the slot
	total    int64 // the bundle's size
}

func (c *upload) close() {
	if c.slot != nil {
		_ = c.slot.Close()
	}
}

// drop forgets the upload in progress.
func (u *Updater) drop() {
	if u.cur != nil {
		u.cur.close()
		u.cur = nil
	}
	if err := u.cfg.Dir.Delete(keyUpload); err != nil {
		u.cfg.Log.Error("forget the update upload", "err", err)
	}
}

// current is the upload in progress; after a restart, the one the records describe.
func (u *Updater) current() *upload {
	if u.cur != nil {
		return u.cur
	}
	var rec uploadRecord
	if err := get(u.cfg.Dir, keyUpload, &rec); err != nil || rec.Header == nil {
		return nil
	}
	h, err := bundle.ParseHeader(rec.Header)
	if err != nil {
		return nil
	}
	u.cur = &upload{hdr: rec.Header, h: h, id: UploadID(h), received: bundle.HeaderSize + rec.Mark,
		mark: rec.Mark, total: bundle.HeaderSize + h.Manifest.PayloadSize(), info: SlotInfo{Name: rec.Slot}}
	u.cfg.Log.Info("update upload can resume", "upload", u.cur.id, "version", h.Manifest.Version, "bytes", u.cur.received)
	return u.cur
}

// Take writes one piece of an upload. It returns done when the piece was the last and the
// root read back from the slot matched the manifest. A refusal is an *Error.
func (u *Updater) Take(p Piece) (done bool, err error) {
	defer u.notify()
	u.mu.Lock()
	defer u.mu.Unlock()
	done, err = u.take(p)
	var e *Error
	if errors.As(err, &e) {
		if e.Result != ResultInitial {
			u.setResult(e.Result, e.Error())
		}
		if e.Kind == Refused || e.Kind == TooLarge || e.Kind == Corrupt {
			u.drop() // nothing to resume: the client must start again
		}
	}
	u.changed(done || err != nil)
	return done, err
}

func (u *Updater) take(p Piece) (bool, error) {
	if p.Offset == 0 {
		u.drop()
		u.cur = &upload{total: -1}
	}
	c := u.current()
	switch {
	case c == nil:
		return false, &Error{Kind: OutOfOrder, Err: errors.New("no upload in progress: start at block 0")}
	case p.ID != "" && c.id != "" && p.ID != c.id:
		return false, &Error{Kind: WrongUpload, Err: fmt.Errorf("upload %s is not in progress; upload %s is, at byte %d", p.ID, c.id, c.received)}
	case p.Offset > c.received:
		return false, &Error{Kind: OutOfOrder, Err: fmt.Errorf("piece at byte %d: this upload has %d bytes, resume there", p.Offset, c.received)}
	case c.total > 0 && p.Size1 >= 0 && p.Size1 != c.total:
		return false, &Error{Kind: Corrupt, Err: fmt.Errorf("size %d announced; the manifest makes the bundle %d bytes", p.Size1, c.total)}
	}
	if p.Offset < bundle.HeaderSize {
		if err := u.header(c, p); err != nil {
			return false, err
		}
		return false, nil
	}
	return u.payload(c, p)
}

// header collects the header's pieces and checks it once whole, before anything is written.
func (u *Updater) header(c *upload, p Piece) error {
	if c.h != nil { // a resent piece of a header already checked
		return nil
	}
	if p.Offset+int64(len(p.Data)) > bundle.HeaderSize {
		return &Error{Kind: Corrupt, Err: fmt.Errorf("a piece crosses the end of the %d-byte header: blocks must be at most 1024 bytes", bundle.HeaderSize)}
	}
	other, err := u.cfg.Layout.Other()
	if err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	if p.Size1 > bundle.HeaderSize+other.Size {
		return &Error{Kind: TooLarge, Result: ResultNoStorage, Limit: bundle.HeaderSize + other.Size,
			Err: fmt.Errorf("bundle of %d bytes: its root does not fit the %d bytes of slot %s", p.Size1, other.Size, other.Name)}
	}
	c.hdr = append(c.hdr[:p.Offset], p.Data...)
	c.received = int64(len(c.hdr))
	if len(c.hdr) < bundle.HeaderSize {
		if !p.More {
			return &Error{Kind: Corrupt, Result: ResultIntegrity, Err: fmt.Errorf("bundle ends after %d bytes, inside its %d-byte header", len(c.hdr), bundle.HeaderSize)}
		}
		return nil
	}
	h, err := bundle.ParseHeader(c.hdr)
	if err != nil {
		return &Error{Kind: Refused, Result: ResultUnsupported, Err: err}
	}
	if err := u.admit(h, other.Size); err != nil {
		return err
	}
	if id := UploadID(h); p.ID != "" && p.ID != id {
		return &Error{Kind: WrongUpload, Err: fmt.Errorf("the client names upload %s; this bundle is %s", p.ID, id)}
	}
	if !p.More && h.Manifest.PayloadSize() > 0 {
		return &Error{Kind: Corrupt, Result: ResultIntegrity, Err: fmt.Errorf("bundle ends after its header; the manifest says %d bytes of root follow", h.Manifest.PayloadSize())}
	}
	slot, err := openSlot(other.Path)
	if err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	c.h, c.id, c.slot, c.info = h, UploadID(h), slot, other
	c.total = bundle.HeaderSize + h.Manifest.PayloadSize()
	if err := put(u.cfg.Dir, keyOther, otherRecord{Slot: other.Name, Content: "partial", Header: c.hdr}); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	if err := put(u.cfg.Dir, keyUpload, uploadRecord{Header: c.hdr, Slot: other.Name}); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	u.setResult(ResultInitial, "")
	u.cfg.Log.Info("update upload started", "version", h.Manifest.Version, "seq", h.Manifest.Seq, "slot", other.Name, "bytes", c.total, "upload", c.id)
	return nil
}

// payload writes a piece of the root where it lands on the slot, and after the last one reads
// the slot back.
func (u *Updater) payload(c *upload, p Piece) (bool, error) {
	if c.slot == nil { // resumed after a restart: the slot is opened again
		other, err := u.cfg.Layout.Other()
		if err != nil {
			return false, &Error{Kind: Unavailable, Err: err}
		}
		if other.Name != c.info.Name {
			return false, &Error{Kind: WrongUpload, Err: fmt.Errorf("upload %s was for slot %s; the other slot is now %s: start at block 0", c.id, c.info.Name, other.Name)}
		}
		if c.slot, err = openSlot(other.Path); err != nil {
			return false, &Error{Kind: Unavailable, Err: err}
		}
		c.info = other
	}
	end := p.Offset + int64(len(p.Data))
	if end > c.total {
		return false, &Error{Kind: TooLarge, Limit: c.total, Err: fmt.Errorf("piece ends at byte %d; the manifest makes the bundle %d bytes", end, c.total)}
	}
	if _, err := c.slot.WriteAt(p.Data, p.Offset-bundle.HeaderSize); err != nil {
		return false, &Error{Kind: Unavailable, Err: fmt.Errorf("write slot %s: %w", c.info.Name, err)}
	}
	c.received = max(c.received, end)
	if root := c.received - bundle.HeaderSize; root-c.mark >= syncEvery {
		if err := u.sync(c, root-root%syncEvery); err != nil {
			return false, err
		}
	}
	if p.More {
		return false, nil
	}
	if end != c.total {
		return false, &Error{Kind: Corrupt, Result: ResultIntegrity, Err: fmt.Errorf("bundle ends at byte %d; the manifest makes it %d bytes", end, c.total)}
	}
	return true, u.verify(c)
}

// sync makes the first mark root bytes durable, then records that they are.
func (u *Updater) sync(c *upload, mark int64) error {
	if err := c.slot.Sync(); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	c.mark = mark
	if err := put(u.cfg.Dir, keyUpload, uploadRecord{Header: c.hdr, Slot: c.info.Name, Mark: mark}); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	return nil
}

// verify reads the root back from the medium and compares its digest with the manifest's.
func (u *Updater) verify(c *upload) error {
	defer func() {
		c.close()
		u.cur = nil
	}()
	root := c.h.Manifest.Components[0]
	if err := c.slot.ZeroFrom(root.Size); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	if err := c.slot.Sync(); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	if err := c.slot.DropCache(); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(c.slot, 0, root.Size)); err != nil {
		return &Error{Kind: Unavailable, Err: fmt.Errorf("read slot %s back: %w", c.info.Name, err)}
	}
	got := hex.EncodeToString(sum.Sum(nil))
	content := "verified"
	var fail error
	if got != root.SHA256 {
		content = "invalid"
		fail = &Error{Kind: Corrupt, Result: ResultIntegrity, Err: fmt.Errorf("slot %s read back has SHA-256 %s; the manifest says %s", c.info.Name, got, root.SHA256)}
	}
	if err := put(u.cfg.Dir, keyOther, otherRecord{Slot: c.info.Name, Content: content, Header: c.hdr}); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	if err := u.cfg.Dir.Delete(keyUpload); err != nil {
		return &Error{Kind: Unavailable, Err: err}
	}
	if fail != nil {
		u.cfg.Log.Error("update refused after read-back", "err", fail)
		return fail
	}
	u.cfg.Log.Info("update received and verified", "version", c.h.Manifest.Version, "slot", c.info.Name, "sha256", got)
	return nil
}
