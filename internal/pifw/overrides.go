package pifw

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Parameters (dtparam=, and the parameters of a dtoverlay= line) change a device tree through
// its /__overrides__ node: each parameter names a list of declarations, a target node's
// phandle followed by what to change there. The forms pigw's overlays and the usual
// parameters use are applied here:
//
//	"status"         on/off → status "okay"/"disabled"
//	"name"           a string property set to the value
//	"name:N"         a 32-bit cell at byte offset N set to the value (a number)
//	"name?"          a boolean property: present when the value is true
//	"name=literal"   a string property set to the literal, whatever the value
//
// Any other form (other cell sizes, phandle values, fragment switches, value maps) is
// reported, never guessed.

// applyParam applies param=value through t's overrides. It returns what it could not apply.
func applyParam(t *Tree, param, value string) error {
	ov := t.Lookup("/__overrides__")
	if ov == nil {
		return fmt.Errorf("%s: the device tree has no parameters (no /__overrides__)", param)
	}
	decl, ok := ov.Prop(param)
	if !ok {
		return fmt.Errorf("%s: not a parameter of this device tree", param)
	}
	if len(decl) == 0 {
		return fmt.Errorf("%s: a parameter without declarations (set by the firmware itself)", param)
	}
	for len(decl) > 0 {
		if len(decl) < 5 {
			return fmt.Errorf("%s: truncated declaration", param)
		}
		ph := binary.BigEndian.Uint32(decl)
		end := bytes.IndexByte(decl[4:], 0)
		if end < 0 {
			return fmt.Errorf("%s: declaration without its end", param)
		}
		what := string(decl[4 : 4+end])
		decl = decl[4+end+1:]
		if ph == 0 {
			return fmt.Errorf("%s: %q changes the overlay's fragments, which is not emulated", param, what)
		}
		n := t.ByPhandle(ph)
		if n == nil {
			return fmt.Errorf("%s: no node with phandle %#x", param, ph)
		}
		if err := applyDecl(n, what, value); err != nil {
			return fmt.Errorf("%s: %w", param, err)
		}
	}
	return nil
}

func applyDecl(n *Node, what, value string) error {
	if name, lit, ok := strings.Cut(what, "="); ok {
		if lit == "" || strings.ContainsAny(name, ":?[{") {
			return fmt.Errorf("%q: a literal of this form is not emulated", what)
		}
		if name == "bootargs" {
			return fmt.Errorf("%q: the firmware appends to the command line, which is not emulated", what)
		}
		n.SetString(name, lit)
		return nil
	}
	switch {
	case strings.HasSuffix(what, "?"):
		b, err := parseBool(value)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(what, "?")
		if b {
			n.Set(name, nil)
		} else {
			n.Delete(name)
		}
		return nil
	case strings.Contains(what, ":"):
		name, off, _ := strings.Cut(what, ":")
		o, err := strconv.Atoi(off)
		if err != nil || o < 0 {
			return fmt.Errorf("%q: offset %q is not a number", what, off)
		}
		v, err := strconv.ParseUint(value, 0, 32)
		if err != nil {
			b, berr := parseBool(value)
			if berr != nil {
				return fmt.Errorf("%q: value %q is not a 32-bit number or on/off", what, value)
			}
			v = map[bool]uint64{true: 1, false: 0}[b]
		}
		cur, _ := n.Prop(name)
		cur = bytes.Clone(cur)
		if len(cur) < o+4 {
			cur = append(cur, make([]byte, o+4-len(cur))...)
		}
		binary.BigEndian.PutUint32(cur[o:], uint32(v))
		n.Set(name, cur)
		return nil
	case strings.ContainsAny(what, ".;_#[{!+"):
		return fmt.Errorf("%q: a declaration of this form is not emulated", what)
	case what == "status":
		b, err := parseBool(value)
		if err != nil {
			return err
		}
		n.SetString("status", map[bool]string{true: "okay", false: "disabled"}[b])
		return nil
	default:
		n.SetString(what, value)
		return nil
	}
}

// parseBool reads a parameter's value as the firmware does; a parameter given without a value
// is on.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "on", "true", "yes", "okay", "1":
		return true, nil
	case "off", "false", "no", "disabled", "0":
		return false, nil
	}
	return false, fmt.Errorf("value %q is not on/off", v)
}
