// Package bundle is the format of pigw's update bundles: a signed manifest that says what the
// bundle is for and what it holds, followed by the root file system it holds.
//
// A device checks the whole manifest (signature, product, board, architecture, sequence number,
// size) from the first 4 KiB it receives, before it writes anything, and checks the root it
// wrote against the manifest's SHA-256 by reading it back. So the manifest is small, comes
// first and is signed over its exact bytes; the root follows unchanged, so that it can be
// written where it lands, block by block, and never held whole in memory.
//
// Layout (all integers big-endian):
//
//	offset 0   "PIGWUPD1"
//	offset 8   header length H, uint32: 4096
//	offset 12  manifest length M, uint32, then M bytes of JSON (Manifest)
//	           key ID (8 bytes: the first 8 of the SHA-256 of the signer's public key)
//	           Ed25519 signature (64 bytes) of "pigw update manifest v1\x00" followed by the M bytes
//	           zeros up to H
//	offset H   each component's bytes in the manifest's order (today one, "root": a squashfs)
package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Magic starts every bundle.
const Magic = "PIGWUPD1"

// HeaderSize is the length of the header: the manifest, its key ID and signature, padding.
const HeaderSize = 4096

// signedPrefix separates manifest signatures from any other use of a key.
const signedPrefix = "pigw update manifest v1\x00"

// maxManifest is the most manifest JSON a header has room for.
const maxManifest = HeaderSize - 16 - keyIDSize - ed25519.SignatureSize

// Manifest says what a bundle is for and what it holds.
type Manifest struct {
	Format        int         `json:"format"`         // 1
	Product       string      `json:"product"`        // "pigw"
	BoardFamily   string      `json:"board_family"`   // "rpi-arm64": the boards the root boots on
	Arch          string      `json:"arch"`           // GOARCH of the root's binaries: "arm64"
	Version       string      `json:"version"`        // for people
	Seq           uint64      `json:"seq"`            // grows with every release; a device refuses lower ones
	Floor         uint64      `json:"floor"`          // once this bundle is committed, the lowest seq a device accepts
	KernelRelease string      `json:"kernel_release"` // the kernel the root's modules are for
	Components    []Component `json:"components"`
}

// Component is one part of the bundle's payload.
type Component struct {
	Name   string `json:"name"` // "root"
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// Header is a bundle's parsed header.
type Header struct {
	Manifest Manifest
	Raw      []byte // the manifest's signed bytes
	KeyID    KeyID
	Sig      []byte
}

// PayloadSize is the length of everything after the header.
func (m *Manifest) PayloadSize() int64 {
	var n int64
	for _, c := range m.Components {
		n += c.Size
	}
	return n
}

// SignatureOffset is where the signature starts in the header.
func (h *Header) SignatureOffset() int { return 16 + len(h.Raw) + keyIDSize }

// Digest is the SHA-256 of the manifest's signed bytes: what names an upload and, once it
// fails, what a device remembers as bad.
func (h *Header) Digest() [32]byte { return sha256.Sum256(h.Raw) }

// Sign returns the header of a bundle with manifest m, signed with key.
func Sign(m Manifest, key ed25519.PrivateKey) ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	if len(raw) > maxManifest {
		return nil, fmt.Errorf("manifest of %d bytes: at most %d fit the header", len(raw), maxManifest)
	}
	h := make([]byte, HeaderSize)
	copy(h, Magic)
	binary.BigEndian.PutUint32(h[8:], HeaderSize)
	binary.BigEndian.PutUint32(h[12:], uint32(len(raw)))
	p := 16 + copy(h[16:], raw)
	id := IDOf(key.Public().(ed25519.PublicKey))
	p += copy(h[p:], id[:])
	copy(h[p:], ed25519.Sign(key, append([]byte(signedPrefix), raw...)))
	return h, nil
}

// ParseHeader reads a bundle's header from the first HeaderSize bytes of b. It checks the
// form, not the signature (Verify does).
func ParseHeader(b []byte) (*Header, error) {
	switch {
	case len(b) < 16:
		return nil, fmt.Errorf("bundle header: %d bytes, need at least 16", len(b))
	case string(b[:8]) != Magic:
		return nil, fmt.Errorf("bundle header: starts with %q, not %q: not a pigw update bundle", b[:8], Magic)
	}
	if n := binary.BigEndian.Uint32(b[8:]); n != HeaderSize {
		return nil, fmt.Errorf("bundle header: length %d, this pigw reads %d-byte headers", n, HeaderSize)
	}
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("bundle header: %d bytes, need %d", len(b), HeaderSize)
	}
	m := int(binary.BigEndian.Uint32(b[12:]))
	if m > maxManifest {
		return nil, fmt.Errorf("bundle header: manifest length %d, at most %d", m, maxManifest)
	}
	h := &Header{Raw: bytes.Clone(b[16 : 16+m])}
	p := 16 + m
	copy(h.KeyID[:], b[p:p+keyIDSize])
	h.Sig = bytes.Clone(b[p+keyIDSize : p+keyIDSize+ed25519.SignatureSize])
	if pad := b[p+keyIDSize+ed25519.SignatureSize : HeaderSize]; bytes.Count(pad, []byte{0}) != len(pad) {
		return nil, errors.New("bundle header: the padding after the signature must be zeros (the header was changed)")
	}
	dec := json.NewDecoder(bytes.NewReader(h.Raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h.Manifest); err != nil {
		return nil, fmt.Errorf("bundle manifest: %w", err)
	}
	if err := h.Manifest.check(); err != nil {
		return nil, err
	}
	return h, nil
}

// ErrSignature marks the refusals of Verify: no trusted key, or a signature that does not verify.
var ErrSignature = errors.New("signature")

// Verify checks the header's signature with the trusted key of its key ID.
func (h *Header) Verify(trusted []ed25519.PublicKey) error {
	if len(trusted) == 0 {
		return fmt.Errorf("this image trusts no update key (built without --sign-key): it accepts no update (%w)", ErrSignature)
	}
	for _, k := range trusted {
		if IDOf(k) != h.KeyID {
			continue
		}
		if !ed25519.Verify(k, append([]byte(signedPrefix), h.Raw...), h.Sig) {
			return fmt.Errorf("bundle %w by key %s does not verify: the manifest was changed, or signed otherwise", ErrSignature, h.KeyID)
		}
		return nil
	}
	return fmt.Errorf("bundle signed by key %s, which this image does not trust (%w)", h.KeyID, ErrSignature)
}

// check gives the rules a manifest's form must follow.
func (m *Manifest) check() error {
	if m.Format != 1 {
		return fmt.Errorf("bundle manifest format %d: this pigw reads format 1", m.Format)
	}
	for _, f := range []struct{ name, v string }{{"product", m.Product}, {"board_family", m.BoardFamily}, {"arch", m.Arch}, {"kernel_release", m.KernelRelease}} {
		if f.v == "" {
			return fmt.Errorf("bundle manifest: %s is empty", f.name)
		}
	}
	if m.Floor > m.Seq {
		return fmt.Errorf("bundle manifest: floor %d above its own seq %d", m.Floor, m.Seq)
	}
	if len(m.Components) != 1 || m.Components[0].Name != "root" {
		return fmt.Errorf("bundle manifest: components %v, want exactly one, \"root\"", names(m.Components))
	}
	for _, c := range m.Components {
		if c.Size <= 0 {
			return fmt.Errorf("bundle manifest: component %q has size %d", c.Name, c.Size)
		}
		if d, err := hex.DecodeString(c.SHA256); err != nil || len(d) != sha256.Size {
			return fmt.Errorf("bundle manifest: component %q sha256 %q is not 64 hex digits", c.Name, c.SHA256)
		}
	}
	return nil
}

func names(cs []Component) []string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Name)
	}
	return n
}
