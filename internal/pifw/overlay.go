package pifw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Overlays are merged here as the firmware merges them, not with dtc's fdtoverlay: libfdt's
// applier (dtc 1.6.1, Debian 12) refuses some of the Pi's own overlays that the firmware
// applies, such as miniuart-bt on the Pi 3 B's tree ("FDT_ERR_NOTFOUND"). The steps are the
// devicetree overlay rules: the overlay's own phandles move past the base's, references to
// the base's labels (__fixups__) are resolved through the base's __symbols__, each fragment's
// __overlay__ is merged into its target, and the overlay's labels join the base's.

// ApplyOverlay merges the overlay ov into base and returns the result.
func ApplyOverlay(base, ov []byte) ([]byte, error) {
	bt, err := ParseFDT(base)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	ot, err := ParseFDT(ov)
	if err != nil {
		return nil, fmt.Errorf("overlay: %w", err)
	}
	if err := applyOverlay(bt, ot); err != nil {
		return nil, err
	}
	return bt.Bytes(), nil
}

func applyOverlay(base, ov *Tree) error {
	delta := maxPhandle(base.Root)
	shiftPhandles(ov.Root, delta)
	if lf := ov.Lookup("/__local_fixups__"); lf != nil {
		if err := localFixups(ov.Root, lf, delta); err != nil {
			return err
		}
	}
	if fx := ov.Lookup("/__fixups__"); fx != nil {
		if err := fixups(base, ov, fx); err != nil {
			return err
		}
	}
	paths := map[string]string{} // "/fragment@0/__overlay__" → the target's path in base
	for _, frag := range ov.Root.Children {
		body := frag.child("__overlay__")
		if body == nil {
			continue
		}
		target, path, err := fragmentTarget(base, frag)
		if err != nil {
			return fmt.Errorf("%s: %w", frag.Name, err)
		}
		merge(target, body)
		paths["/"+frag.Name+"/__overlay__"] = path
	}
	if syms := ov.Lookup("/__symbols__"); syms != nil {
		bs := base.Lookup("/__symbols__")
		if bs == nil {
			bs = &Node{Name: "__symbols__"}
			base.Root.Children = append(base.Root.Children, bs)
		}
		for _, p := range syms.Props {
			v := string(bytes.TrimRight(p.Value, "\x00"))
			for from, to := range paths {
				if v == from || strings.HasPrefix(v, from+"/") {
					bs.SetString(p.Name, strings.TrimSuffix(to, "/")+strings.TrimPrefix(v, from))
				}
			}
		}
	}
	return nil
}

func phandleOf(n *Node) uint32 {
	for _, name := range []string{"phandle", "linux,phandle"} {
		if v, ok := n.Prop(name); ok && len(v) == 4 {
			return binary.BigEndian.Uint32(v)
		}
	}
	return 0
}

func maxPhandle(n *Node) uint32 {
	m := phandleOf(n)
	for _, c := range n.Children {
		m = max(m, maxPhandle(c))
	}
	return m
}

func shiftPhandles(n *Node, delta uint32) {
	for i, p := range n.Props {
		if (p.Name == "phandle" || p.Name == "linux,phandle") && len(p.Value) == 4 {
			n.Props[i].Value = binary.BigEndian.AppendUint32(nil, binary.BigEndian.Uint32(p.Value)+delta)
		}
	}
	for _, c := range n.Children {
		shiftPhandles(c, delta)
	}
}

// localFixups adds delta to every reference to the overlay's own phandles, which
// __local_fixups__ lists as byte offsets per property, in a tree shaped like the overlay's.
func localFixups(n, lf *Node, delta uint32) error {
	for _, p := range lf.Props {
		v, ok := n.Prop(p.Name)
		if !ok {
			return fmt.Errorf("__local_fixups__: %s has no property %s", n.Name, p.Name)
		}
		v = bytes.Clone(v)
		for o := 0; o+4 <= len(p.Value); o += 4 {
			off := int(binary.BigEndian.Uint32(p.Value[o:]))
			if off+4 > len(v) {
				return fmt.Errorf("__local_fixups__: %s/%s: offset %d past its end", n.Name, p.Name, off)
			}
			binary.BigEndian.PutUint32(v[off:], binary.BigEndian.Uint32(v[off:])+delta)
		}
		n.Set(p.Name, v)
	}
	for _, c := range lf.Children {
		nc := n.child(c.Name)
		if nc == nil {
			return fmt.Errorf("__local_fixups__: no node %s under %s", c.Name, n.Name)
		}
		if err := localFixups(nc, c, delta); err != nil {
			return err
		}
	}
	return nil
}

// fixups writes the phandles of the base's labels where the overlay refers to them; a
// labelled node without a phandle gets a new one, as the firmware gives it.
func fixups(base, ov *Tree, fx *Node) error {
	syms := base.Lookup("/__symbols__")
	if syms == nil {
		return errors.New("the base device tree has no __symbols__ (not built with -@)")
	}
	for _, p := range fx.Props {
		path, ok := syms.String(p.Name)
		if !ok {
			return fmt.Errorf("label %s is not in the base device tree", p.Name)
		}
		target := base.Lookup(path)
		if target == nil {
			return fmt.Errorf("label %s: no node %s", p.Name, path)
		}
		ph := phandleOf(target)
		if ph == 0 {
			ph = maxPhandle(base.Root) + 1
			target.Set("phandle", binary.BigEndian.AppendUint32(nil, ph))
		}
		for _, ref := range strings.Split(strings.TrimRight(string(p.Value), "\x00"), "\x00") {
			i := strings.LastIndexByte(ref, ':')
			j := strings.LastIndexByte(ref[:max(i, 0)], ':')
			if i < 0 || j < 0 {
				return fmt.Errorf("__fixups__/%s: %q is not path:property:offset", p.Name, ref)
			}
			off, err := strconv.Atoi(ref[i+1:])
			n := ov.Lookup(ref[:j])
			if err != nil || n == nil {
				return fmt.Errorf("__fixups__/%s: %q: no such place in the overlay", p.Name, ref)
			}
			v, ok := n.Prop(ref[j+1 : i])
			if !ok || off+4 > len(v) {
				return fmt.Errorf("__fixups__/%s: %q: no such property or offset", p.Name, ref)
			}
			v = bytes.Clone(v)
			binary.BigEndian.PutUint32(v[off:], ph)
			n.Set(ref[j+1:i], v)
		}
	}
	return nil
}

// fragmentTarget finds the node a fragment changes, by phandle (target) or by path
// (target-path, which may be an alias).
func fragmentTarget(base *Tree, frag *Node) (*Node, string, error) {
	if v, ok := frag.Prop("target"); ok && len(v) == 4 {
		ph := binary.BigEndian.Uint32(v)
		path, ok := base.pathOf(func(n *Node) bool { return phandleOf(n) == ph })
		if !ok {
			return nil, "", fmt.Errorf("target phandle %#x is not in the base device tree", ph)
		}
		return base.Lookup(path), path, nil
	}
	if p, ok := frag.String("target-path"); ok {
		n := base.Lookup(p)
		if n == nil {
			return nil, "", fmt.Errorf("target-path %s is not in the base device tree", p)
		}
		path, _ := base.pathOf(func(m *Node) bool { return m == n })
		return n, path, nil
	}
	return nil, "", errors.New("no target or target-path")
}

// pathOf returns the path of the first node that match accepts.
func (t *Tree) pathOf(match func(*Node) bool) (string, bool) {
	var walk func(n *Node, path string) (string, bool)
	walk = func(n *Node, path string) (string, bool) {
		if match(n) {
			return path, true
		}
		for _, c := range n.Children {
			if p, ok := walk(c, strings.TrimSuffix(path, "/")+"/"+c.Name); ok {
				return p, true
			}
		}
		return "", false
	}
	return walk(t.Root, "/")
}

// merge lays src's properties and children over dst.
func merge(dst, src *Node) {
	for _, p := range src.Props {
		dst.Set(p.Name, bytes.Clone(p.Value))
	}
	for _, c := range src.Children {
		if d := dst.child(c.Name); d != nil && d.Name == c.Name {
			merge(d, c)
			continue
		}
		n := &Node{Name: c.Name}
		merge(n, c)
		dst.Children = append(dst.Children, n)
	}
}
