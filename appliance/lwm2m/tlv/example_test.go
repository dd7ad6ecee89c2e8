package tlv_test

import (
	"fmt"

	"github.com/pigw/pigw/appliance/lwm2m/node"
	"github.com/pigw/pigw/appliance/lwm2m/tlv"
)

// The answer to a Read of /3303/0 (a temperature sensor): resource 5700, the value, as a
// float in 4 bytes (22.5 is exact in a float32), 5701, the unit, as a string.
func ExampleEncode() {
	b, err := tlv.Encode(node.Instance(3303, 0), []node.Record{
		{Path: node.Resource(3303, 0, 5700), Value: node.FloatValue(22.5)},
		{Path: node.Resource(3303, 0, 5701), Value: node.StringValue("Cel")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% X\n", b)
	// Output: E4 16 44 41 B4 00 00 E3 16 45 43 65 6C
}

// A Write of /1/0/1 (the lifetime) from the server. TLV carries no types: the object's
// declaration of resource 1 as an integer gives the value its type.
func ExampleDecode() {
	typeOf := func(p node.Path) node.Type {
		if p == node.Resource(1, 0, 1) {
			return node.TypeInteger
		}
		return node.TypeNone
	}
	recs, err := tlv.Decode([]byte{0xC2, 0x01, 0x01, 0x2C}, node.Resource(1, 0, 1), typeOf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(recs[0].Path, recs[0].Value.Int())
	_, err = tlv.Decode([]byte{0xC3, 0x01, 0x01, 0x2C}, node.Resource(1, 0, 1), typeOf)
	fmt.Println(err)
	// Output:
	// /1/0/1 300
	// tlv: /1/0/1: offset 0: resource 1 states a length of 3 bytes, past the end (2 bytes left)
}
