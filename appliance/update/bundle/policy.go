package bundle

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrTooLarge marks a bundle whose payload does not fit the slot (CoAP 4.13); every other
// refusal of Admit is one of signature or policy (4.03).
var ErrTooLarge = errors.New("too large")

// Device is what a device checks a bundle's header against before it writes anything.
type Device struct {
	Trusted       []ed25519.PublicKey
	Product       string
	BoardFamily   string
	Arch          string
	KernelRelease string            // the release of the kernel modules in the running root
	Floor         uint64            // the committed bundle's floor: lower seqs are downgrades
	SlotSize      int64             // bytes in the inactive root partition
	Bad           map[string]string // manifest digests (hex) whose trial failed, with why
	TrialRunning  bool
}

// Admit checks h: signature first, then every rule, each refusal naming the value and the rule.
func (d *Device) Admit(h *Header) error {
	if err := h.Verify(d.Trusted); err != nil {
		return err
	}
	m := &h.Manifest
	for _, f := range []struct{ name, got, want string }{
		{"product", m.Product, d.Product},
		{"board family", m.BoardFamily, d.BoardFamily},
		{"architecture", m.Arch, d.Arch},
		{"kernel release", m.KernelRelease, d.KernelRelease},
	} {
		if f.got != f.want {
			return fmt.Errorf("bundle for %s %q; this device is %q", f.name, f.got, f.want)
		}
	}
	digest := h.Digest()
	switch {
	case d.TrialRunning:
		return errors.New("a trial of another update is running: commit or roll it back first")
	case m.Seq < d.Floor:
		return fmt.Errorf("bundle seq %d (version %s) is below this device's floor %d: a downgrade", m.Seq, m.Version, d.Floor)
	case d.Bad[hex.EncodeToString(digest[:])] != "":
		return fmt.Errorf("bundle version %s failed its trial on this device before: %s", m.Version, d.Bad[hex.EncodeToString(digest[:])])
	case m.PayloadSize() > d.SlotSize:
		return fmt.Errorf("bundle root of %d bytes, the slot has %d: %w", m.PayloadSize(), d.SlotSize, ErrTooLarge)
	}
	return nil
}
