package senml_test

import (
	"fmt"
	"time"

	"github.com/pigw/pigw/sensors"
	"github.com/pigw/pigw/sensors/senml"
)

func ExampleJSON() {
	readings := []sensors.Reading{
		{Quantity: sensors.Quantity{Name: "temperature", Unit: "Cel"}, Value: 23.1},
		{Quantity: sensors.Quantity{Name: "humidity", Unit: "%RH"}, Value: 45},
	}
	b, err := senml.JSON("urn:dev:mac:b827eb123456:", time.Unix(1700000000, 0), readings)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	// Output:
	// [{"bn":"urn:dev:mac:b827eb123456:","bt":1700000000,"n":"temperature","u":"Cel","v":23.1},{"n":"humidity","u":"%RH","v":45}]
}

func ExampleDecodeCBOR() {
	readings := []sensors.Reading{{Quantity: sensors.Quantity{Name: "pressure", Unit: "Pa"}, Value: 101325}}
	b, err := senml.CBOR("urn:dev:mac:b827eb123456:", time.Unix(1700000000, 0), readings)
	if err != nil {
		fmt.Println(err)
		return
	}
	pack, err := senml.DecodeCBOR(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	resolved, err := senml.Resolve(pack)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range resolved {
		fmt.Printf("%d bytes: %s = %g %s at %s\n", len(b), r.Name, *r.Value, r.Unit, senml.Time(r.Time).Format(time.RFC3339))
	}
	// Output:
	// 56 bytes: urn:dev:mac:b827eb123456:pressure = 101325 Pa at 2023-11-14T22:13:20Z
}
