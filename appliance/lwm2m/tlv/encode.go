package tlv

import (
	"fmt"

	"github.com/pigw/pigw/appliance/lwm2m/node"
)

// Encode encodes records as the TLV payload for path at, the path a Read named: object
// instance TLVs for an object, resource TLVs for an instance, the resource's TLV for a
// resource (a multiple resource TLV around resource instance records), a resource instance
// TLV for a resource instance. The records of one instance, and of one multiple resource,
// must be next to each other, as Decode returns them; a record with no value (node.TypeNone)
// at an instance or resource path writes an empty object instance or multiple resource.
func Encode(at node.Path, recs []node.Record) ([]byte, error) {
	if at.Depth() == 0 {
		return nil, fmt.Errorf("tlv: %s: a TLV payload is for an object or a node below one, not the root", at)
	}
	for _, r := range recs {
		if !r.Path.Under(at) {
			return nil, fmt.Errorf("tlv: %s: record %s is not under it", at, r.Path)
		}
	}
	level := at.Depth() + 1 // the depth of the top-level TLVs' paths
	switch {
	case at.Depth() >= 3:
		level = at.Depth()
	case at.Depth() == 2 && len(recs) == 1 && recs[0].Path == at:
		level = 2 // an empty instance: its object instance TLV, as Decode takes it
	}
	b, err := encodeLevel(nil, recs, level)
	if err != nil {
		return nil, fmt.Errorf("tlv: %s: %w", at, err)
	}
	return b, nil
}

// encodeLevel appends the TLVs for recs, whose paths are level ids deep or deeper; each run of
// records with the same first level ids is one TLV.
func encodeLevel(b []byte, recs []node.Record, level int) ([]byte, error) {
	done := map[node.Path]bool{}
	for len(recs) > 0 {
		head := recs[0].Path.Prefix(level)
		if recs[0].Path.Depth() < level {
			return nil, fmt.Errorf("record %s where a path %d ids deep is expected", recs[0].Path, level)
		}
		n := 1
		for n < len(recs) && recs[n].Path.Prefix(level) == head {
			n++
		}
		if done[head] {
			return nil, fmt.Errorf("records of %s are not next to each other", head)
		}
		done[head] = true
		var err error
		if b, err = encodeNode(b, head, recs[:n]); err != nil {
			return nil, err
		}
		recs = recs[n:]
	}
	return b, nil
}

// encodeNode appends the one TLV for node head, which recs are at or under.
func encodeNode(b []byte, head node.Path, recs []node.Record) ([]byte, error) {
	id := head.ID(head.Depth() - 1)
	leaf := recs[0].Path == head
	if leaf && len(recs) > 1 {
		return nil, fmt.Errorf("%s twice, or with records under it", head)
	}
	var k kind
	var body []byte
	var err error
	switch {
	case head.Depth() == 2:
		k = objectInstance
		if !leaf {
			body, err = encodeLevel(nil, recs, 3)
		} else if recs[0].Value.Type() != node.TypeNone {
			err = fmt.Errorf("object instance %s with a value", head)
		}
	case head.Depth() == 3 && leaf && recs[0].Value.Type() != node.TypeNone:
		k = resourceValue
		body, err = appendValue(nil, recs[0].Value)
	case head.Depth() == 3:
		k = multipleResource
		if !leaf {
			body, err = encodeLevel(nil, recs, 4)
		}
	default: // a resource instance
		k = resourceInstance
		if recs[0].Value.Type() == node.TypeNone {
			err = fmt.Errorf("resource instance %s with no value", head)
		} else {
			body, err = appendValue(nil, recs[0].Value)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", head, err)
	}
	if b, err = appendHeader(b, k, id, len(body)); err != nil {
		return nil, err
	}
	return append(b, body...), nil
}
