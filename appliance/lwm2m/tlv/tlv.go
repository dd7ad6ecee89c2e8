// Package tlv encodes and decodes OMA-TLV (application/vnd.oma.lwm2m+tlv, CoAP Content-Format
// 11542), the binary format every LwM2M server understands: LwM2M 1.0 made it the one format a
// client must support for objects and instances, and servers such as Leshan still ask for it
// first. Each TLV is a type byte (what it is, the widths of its id and length), an 8- or 16-bit
// id, a length and a value; object instances and multiple resources nest TLVs of resources and
// resource instances (LwM2M 1.1 Core §7.4.3).
//
// A TLV carries ids and bytes but no types: the integer 1 and the boolean true are both the
// byte 01. So Decode is told the path the request named and, through a node.TypeOf, each
// resource's declared type. Encode writes integers in the shortest of 1, 2, 4 or 8 bytes and
// floats in 4 bytes when that keeps the value, as the specification's examples do.
//
// Input comes from the network: a decoder error names the offset and the rule broken, and no
// length field makes the decoder allocate more than the input holds.
package tlv

import "fmt"

// kind is what a TLV holds: bits 7-6 of its type byte.
type kind byte

const (
	objectInstance   kind = 0b00 // TLVs of resources
	resourceInstance kind = 0b01 // one value of a multiple resource
	multipleResource kind = 0b10 // TLVs of resource instances
	resourceValue    kind = 0b11 // one value
)

var kindNames = [...]string{"object instance", "resource instance", "multiple resource", "resource"}

func (k kind) String() string { return kindNames[k&3] }

// maxLength is the most a TLV's 24-bit length field can state.
const maxLength = 1<<24 - 1

// item is one TLV read from a payload.
type item struct {
	kind  kind
	id    uint16
	off   int    // offset of its type byte in the payload
	value []byte // its value, or the TLVs it holds
	voff  int    // offset of value in the payload
}

// readItem reads the TLV at b[off:end], which is not empty.
func readItem(b []byte, off, end int) (item, error) {
	it := item{off: off}
	p := off
	t := b[p]
	p++
	it.kind = kind(t >> 6)
	idLen := 1
	if t&0x20 != 0 {
		idLen = 2
	}
	if end-p < idLen {
		return it, fmt.Errorf("offset %d: truncated TLV: type %#02x needs a %d-byte id, %d bytes left", off, t, idLen, end-p)
	}
	for range idLen {
		it.id = it.id<<8 | uint16(b[p])
		p++
	}
	lenLen := int(t>>3) & 3
	length := int(t & 7)
	if lenLen > 0 {
		// With a length field, bits 2-0 carry nothing: Encode writes them 0, and they are
		// not checked here.
		if end-p < lenLen {
			return it, fmt.Errorf("offset %d: truncated TLV: type %#02x needs a %d-byte length, %d bytes left", off, t, lenLen, end-p)
		}
		length = 0
		for range lenLen {
			length = length<<8 | int(b[p])
			p++
		}
	}
	if length > end-p {
		return it, fmt.Errorf("offset %d: %s %d states a length of %d bytes, past the end (%d bytes left)", off, it.kind, it.id, length, end-p)
	}
	it.voff = p
	it.value = b[p : p+length]
	return it, nil
}

// readItems reads the TLVs of b[off:end], the payload or a TLV's value, and refuses an id
// seen twice.
func readItems(b []byte, off, end int) ([]item, error) {
	var items []item
	seen := map[uint16]int{}
	for off < end {
		it, err := readItem(b, off, end)
		if err != nil {
			return nil, err
		}
		if first, ok := seen[it.id]; ok {
			return nil, fmt.Errorf("offset %d: %s %d again (first at offset %d)", off, it.kind, it.id, first)
		}
		seen[it.id] = off
		items = append(items, it)
		off = it.voff + len(it.value)
	}
	return items, nil
}

// appendHeader appends a TLV's type byte, id and length for a value of n bytes.
func appendHeader(b []byte, k kind, id uint16, n int) ([]byte, error) {
	if n > maxLength {
		return nil, fmt.Errorf("%s %d: %d bytes, more than a TLV's 24-bit length can state", k, id, n)
	}
	t := byte(k) << 6
	if id > 0xff {
		t |= 0x20
	}
	var lenBytes int
	switch {
	case n < 8:
		t |= byte(n)
	case n <= 0xff:
		lenBytes = 1
	case n <= 0xffff:
		lenBytes = 2
	default:
		lenBytes = 3
	}
	t |= byte(lenBytes) << 3
	b = append(b, t)
	if id > 0xff {
		b = append(b, byte(id>>8))
	}
	b = append(b, byte(id))
	for i := lenBytes - 1; i >= 0; i-- {
		b = append(b, byte(n>>(8*i)))
	}
	return b, nil
}
