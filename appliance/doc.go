// Package appliance turns a Raspberry Pi into a pigw CoAP gateway.
//
// pigw runs as an appliance: there is no shell, no package manager and no
// configuration spread over /etc. Everything an operator can change lives in
// one YAML file, pigw.yaml, and everything else the gateway does follows from
// it.
//
// This package runs the appliance from a configuration that package
// appliance/config has read, layered and checked: Run takes a *config.Config
// and starts the subsystems it describes under a supervisor (the CoAP server
// with its resources, the client sessions, sensors and GPIO pins, WiFi, the
// network links and the status page), and serves the appliance's own resources
// under /sys. It does
// not read or check configuration files itself: a Config it is given is valid.
//
// What lives where:
//   - appliance/config: the configuration's types, the built-in default,
//     loading, layering, decoding and validation, and its JSON Schema;
//   - appliance/boot: what PID 1 does before and after Run (mounts, modules,
//     the watchdog, reboot);
//   - appliance/coap: the CoAP engine;
//   - appliance/web: the status page, which gets its data from status.go here;
//   - appliance/network, appliance/clock, appliance/state, appliance/supervisor,
//     appliance/logring: the subsystems and helpers Run puts together.
package appliance
