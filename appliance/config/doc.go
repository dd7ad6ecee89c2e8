// Package config is pigw's configuration: the content of pigw.yaml as Go
// types, the built-in default, and the code that reads, layers and checks
// configuration files. Package appliance runs the appliance from the *Config
// this package returns, and never sees a file.
//
// What lives where:
//   - config.go, system.go, wifi.go, sessions.go, sensors.go, update.go,
//     web.go, lwm2m.go, rd.go: the types, one section each, with each key's
//     rules and default in its doc comment;
//   - default.yaml: the built-in default (Default);
//   - load.go: Parse and Load, one file; decode.go and unmarshal.go: the
//     decoder over the YAML syntax tree, which knows the keys and their types;
//   - validate*.go: the rules, one section each, and the defaults that depend
//     on other keys;
//   - layers.go: LoadLayers, the layers the appliance boots from (built-in
//     default < /etc/pigw.yaml < the boot partition's pigw.yaml), and
//     Redacted, the configuration shown with its secrets masked;
//   - schema.go and pigw.schema.json: the JSON Schema of pigw.yaml for
//     editors, generated (go generate) by schema_gen_test.go from the types,
//     their doc comments, the rules' constants (schema_rules_test.go) and the
//     defaults pigw fills in. The corpus of testdata/corpus and FuzzParse
//     check that the schema agrees with Parse and never refuses a file Parse
//     accepts.
//
// The validation stays in Go, not in the schema: it reports every problem with
// its file, line and column and names the value and the rule, and it checks
// what a schema cannot (unique names, values that refer to other sections,
// the ranges of durations, the meaning of addresses).
//
// Load reads pigw.yaml and Parse decodes the same from memory. Both fill in a
// default for every field the file leaves out, then check the result against
// the rules documented on each type, so that a Config that comes back without
// an error can be handed to the appliance as it is. Default returns the
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
package config
