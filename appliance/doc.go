// Package appliance turns a Raspberry Pi into a pigw CoAP gateway.
//
// pigw runs as an appliance: there is no shell, no package manager and no
// configuration spread over /etc. Everything an operator can change lives in
// one YAML file, pigw.yaml, and everything else the gateway does follows from
// it. This package is the place where that happens. In time it will own the
// appliance's duties: what to do at boot, reading the configuration,
// supervising the services it starts, and persisting state across reboots.
// For now it holds the configuration.
//
// # Configuration
//
// Load reads pigw.yaml and Parse decodes the same from memory. Both fill in a
// default for every field the file leaves out, then check the result against
// the rules documented on each type, so that a Config that comes back without
// an error can be handed to the CoAP server as it is. Default returns the
// configuration the gateway ships with (the file default.yaml in this
// directory): the server example of the Pycom CoAP tutorial.
//
// A key written with no value (“max_age:” or “max_age: null”) means the same
// as leaving the key out.
//
// A file is checked as a whole. Every problem found is reported, one per
// line, in the order they appear in the file, each naming the file, line,
// column and field it is about:
//
//	pigw.yaml:9:19: coap.resources[1].media_type: "text/foo" is not a known media type (use a name such as text/plain or a number 0..65535)
//
// YAML anchors and aliases are not supported: each value is written out where
// it is used.
package appliance
