// Package node is the data model the LwM2M content formats share: a record is one value at
// one path of the LwM2M tree (object/instance/resource/resource instance), with the value's
// type. The formats differ in what they carry: OMA-TLV has ids and bytes but no types, SenML
// has names and some types (a number, a string, a boolean) but no integer/float distinction.
// So a decoder is given the path the request named and, for each resource, the type its
// object declares (a TypeOf), and every format decodes to, and encodes from, the same
// records. The object code works with records and never with a format.
package node

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxDepth is the number of ids in the longest path: object, instance, resource, resource
// instance.
const MaxDepth = 4

// Path names a node of the LwM2M tree: the root "/", an object "/3", an object instance
// "/3/0", a resource "/3/0/1" or a resource instance "/3/0/6/1". The zero Path is the root.
// Paths are comparable and can be map keys.
type Path struct {
	ids   [MaxDepth]uint16
	depth uint8
}

// Object is the path of object o.
func Object(o uint16) Path { return Path{ids: [MaxDepth]uint16{o}, depth: 1} }

// Instance is the path of instance i of object o.
func Instance(o, i uint16) Path { return Path{ids: [MaxDepth]uint16{o, i}, depth: 2} }

// Resource is the path of resource r of instance i of object o.
func Resource(o, i, r uint16) Path { return Path{ids: [MaxDepth]uint16{o, i, r}, depth: 3} }

// ResourceInstance is the path of instance ri of the multiple resource r of /o/i.
func ResourceInstance(o, i, r, ri uint16) Path {
	return Path{ids: [MaxDepth]uint16{o, i, r, ri}, depth: 4}
}

// ParsePath parses a path as LwM2M writes it: "/", or up to four decimal ids of 0 to 65535,
// each after a "/" ("/3/0/6/1").
func ParsePath(s string) (Path, error) {
	if s == "/" {
		return Path{}, nil
	}
	if !strings.HasPrefix(s, "/") {
		return Path{}, fmt.Errorf("path %q: does not start with /", s)
	}
	parts := strings.Split(s[1:], "/")
	if len(parts) > MaxDepth {
		return Path{}, fmt.Errorf("path %q: %d ids, more than the %d of /object/instance/resource/instance", s, len(parts), MaxDepth)
	}
	var p Path
	for _, part := range parts {
		// Leading zeros ("007") would give one node two names.
		if part == "" || len(part) > 1 && part[0] == '0' {
			return Path{}, fmt.Errorf("path %q: id %q is not a decimal number without leading zeros", s, part)
		}
		id, err := strconv.ParseUint(part, 10, 16)
		if err != nil {
			return Path{}, fmt.Errorf("path %q: id %q is not a number from 0 to 65535", s, part)
		}
		p.ids[p.depth] = uint16(id)
		p.depth++
	}
	return p, nil
}

// Depth is the number of ids: 0 for the root, 1 for an object, up to 4 for a resource
// instance.
func (p Path) Depth() int { return int(p.depth) }

// ID is the id at level n (0 object, 1 instance, 2 resource, 3 resource instance), or 0 when
// the path is not that deep.
func (p Path) ID(n int) uint16 {
	if n < 0 || n >= int(p.depth) {
		return 0
	}
	return p.ids[n]
}

// Child is the path one level below p, or false when p is a resource instance already.
func (p Path) Child(id uint16) (Path, bool) {
	if p.depth == MaxDepth {
		return p, false
	}
	p.ids[p.depth] = id
	p.depth++
	return p, true
}

// Prefix is p cut to depth n (p itself when it is not deeper).
func (p Path) Prefix(n int) Path {
	if n < 0 {
		n = 0
	}
	for int(p.depth) > n {
		p.depth--
		p.ids[p.depth] = 0
	}
	return p
}

// Under tells whether p is q or a node below q.
func (p Path) Under(q Path) bool {
	return p.depth >= q.depth && p.Prefix(int(q.depth)) == q
}

// String is the path as LwM2M writes it, "/" for the root.
func (p Path) String() string {
	if p.depth == 0 {
		return "/"
	}
	var b strings.Builder
	for _, id := range p.ids[:p.depth] {
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(int(id)))
	}
	return b.String()
}
