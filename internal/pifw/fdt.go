package pifw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// A flattened device tree (devicetree specification, chapter 5), read and written whole: the
// firmware's edits (a model string, a dtparam's status) are changes to a node's properties,
// and writing the tree again is simpler than patching the blob in place.

const (
	fdtMagic     = 0xd00dfeed
	fdtBeginNode = 1
	fdtEndNode   = 2
	fdtProp      = 3
	fdtNop       = 4
	fdtEnd       = 9
	fdtHeaderLen = 40
)

// Node is one node of a device tree.
type Node struct {
	Name     string // "serial@7e215040"; "" for the root
	Props    []Prop
	Children []*Node
}

// Prop is one property: its raw value.
type Prop struct {
	Name  string
	Value []byte
}

// Tree is a device tree with its memory reservations.
type Tree struct {
	Root    *Node
	Reserve [][2]uint64 // address, size
	BootCPU uint32
	Version uint32
}

// ParseFDT reads a device tree blob.
func ParseFDT(b []byte) (*Tree, error) {
	be := binary.BigEndian
	if len(b) < fdtHeaderLen || be.Uint32(b) != fdtMagic {
		return nil, errors.New("not a device tree blob (no magic 0xd00dfeed)")
	}
	total, offStruct, offStrings, offRsv := be.Uint32(b[4:]), be.Uint32(b[8:]), be.Uint32(b[12:]), be.Uint32(b[16:])
	t := &Tree{Version: be.Uint32(b[20:]), BootCPU: be.Uint32(b[28:])}
	sizeStrings, sizeStruct := be.Uint32(b[32:]), be.Uint32(b[36:])
	if int(total) > len(b) || uint64(offStruct)+uint64(sizeStruct) > uint64(total) || uint64(offStrings)+uint64(sizeStrings) > uint64(total) || offRsv > total {
		return nil, fmt.Errorf("device tree blob: blocks outside its %d bytes", total)
	}
	for p := offRsv; p+16 <= total; p += 16 {
		addr, size := be.Uint64(b[p:]), be.Uint64(b[p+8:])
		if addr == 0 && size == 0 {
			break
		}
		t.Reserve = append(t.Reserve, [2]uint64{addr, size})
	}
	strs := b[offStrings : offStrings+sizeStrings]
	s := b[offStruct : offStruct+sizeStruct]
	var stack []*Node
	for p := 0; p+4 <= len(s); {
		tok := be.Uint32(s[p:])
		p += 4
		switch tok {
		case fdtBeginNode:
			end := bytes.IndexByte(s[p:], 0)
			if end < 0 {
				return nil, errors.New("device tree blob: node name without its end")
			}
			n := &Node{Name: string(s[p : p+end])}
			p = align4(p + end + 1)
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, n)
			} else if t.Root != nil {
				return nil, errors.New("device tree blob: two roots")
			} else {
				t.Root = n
			}
			stack = append(stack, n)
		case fdtEndNode:
			if len(stack) == 0 {
				return nil, errors.New("device tree blob: node end without a node")
			}
			stack = stack[:len(stack)-1]
		case fdtProp:
			if p+8 > len(s) || len(stack) == 0 {
				return nil, errors.New("device tree blob: property outside a node")
			}
			n, nameOff := int(be.Uint32(s[p:])), int(be.Uint32(s[p+4:]))
			p += 8
			if p+n > len(s) || nameOff >= len(strs) {
				return nil, errors.New("device tree blob: property past the end")
			}
			end := bytes.IndexByte(strs[nameOff:], 0)
			if end < 0 {
				return nil, errors.New("device tree blob: property name without its end")
			}
			node := stack[len(stack)-1]
			node.Props = append(node.Props, Prop{Name: string(strs[nameOff : nameOff+end]), Value: bytes.Clone(s[p : p+n])})
			p = align4(p + n)
		case fdtNop:
		case fdtEnd:
			if t.Root == nil || len(stack) != 0 {
				return nil, errors.New("device tree blob: ends inside a node")
			}
			return t, nil
		default:
			return nil, fmt.Errorf("device tree blob: unknown token %#x", tok)
		}
	}
	return nil, errors.New("device tree blob: no end token")
}

func align4(n int) int { return (n + 3) &^ 3 }

// Bytes writes the tree as a version 17 blob.
func (t *Tree) Bytes() []byte {
	be := binary.BigEndian
	var st, strs bytes.Buffer
	offsets := map[string]int{}
	u32 := func(v uint32) { _ = binary.Write(&st, be, v) }
	pad := func() {
		for st.Len()%4 != 0 {
			st.WriteByte(0)
		}
	}
	var walk func(n *Node)
	walk = func(n *Node) {
		u32(fdtBeginNode)
		st.WriteString(n.Name)
		st.WriteByte(0)
		pad()
		for _, p := range n.Props {
			off, ok := offsets[p.Name]
			if !ok {
				off = strs.Len()
				offsets[p.Name] = off
				strs.WriteString(p.Name)
				strs.WriteByte(0)
			}
			u32(fdtProp)
			u32(uint32(len(p.Value)))
			u32(uint32(off))
			st.Write(p.Value)
			pad()
		}
		for _, c := range n.Children {
			walk(c)
		}
		u32(fdtEndNode)
	}
	walk(t.Root)
	u32(fdtEnd)
	rsv := make([]byte, 16*(len(t.Reserve)+1))
	for i, r := range t.Reserve {
		be.PutUint64(rsv[16*i:], r[0])
		be.PutUint64(rsv[16*i+8:], r[1])
	}
	offRsv := fdtHeaderLen
	offStruct := offRsv + len(rsv)
	offStrings := offStruct + st.Len()
	total := offStrings + strs.Len()
	out := make([]byte, fdtHeaderLen, total)
	for i, v := range []uint32{fdtMagic, uint32(total), uint32(offStruct), uint32(offStrings), uint32(offRsv), 17, 16, t.BootCPU, uint32(strs.Len()), uint32(st.Len())} {
		be.PutUint32(out[4*i:], v)
	}
	out = append(out, rsv...)
	out = append(out, st.Bytes()...)
	return append(out, strs.Bytes()...)
}

// Lookup returns the node at an absolute path ("/soc/serial@7e215040"), or at a path that
// starts with an alias ("serial0", "spi0/spidev@0"), or nil. A path component without a unit
// address matches a node that has one only when it is the only such node.
func (t *Tree) Lookup(path string) *Node {
	if !strings.HasPrefix(path, "/") {
		alias, rest, _ := strings.Cut(path, "/")
		a := t.Lookup("/aliases")
		if a == nil {
			return nil
		}
		v, ok := a.String(alias)
		if !ok || !strings.HasPrefix(v, "/") {
			return nil
		}
		return t.Lookup(v + "/" + rest)
	}
	n := t.Root
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if part == "" {
			continue
		}
		n = n.child(part)
		if n == nil {
			return nil
		}
	}
	return n
}

func (n *Node) child(name string) *Node {
	var prefix *Node
	matches := 0
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
		if !strings.Contains(name, "@") && strings.HasPrefix(c.Name, name+"@") {
			prefix = c
			matches++
		}
	}
	if matches == 1 {
		return prefix
	}
	return nil
}

// ByPhandle returns the node whose phandle is ph, or nil.
func (t *Tree) ByPhandle(ph uint32) *Node {
	var found *Node
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, name := range []string{"phandle", "linux,phandle"} {
			if v, ok := n.Prop(name); ok && len(v) == 4 && binary.BigEndian.Uint32(v) == ph {
				found = n
				return
			}
		}
		for _, c := range n.Children {
			if found == nil {
				walk(c)
			}
		}
	}
	walk(t.Root)
	return found
}

// Prop returns a property's value.
func (n *Node) Prop(name string) ([]byte, bool) {
	for _, p := range n.Props {
		if p.Name == name {
			return p.Value, true
		}
	}
	return nil, false
}

// String returns a string property's first string.
func (n *Node) String(name string) (string, bool) {
	v, ok := n.Prop(name)
	if !ok {
		return "", false
	}
	s, _, _ := bytes.Cut(v, []byte{0})
	return string(s), true
}

// Set sets (or adds) a property.
func (n *Node) Set(name string, value []byte) {
	for i := range n.Props {
		if n.Props[i].Name == name {
			n.Props[i].Value = value
			return
		}
	}
	n.Props = append(n.Props, Prop{Name: name, Value: value})
}

// Delete removes a property.
func (n *Node) Delete(name string) {
	for i := range n.Props {
		if n.Props[i].Name == name {
			n.Props = append(n.Props[:i], n.Props[i+1:]...)
			return
		}
	}
}

// SetString sets a string property.
func (n *Node) SetString(name, value string) { n.Set(name, append([]byte(value), 0)) }
