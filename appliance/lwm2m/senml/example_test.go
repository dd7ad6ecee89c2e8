package senml_test

import (
	"fmt"

	"github.com/pigw/pigw/appliance/lwm2m/node"
	"github.com/pigw/pigw/appliance/lwm2m/senml"
)

// The answer to a Read of /3303/0 in SenML JSON: the base name is the path read, each name
// the rest of a record's path.
func ExampleEncodeJSON() {
	b, err := senml.EncodeJSON(senml.Pack{Base: node.Instance(3303, 0), Records: []node.Record{
		{Path: node.Resource(3303, 0, 5700), Value: node.FloatValue(22.5)},
		{Path: node.Resource(3303, 0, 5701), Value: node.StringValue("Cel")},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	// Output: [{"bn":"/3303/0/","n":"5700","v":22.5},{"n":"5701","vs":"Cel"}]
}

// The same in SenML CBOR: labels in the order bn, n, value; the float in 8 bytes.
func ExampleEncodeCBOR() {
	b, err := senml.EncodeCBOR(senml.Pack{Base: node.Resource(3303, 0, 5700), Records: []node.Record{
		{Path: node.Resource(3303, 0, 5700), Value: node.FloatValue(22.5)},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x\n", b)
	// Output: 81 a2 21 6c 2f 33 33 30 33 2f 30 2f 35 37 30 30 02 fb 40 36 80 00 00 00 00 00
}

// A Write of the lifetime /1/0/1 in SenML CBOR, its integer sent as a half float: the
// declared type makes it an integer again.
func ExampleDecodeCBOR() {
	typeOf := func(p node.Path) node.Type {
		if p == node.Resource(1, 0, 1) {
			return node.TypeInteger
		}
		return node.TypeNone
	}
	payload := []byte{0x81, 0xa2, 0x21, 0x66, '/', '1', '/', '0', '/', '1', 0x02, 0xf9, 0x5c, 0xb0} // 300.0
	p, err := senml.DecodeCBOR(payload, node.Resource(1, 0, 1), typeOf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Records[0].Path, p.Records[0].Value.Type(), p.Records[0].Value.Int())
	// Output: /1/0/1 integer 300
}

func ExampleDecodeJSON() {
	typeOf := func(p node.Path) node.Type {
		if p.Prefix(3) == node.Resource(1, 0, 1) {
			return node.TypeInteger
		}
		return node.TypeNone
	}
	_, err := senml.DecodeJSON([]byte(`[{"bn":"/1/0/","n":"1","v":300.5}]`), node.Instance(1, 0), typeOf)
	fmt.Println(err)
	// Output: senml json: record 0: /1/0/1: number 300.5 is not a whole integer
}
