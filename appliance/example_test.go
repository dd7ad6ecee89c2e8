package appliance_test

import (
	"fmt"
	"log"

	"github.com/pigw/pigw/appliance"
)

func ExampleParse() {
	c, err := appliance.Parse("pigw.yaml", []byte(`coap:
  listen: ["[::1]:5683"]
  resources:
    - uri: /sensors/temp
      media_type: application/senml+json
      attributes: {rt: temperature-c, ct: 110}
      methods: [get]
`))
	if err != nil {
		log.Fatal(err)
	}
	r := c.CoAP.Resources[0]
	fmt.Println(c.CoAP.Listen, c.CoAP.DiscoveryLeisure, c.CoAP.Limits.MaxResources)
	fmt.Println(r.URI, r.MediaType, r.Attributes, r.Methods)

	_, err = appliance.Parse("pigw.yaml", []byte(`coap:
  resources:
    - uri: sensors/temp
      methods: [GET, PATCH]
    - uri: sensors/temp?unit=C
`))
	fmt.Println(err)
	// Output:
	// [[::1]:5683] 5s 512
	// sensors/temp application/senml+json [{rt temperature-c} {ct 110}] [GET]
	// pigw.yaml:4:22: coap.resources[0].methods[1]: "PATCH" is not a method (GET, PUT, POST or DELETE)
	// pigw.yaml:5:12: coap.resources[1].uri: "sensors/temp?unit=C" contains "?" or "#" (a uri here is a path: no query, no fragment)
}

func ExampleDefault() {
	for _, r := range appliance.Default().CoAP.Resources {
		fmt.Println(r.URI, r.MediaType, r.Methods)
	}
	// Output:
	// resource1 text/plain [GET POST PUT]
	// resource2 application/xml [GET POST PUT DELETE]
}
