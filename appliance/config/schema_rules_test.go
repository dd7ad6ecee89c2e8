package config

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"
	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/sensors"
)

type schema = jsonschema.Schema

// keyRule is the schema of one key.
type keyRule struct {
	s         func() *schema
	required  bool // the key must be given, and not be null
	noDefault bool // the default depends on other keys: the description says it
}

// Patterns, written for the three regexp dialects that read them: Go's (the tests), Python's
// (the independent validator) and ECMAScript's (editors): no lookaround, no \s or \d, '-'
// last in a class.
const (
	ctl         = `\x00-\x1f\x7f`
	blankClass  = `\t\n\v\f\r `
	hexPair     = `[0-9a-fA-F]{2}`
	durationNum = `([0-9]+(\.[0-9]*)?|\.[0-9]+)`
	zeroNum     = `(0+(\.0*)?|\.0+)`
	durUnit     = `(ns|us|µs|μs|ms|s|m|h)`
	// yaml11Int are the integers pigw's YAML parser reads that YAML 1.2, and so an editor,
	// reads as text: with '_', 0b..., or a signed 0x or 0o.
	yaml11Int = `^([-+]?(0x[0-9a-fA-F_]*|0o[0-7_]*|0b[01_]*|[0-9_]*)_[0-9a-fA-F_]*|[-+]?0b[01_]+|[-+](0x[0-9a-fA-F_]+|0o[0-7_]+))$`
	// listenPattern is IP:port, IPv6 in brackets (with a zone or not).
	listenPattern = `^(\[[0-9A-Fa-f:.]+(%[^\]]+)?\]|[0-9.]+):[0-9]+$`
	listenRule    = "host:port, the host an IPv4 or IPv6 address (IPv6 in brackets, such as [::1]:5683): names are not looked up"
	nameRule      = "1..32 bytes of a-z, 0-9, '_' and '-'"
	ifNameRule    = "a link's name (1..15 bytes) or a pattern (* any text, ? one character, [0-9] or [^0-9] a class), no '/', ':' or whitespace"
)

// segment is a path segment of a resource's uri: not empty, "." or "..".
var segment = fmt.Sprintf(`([^/?#%[1]s.][^/?#%[1]s]*|\.[^/?#%[1]s.][^/?#%[1]s]*|\.\.[^/?#%[1]s]+)`, ctl)

// keyRules are the schemas of the keys, by Go type and yaml key.
var keyRules = map[string]keyRule{
	"Config.coap":     {s: ref("CoAP")},
	"Config.sessions": {s: listOf(ref("Session"), 0, 0)},
	"Config.system":   {s: ref("System")},
	"Config.network":  {s: ref("Network")},
	"Config.wifi":     {s: ref("Wifi")},
	"Config.time":     {s: ref("Time")},
	"Config.sensors":  {s: listOf(ref("Sensor"), 0, 0)},
	"Config.gpio":     {s: listOf(ref("GPIO"), 0, 0)},
	"Config.update":   {s: ref("Update")},
	"Config.web":      {s: ref("Web")},
	"Config.lwm2m":    {s: ref("LwM2M")},
	"Config.rd":       {s: ref("RD")},

	"CoAP.listen":               {s: listOf(str(listenPattern, listenRule), 1, 0, unique)},
	"CoAP.dtls":                 {s: ref("DTLS")},
	"CoAP.service_discovery":    {s: boolean},
	"CoAP.discovery_leisure":    {s: ref("Duration")},
	"CoAP.dynamic_resources":    {s: boolean},
	"CoAP.new_resource_details": {s: ref("Details")},
	"CoAP.observe":              {s: ref("Observe")},
	"CoAP.limits":               {s: ref("Limits")},
	"CoAP.resources":            {s: listOf(ref("Resource"), 0, 0)},

	"DTLS.listen": {s: listOf(func() *schema {
		s := str(listenPattern, listenRule)()
		s.AllOf = []*schema{says(&schema{Pattern: `:0*` + otherThan(coapPort) + `$`}, "port 5683 is plain CoAP; DTLS uses 5684 (coaps)")}
		return s
	}, 1, 0, unique)},
	"DTLS.psk":    {s: secret(maxKeyLen)},
	"DTLS.hint":   {s: textLen(0, maxHintLen)},
	"DTLS.keys":   {s: identityKeys},
	"DTLS.admins": {s: listOf(text, 0, 0, unique)},

	"Details.media_type": {s: ref("MediaType")},
	"Details.max_age":    {s: intIn(0, math.MaxUint32)},
	"Details.etag":       {s: boolean},

	"Observe.min_interval": {s: ref("Duration")},
	"Observe.con_every":    {s: intIn(minConEvery, maxConEvery)},

	"Limits.max_resources":   {s: limit("max_resources")},
	"Limits.max_uri_length":  {s: limit("max_uri_length")},
	"Limits.max_value_size":  {s: limit("max_value_size")},
	"Limits.max_observers":   {s: limit("max_observers")},
	"Limits.dedup_entries":   {s: limit("dedup_entries")},
	"Limits.block_transfers": {s: limit("block_transfers")},

	"Resource.uri": {s: func() *schema {
		s := textPattern(`^/?`+segment+`(/`+segment+`)*$`,
			`a path such as sensors/temp: no empty, "." or ".." segments, no query or fragment, no control characters`)()
		s.Not = &schema{Type: "string", Pattern: `^/?\.well-known(/|$)`}
		return s
	}, required: true},
	"Resource.media_type": {s: ref("MediaType")},
	"Resource.max_age":    {s: intIn(0, math.MaxUint32)},
	"Resource.value":      {s: text},
	"Resource.etag":       {s: boolean},
	"Resource.attributes": {s: attributes},
	"Resource.methods":    {s: listOf(keyword(false, "GET", "PUT", "POST", "DELETE"), 0, 0, unique)},

	"Session.name": {s: textPattern(namePattern(1), nameRule), required: true},
	"Session.peer": {s: str(`^[cC][oO][aA][pP][sS]?://[^/?#@]+$`,
		"coap://host[:port] or coaps://host[:port], with no path, query or fragment"), required: true},
	"Session.identity": {s: textLen(0, maxIdentityLen)},
	"Session.psk":      {s: secret(maxKeyLen)},
	"Session.requests": {s: listOf(ref("SessionRequest"), 1, 0), required: true},

	"SessionRequest.name":           {s: textPattern(namePattern(0), nameRule), noDefault: true},
	"SessionRequest.method":         {s: keyword(true, requestMethods...)},
	"SessionRequest.path":           {s: textPattern(`^[^#`+ctl+`]*$`, "a path and query with no '#' and no control characters")},
	"SessionRequest.content_format": {s: ref("MediaType")},
	"SessionRequest.accept":         {s: ref("MediaType")},
	"SessionRequest.payload":        {s: text},
	"SessionRequest.sensors":        {s: listOf(text, 1, 0)},
	"SessionRequest.token": {s: textPattern(hexOrText(maxTokenLen, true),
		"text of at most 8 bytes, or 0x and an even number of hex digits, at most 8 bytes")},
	"SessionRequest.include_options": {s: boolean},
	"SessionRequest.confirmable":     {s: boolean},
	"SessionRequest.every":           {s: ref("Duration")},
	"SessionRequest.timeout":         {s: ref("Duration")},

	"System.hostname": {s: textPattern(fmt.Sprintf(`^([A-Za-z0-9]([A-Za-z0-9-]{0,%d}[A-Za-z0-9])?)?$`, maxHostname-2),
		"1..63 letters, digits and '-', not starting or ending with '-'")},
	"System.modules": {s: listOf(textPattern(fmt.Sprintf(`^[A-Za-z0-9_-]{1,%d}( [A-Za-z0-9_]+=[!\x23-\x5b\x5d-~]+)*$`, maxModuleName),
		"a module's name (letters, digits, '_' and '-'), then parameters name=value, each after one space"), 0, 0, unique)},
	"System.watchdog": {s: boolean},
	"System.mdns":     {s: boolean},

	"Network.interfaces": {s: listOf(ref("Interface"), 0, 0)},
	"Network.dns":        {s: listOf(str(`^[0-9A-Fa-f:.]+(%.+)?$`, "an IPv4 or IPv6 address (names are not looked up)"), 0, maxResolvers, unique)},

	"Interface.name": {s: func() *schema {
		s := text()
		name := textPattern(fmt.Sprintf(`^[^/:*?\[%s]{1,%d}$`, blankClass, maxIfName), ifNameRule)()
		name.Not = &schema{Enum: []any{".", ".."}}
		pattern := textPattern(fmt.Sprintf(`^[^/:%[1]s]*[*?\[][^/:%[1]s]*$`, blankClass), ifNameRule)()
		pattern.MaxLength = ptrTo(uint64(maxIfPattern))
		pattern.Not = &schema{Type: "string", Pattern: `\[!`}
		s.AnyOf = []*schema{name, pattern}
		return s
	}, required: true},
	"Interface.up": {s: boolean},
	"Interface.addresses": {s: listOf(str(`^[0-9A-Fa-f:.]+/[0-9]+$`,
		"an address with its prefix length and no zone, such as 192.168.1.10/24 or fd00::10/64"), 0, 0, unique)},
	"Interface.dhcp":     {s: boolean},
	"Interface.gateway":  {s: str(`^[0-9.]*$`, "an IPv4 address, such as 192.168.1.1")},
	"Interface.gateway6": {s: str(`^[0-9A-Fa-f:.]*$`, "an IPv6 address without a zone, such as fe80::1")},
	"Interface.routes":   {s: listOf(ref("Route"), 0, 0)},
	"Interface.mtu": {s: func() *schema {
		return &schema{AnyOf: []*schema{{Const: 0}, intIn(minMTU, maxMTU)()}}
	}},
	"Interface.metric": {s: intIn(0, maxMetric)},

	"Route.to":     {s: str(`^[0-9A-Fa-f:.]+/[0-9]+$`, "a prefix, such as 10.0.0.0/8 or fd00:1::/64"), required: true},
	"Route.via":    {s: str(`^[0-9A-Fa-f:.]*$`, "an IPv4 or IPv6 address without a zone")},
	"Route.metric": {s: intIn(0, maxMetric)},

	"Wifi.interface": {s: func() *schema {
		s := textPattern(fmt.Sprintf(`^[^/:*?\[%s]{0,%d}$`, blankClass, maxIfName),
			"the WiFi link's own name, not a pattern: 1..15 bytes, no '/', ':' or whitespace")()
		s.Not = &schema{Enum: []any{".", ".."}}
		return s
	}},
	"Wifi.country": {s: textPattern(`^([A-Za-z]{2}|`+worldCountry+`)?$`,
		"two letters of ISO 3166-1 alpha-2, such as DE or US; or 00 for the world")},
	"Wifi.backend":  {s: keyword(true, WifiBackendAuto, WifiBackendWPASupplicant, WifiBackendNL80211)},
	"Wifi.networks": {s: listOf(ref("WifiNetwork"), 0, 0)},

	"WifiNetwork.ssid": {s: textLen(1, maxSSID), required: true},
	"WifiNetwork.psk": {s: textPattern(fmt.Sprintf(`^([ -~]{%d,%d}|[0-9a-fA-F]{%d})$`,
		minPassphrase, maxPassphrase, rawKeyDigits), passphraseRule)},
	"WifiNetwork.security": {s: keyword(true, WifiWPA2, WifiWPA3, WifiWPA2WPA3, WifiOpen), noDefault: true},
	"WifiNetwork.hidden":   {s: boolean},
	"WifiNetwork.priority": {s: intIn(-maxWifiPriority, maxWifiPriority)},

	"Time.ntp": {s: listOf(textPattern(`^(\[[0-9A-Fa-f:.]+(%[^\]]+)?\](:[-+]?[0-9]+)?|[0-9A-Fa-f:.]+(%.+)?|[A-Za-z0-9.-]+(:[-+]?[0-9]+)?)$`,
		"a host name or an IP address, with an optional :port (IPv6 in brackets)"), 0, maxNTPServers)},
	"Time.interval": {s: ref("Duration")},

	"Web.listen": {s: listOf(str(listenPattern, listenRule), 0, 0, unique)},

	"Update.confirm":        {s: keyword(true, UpdateConfirmAuto, UpdateConfirmAdmin)},
	"Update.trial":          {s: keyword(true, UpdateTrialAuto, UpdateTrialTryboot, UpdateTrialCounter)},
	"Update.trial_deadline": {s: ref("Duration")},
	"Update.healthy_after":  {s: ref("Duration")},

	"LwM2M.server":   {s: serverURI},
	"LwM2M.identity": {s: textLen(0, maxIdentityLen)},
	"LwM2M.psk":      {s: secret(maxKeyLen)},
	"LwM2M.endpoint": {s: endpoint, noDefault: true},
	"LwM2M.lifetime": {s: ref("Duration")},
	"LwM2M.binding":  {s: keyword(true, LwM2MBindingUDP)},
	"LwM2M.objects":  {s: lwm2mObjectList},
	"LwM2M.short_server_id": {s: func() *schema {
		return &schema{AnyOf: []*schema{{Const: 0}, intIn(minShortServerID, maxShortServerID)()}}
	}},

	"RD.server":   {s: serverURI},
	"RD.identity": {s: textLen(0, maxIdentityLen)},
	"RD.psk":      {s: secret(maxKeyLen)},
	"RD.endpoint": {s: endpoint, noDefault: true},
	"RD.lifetime": {s: ref("Duration")},

	"Sensor.name":    {s: textPattern(namePattern(1), nameRule), required: true},
	"Sensor.kind":    {s: keyword(false, sensors.Kinds()...), required: true},
	"Sensor.bus":     {s: intIn(0, maxI2CBus), noDefault: true},
	"Sensor.address": {s: i2cAddress, noDefault: true},
	"Sensor.path": {s: str(`^(/[^`+ctl+`]*)?$`, "an absolute path, such as /sys/bus/w1/devices/28-0316a2794dff"),
		noDefault: true},
	"Sensor.id": {s: str(`^([0-9a-f]{2}-[0-9a-f]{12})?$`,
		"a 1-Wire device id: the family code, '-' and 12 hex digits, in lower case, such as 28-0316a2794dff"), noDefault: true},
	"Sensor.interval": {s: ref("Duration")},
	"Sensor.threshold": {s: func() *schema {
		return &schema{AnyOf: []*schema{
			{Type: "number", Minimum: "0"},
			{Type: "string", Pattern: `^[-+]?([0-9_.]*_[0-9_.]*|0b[01_]+|0o[0-7_]+|0[xX][0-9a-fA-F_.]+([pP][-+]?[0-9_]+)?)$`},
		}}
	}},
	"Sensor.options": {s: options},

	"GPIO.name": {s: textPattern(namePattern(1), nameRule), required: true},
	"GPIO.pin": {s: str(fmt.Sprintf(`^(%s|%s)0*([0-9]|1[0-9]|2[0-%d])$`, ci(gpioPrefix), ci(bcmPrefix), maxHeaderGPIO-20),
		"a pin of the Pi's header by its BCM number: GPIO0..GPIO27, or BCM0..BCM27"), required: true},
	"GPIO.direction": {s: keyword(false, GPIOIn, GPIOOut), required: true},
	"GPIO.pull":      {s: keyword(true, PullUp, PullDown, PullNone), noDefault: true},
	"GPIO.edge":      {s: keyword(true, EdgeBoth, EdgeRising, EdgeFalling, EdgeNone), noDefault: true},
	"GPIO.debounce":  {s: ref("Duration")},
	"GPIO.initial":   {s: intIn(0, 1), noDefault: true},
	"GPIO.restart":   {s: keyword(true, RestartInitial, RestartLast), noDefault: true},
	"GPIO.invert":    {s: boolean},
}

// entryRules are the rules between the keys of one entry, by Go type. Each says what is wrong
// in pigw's words (errorMessage, which the YAML language server shows instead of its own).
var entryRules = map[string]func() []*schema{
	// A dtls section lets clients in with psk, keys or both.
	"DTLS": func() []*schema {
		return []*schema{says(&schema{AnyOf: []*schema{
			required(props("psk", given()), "psk"),
			required(props("keys", &schema{Type: "object", MinProperties: ptrTo(uint64(1))}), "keys"),
		}}, "no key to let clients in with (give psk, keys or both)")}
	},
	// A coap:// peer or server takes no identity or psk; a coaps:// one needs both.
	"Session": func() []*schema { return serverKeys("peer") },
	"LwM2M":   func() []*schema { return serverKeys("server") },
	"RD":      func() []*schema { return serverKeys("server") },
	// A request that sends sensor readings is a POST or PUT without payload, as SenML.
	"SessionRequest": func() []*schema {
		senml := []string{"application/senml+json", "application/senml+cbor"}
		return []*schema{{
			If: required(props("sensors", &schema{Type: "array"}), "sensors"),
			Then: required(props(
				"method", says(&schema{Type: "string", Pattern: `^(` + ci("POST") + `|` + ci("PUT") + `)$`},
					"sensor readings are sent with POST or PUT"),
				"payload", says(empty(), "give either payload or sensors, not both"),
				"content_format", says(&schema{AnyOf: []*schema{
					null(),
					{Enum: []any{int(coap.AppSenMLJSON), int(coap.AppSenMLCBOR)}},
					{Type: "string", Pattern: `^(` + fuzzyName(senml[0]) + `|` + fuzzyName(senml[1]) + `|` +
						fuzzyNumber(int(coap.AppSenMLJSON)) + `|` + fuzzyNumber(int(coap.AppSenMLCBOR)) + `)$`},
					{Ref: "#/$defs/yaml11Integer"},
				}}, "sensor readings are sent as SenML JSON (110) or SenML CBOR (112)"),
			), "method"),
		}}
	},
	// A pattern of names takes no addresses, gateways or routes; DHCP needs the link up and
	// gives the gateway.
	"Interface": func() []*schema {
		one := "not allowed with a pattern, which may match several links: an address, gateway or route belongs to one link (give that link an entry with its own name)"
		noList := func() *schema {
			return says(&schema{AnyOf: []*schema{null(), {Type: "array", MaxItems: ptrTo(uint64(0))}}}, one)
		}
		return []*schema{
			when("name", `[*?\[]`, props("addresses", noList(), "gateway", says(empty(), one),
				"gateway6", says(empty(), one), "routes", noList())),
			{
				If: required(props("dhcp", &schema{Const: true}), "dhcp"),
				Then: props(
					"up", says(&schema{Enum: []any{nil, true}}, "DHCP needs the interface up: remove dhcp or up"),
					"gateway", says(empty(), "a DHCP interface gets its gateway from the server; remove gateway or dhcp")),
			},
		}
	},
	// WPA3 needs a backend other than nl80211.
	"Wifi": func() []*schema {
		noWPA3 := patternSays(&schema{Type: "string", Pattern: `^(` + ci(WifiWPA2) + `|` + ci(WifiOpen) + `)?$`},
			"WPA3 needs the wpa_supplicant backend, but backend is nl80211")
		return []*schema{when("backend", `^`+ci(WifiBackendNL80211)+`$`,
			props("networks", &schema{Items: props("security", noWPA3)}))}
	},
	// An open network takes no psk; the others need one, and WPA3 a passphrase.
	"WifiNetwork": func() []*schema {
		wpa3 := `^(` + ci(WifiWPA3) + `|` + ci(WifiWPA2WPA3) + `)$`
		return []*schema{
			when("security", `^`+ci(WifiOpen)+`$`, props("psk", says(null(), "not allowed with security open"))),
			when("security", `^(`+ci(WifiWPA2)+`|`+ci(WifiWPA3)+`|`+ci(WifiWPA2WPA3)+`)$`,
				says(required(props("psk", says(given(), "this security needs a psk: "+passphraseRule)), "psk"),
					"this security needs a psk: "+passphraseRule)),
			when("security", wpa3, props("psk", patternSays(&schema{Pattern: fmt.Sprintf(`^[ -~]{%d,%d}$`, minPassphrase, maxPassphrase)},
				"a raw key (64 hex digits) only WPA2 can use; WPA3 needs the passphrase"))),
		}
	},
	// bus and address are for I2C kinds, path for 1-Wire and sysfs ones, id for 1-Wire ones,
	// which need id or path, not both.
	"Sensor": func() []*schema {
		var i2c, oneWire, notI2C, noPath, noID []string
		for _, k := range sensors.Kinds() {
			d, _ := sensors.Lookup(k)
			switch d.Bus {
			case busI2C:
				i2c = append(i2c, k)
			case busOneWire:
				oneWire = append(oneWire, k)
			}
			if d.Bus != busI2C {
				notI2C = append(notI2C, k)
			}
			if !slices.Contains(busFields[d.Bus], "path") {
				noPath = append(noPath, k)
			}
			if !slices.Contains(busFields[d.Bus], "id") {
				noID = append(noID, k)
			}
		}
		text := &schema{Type: "string", MinLength: ptrTo(uint64(1))}
		return []*schema{
			when("kind", kindsPattern(notI2C), props(
				"bus", says(null(), "for I2C kinds only ("+strings.Join(i2c, ", ")+")"),
				"address", says(null(), "for I2C kinds only ("+strings.Join(i2c, ", ")+")"))),
			when("kind", kindsPattern(noPath), props("path", says(empty(), "for 1-Wire and sysfs kinds only"))),
			when("kind", kindsPattern(noID), props("id", says(empty(), "for 1-Wire kinds only ("+strings.Join(oneWire, ", ")+")"))),
			when("kind", kindsPattern(oneWire), &schema{
				AllOf: []*schema{
					says(&schema{AnyOf: []*schema{
						required(props("id", text), "id"),
						required(props("path", text), "path"),
					}}, "a 1-Wire sensor needs the device's id, such as "+exampleOneWireID+", or its path"),
					says(&schema{AnyOf: []*schema{props("id", empty()), props("path", empty())}}, "give id or path, not both"),
				},
			}),
		}
	},
	// pull, edge and debounce are for inputs; initial and restart for outputs.
	"GPIO": func() []*schema {
		in, out := "for inputs only (direction: in)", "for outputs only (direction: out)"
		zero := says(&schema{AnyOf: []*schema{
			null(), {Const: 0},
			{Type: "string", Pattern: `^[-+]?(0|(` + zeroNum + durUnit + `)+)$`},
		}}, in)
		return []*schema{
			when("direction", `^`+ci(GPIOIn)+`$`, props("initial", says(null(), out), "restart", says(empty(), out))),
			when("direction", `^`+ci(GPIOOut)+`$`, props("pull", says(empty(), in), "edge", says(empty(), in), "debounce", zero)),
		}
	},
}

// serverKeys are the rules of an entry whose key holds a server's URI: a coap:// URI takes no
// identity or psk, a coaps:// one needs both.
func serverKeys(key string) []*schema {
	coaps := "a coaps:// " + key + " needs an identity and a psk"
	only := "only for a coaps:// " + key + " (this one is coap://)"
	return []*schema{
		when(key, `^`+ci("coap")+`://`, props("identity", says(empty(), only), "psk", says(null(), only))),
		when(key, `^`+ci("coaps")+`://`, required(props(
			"identity", says(nonEmpty(), coaps),
			"psk", says(given(), coaps)), "identity", "psk")),
	}
}

// serverURI is the server of the lwm2m or rd section: a URI as a session's peer, or "" for
// off.
func serverURI() *schema {
	return str(`^(`+ci("coap")+`[sS]?://[^/?#@]+)?$`,
		"coap://host[:port] or coaps://host[:port], with no path, query or fragment; empty for off")()
}

// endpoint is an endpoint name, or "" for the default.
func endpoint() *schema {
	return textPattern(fmt.Sprintf(`^[A-Za-z0-9._:-]{0,%d}$`, maxEndpoint), endpointRule)()
}

// lwm2mObjectList is the objects of the lwm2m section: each once, device and server among
// them.
func lwm2mObjectList() *schema {
	s := listOf(keyword(false, lwm2mObjects()...), 0, 0, unique)()
	for _, o := range []string{LwM2MObjectDevice, LwM2MObjectServer} {
		s.AllOf = append(s.AllOf, says(&schema{Contains: &schema{Type: "string", Pattern: `^` + ci(o) + `$`}},
			"LwM2M asks objects 3 Device and 1 Server of every client: list both, such as [device, server, sensors]"))
	}
	return s
}

// sharedDefs are the schemas several keys refer to.
func sharedDefs() map[string]*schema {
	var names []string
	for m := range 1 << 16 {
		if n := coap.MediaType(m).String(); n != strconv.Itoa(m) {
			names = append(names, n)
		}
	}
	fuzzy := make([]string, 0, len(names)+2)
	for _, n := range append(names, "text/plain;charset=utf-8") {
		fuzzy = append(fuzzy, fuzzyName(n))
	}
	fuzzy = append(fuzzy, ` *[-+]?( *[0-9])+ *`)
	enum := make([]any, len(names))
	for i, n := range names {
		enum[i] = n
	}
	return map[string]*schema{
		"Duration": {
			Description: "A duration: a number with a unit, such as 200ms, 5s, 1m or 1h (units ns, us, ms, s, m, h), or 0.",
			AnyOf: []*schema{
				patternSays(&schema{Type: "string", Pattern: `^(\+?(0|(` + durationNum + durUnit + `)+)|-(0|(` + zeroNum + durUnit + `)+))$`},
					"a duration of 0 or more: a number with a unit, such as 200ms, 5s or 1h (units ns, us, ms, s, m, h)"),
				{Const: 0},
			},
		},
		"MediaType": {
			Description: "A CoAP Content-Format: a name such as text/plain or application/json, or a number 0..65535.",
			AnyOf: []*schema{
				{Type: "string", AnyOf: []*schema{{Enum: enum}, {Pattern: `^(` + strings.Join(fuzzy, "|") + `)$`}}},
				{Type: "integer", Minimum: "0", Maximum: "65535"},
				{Ref: "#/$defs/yaml11Integer"},
			},
		},
		"yaml11Integer": {
			Description: "An integer in a spelling of YAML 1.1 that pigw reads, such as 1_000 or 0b101, which YAML 1.2 and so the editor take for text.",
			Type:        "string",
			Pattern:     yaml11Int,
		},
	}
}

// The schemas of the kinds of keys.
func boolean() *schema { return &schema{Type: "boolean"} }

// text is a key pigw reads as text: any scalar, a number or a boolean written as it is.
func text() *schema {
	return &schema{Extras: map[string]any{"type": []string{"string", "number", "boolean"}}}
}

// textPattern is text that, if a string, matches p, which msg says in words.
func textPattern(p, msg string) func() *schema {
	return func() *schema { s := text(); s.Pattern = p; return patternSays(s, msg) }
}

func textLen(min, max int) func() *schema {
	return func() *schema {
		s := text()
		if min > 0 {
			s.MinLength = ptrTo(uint64(min))
		}
		s.MaxLength = ptrTo(uint64(max))
		return s
	}
}

// str is a key whose valid values are text no YAML number or boolean spells, matching p,
// which msg says in words.
func str(p, msg string) func() *schema {
	return func() *schema { return patternSays(&schema{Type: "string", Pattern: p}, msg) }
}

func ref(def string) func() *schema {
	return func() *schema { return &schema{Ref: "#/$defs/" + def} }
}

func intIn(min, max int) func() *schema {
	return func() *schema {
		return &schema{AnyOf: []*schema{
			says(&schema{Type: "integer", Minimum: json.Number(strconv.Itoa(min)), Maximum: json.Number(strconv.Itoa(max))},
				fmt.Sprintf("an integer, %d..%d", min, max)),
			{Ref: "#/$defs/yaml11Integer"},
		}}
	}
}

func limit(name string) func() *schema {
	i := slices.IndexFunc(limitRanges, func(l struct {
		name     string
		value    func(*Limits) int
		min, max int
	}) bool {
		return l.name == name
	})
	return intIn(limitRanges[i].min, limitRanges[i].max)
}

const unique = true

func listOf(items func() *schema, min, max int, uniq ...bool) func() *schema {
	return func() *schema {
		s := &schema{Type: "array", Items: items(), UniqueItems: len(uniq) > 0 && uniq[0]}
		if min > 0 {
			s.MinItems = ptrTo(uint64(min))
		}
		if max > 0 {
			s.MaxItems = ptrTo(uint64(max))
		}
		return s
	}
}

// keyword is one of values, in any case; "" too if empty is true.
func keyword(empty bool, values ...string) func() *schema {
	return func() *schema {
		enum := make([]any, len(values))
		alts := make([]string, len(values))
		for i, v := range values {
			enum[i], alts[i] = v, ci(v)
		}
		p := `^(` + strings.Join(alts, "|") + `)$`
		if empty {
			p = `^(` + strings.Join(alts, "|") + `)?$`
		}
		msg := "one of " + strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1] + ", in any case"
		if len(values) == 1 {
			msg = values[0] + ", in any case"
		}
		return says(&schema{Type: "string", AnyOf: []*schema{{Enum: enum}, patternSays(&schema{Pattern: p}, msg)}}, msg)
	}
}

// hexOrText is a key or token: 0x and 1..max bytes in hex, or 1..max characters of text
// (pigw counts bytes, which are never fewer), or also "" when empty is true.
func hexOrText(max int, empty bool) string {
	p := fmt.Sprintf(`0x(%s){1,%d}|[^0][\s\S]{0,%d}|0([^x][\s\S]{0,%d})?`, hexPair, max, max-1, max-2)
	if empty {
		return `^(` + p + `)?$`
	}
	return `^(` + p + `)$`
}

func secret(max int) func() *schema {
	return textPattern(hexOrText(max, false), fmt.Sprintf("a key of 1..%d bytes: text, or 0x and an even number of hex digits", max))
}

func identityKeys() *schema {
	return &schema{
		Type:                 "object",
		PropertyNames:        &schema{MinLength: ptrTo(uint64(1)), MaxLength: ptrTo(uint64(maxIdentityLen))},
		AdditionalProperties: secret(maxKeyLen)(),
	}
}

func attributes() *schema {
	return &schema{
		Type: "object",
		PropertyNames: patternSays(&schema{Pattern: `^[A-Za-z0-9._-]+$`,
			Not: &schema{Pattern: `^` + ci("href") + `$`}}, "an attribute name of letters, digits, '-', '_' and '.', not href"),
		AdditionalProperties: patternSays(&schema{Extras: map[string]any{"type": []string{"string", "number", "boolean", "null"}},
			Pattern: `^[^"\r\n]*$`}, "an attribute value has no double quote or line break"),
	}
}

func options() *schema {
	return &schema{
		Type: "object",
		PropertyNames: patternSays(&schema{Pattern: `^[a-z0-9_]+$`, Not: &schema{Enum: []any{"addr", "id"}}},
			"an option name of a-z, 0-9 and '_', not addr or id (give address and id)"),
		AdditionalProperties: &schema{Extras: map[string]any{"type": []string{"string", "number", "boolean", "null"}}},
	}
}

func i2cAddress() *schema {
	const rule = "an I2C address, 0x03..0x77, in hex (0x76) or decimal"
	return &schema{AnyOf: []*schema{
		says(&schema{Type: "integer", Minimum: json.Number(strconv.Itoa(minI2CAddr)), Maximum: json.Number(strconv.Itoa(maxI2CAddr))}, rule),
		{Ref: "#/$defs/yaml11Integer"},
		// 0x03..0x77 or 3..119, as text.
		{Type: "string", Pattern: `^(0[xX]0*([3-9a-fA-F]|[1-6][0-9a-fA-F]|7[0-7])|0*([3-9]|[1-9][0-9]|1[01][0-9]))$`},
	}}
}

// namePattern is a name of a-z, 0-9, '_' and '-', min..maxNameLen bytes.
func namePattern(min int) string { return fmt.Sprintf(`^[a-z0-9_-]{%d,%d}$`, min, maxNameLen) }

// empty is a key left out: null or "".
func empty() *schema { return &schema{Enum: []any{nil, ""}} }

func null() *schema { return &schema{Type: "null"} }

// given is a key given a value: not null.
func given() *schema { return text() }

// nonEmpty is text that is not "".
func nonEmpty() *schema { s := text(); s.MinLength = ptrTo(uint64(1)); return s }

// says gives s, and the choices of its anyOf, a message of pigw's for the YAML language
// server to show when s fails instead of its own (errorMessage, a keyword of its own that
// validators ignore).
func says(s *schema, msg string) *schema {
	if s.Extras == nil {
		s.Extras = map[string]any{}
	}
	s.Extras["errorMessage"] = msg
	for _, c := range s.AnyOf {
		if c.Ref == "" && c.Type != "null" {
			says(c, msg)
		}
	}
	return s
}

// when applies then to an entry whose key is text matching pattern.
func when(key, pattern string, then *schema) *schema {
	return &schema{
		If:   required(props(key, &schema{Type: "string", Pattern: pattern}), key),
		Then: then,
	}
}

// patternSays gives s's pattern a message for the YAML language server to show instead of
// the pattern itself (patternErrorMessage, a keyword of its own that validators ignore).
func patternSays(s *schema, msg string) *schema {
	if s.Extras == nil {
		s.Extras = map[string]any{}
	}
	s.Extras["patternErrorMessage"] = msg
	return s
}

// otherThan is a pattern of the decimal numbers other than n, without leading zeros.
func otherThan(n int) string {
	d := strconv.Itoa(n)
	alts := []string{"0", fmt.Sprintf("[1-9][0-9]{0,%d}", len(d)-2), fmt.Sprintf("[1-9][0-9]{%d,}", len(d))}
	for i := range d {
		var not []string
		for c := '0'; c <= '9'; c++ {
			if byte(c) != d[i] && (i > 0 || c != '0') {
				not = append(not, string(c))
			}
		}
		alts = append(alts, d[:i]+"["+strings.Join(not, "")+"]"+fmt.Sprintf("[0-9]{%d}", len(d)-i-1))
	}
	return "(" + strings.Join(alts, "|") + ")"
}

// required sets the keys s requires.
func required(s *schema, keys ...string) *schema { s.Required = keys; return s }

func props(kv ...any) *jsonschema.Schema {
	p := jsonschema.NewProperties()
	for i := 0; i < len(kv); i += 2 {
		p.Set(kv[i].(string), kv[i+1].(*schema))
	}
	return &schema{Properties: p}
}

// ci is a pattern that matches s in any case.
func ci(s string) string {
	var b strings.Builder
	for _, r := range s {
		lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r))
		if lo != up {
			b.WriteString("[" + lo + up + "]")
		} else {
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}

// fuzzyName matches a media type's name as coap.ParseMediaType takes it: in any case, with
// spaces anywhere.
func fuzzyName(name string) string {
	var b strings.Builder
	b.WriteString(" *")
	for _, r := range name {
		b.WriteString(ci(string(r)) + " *")
	}
	return b.String()
}

// fuzzyNumber matches the number n as coap.ParseMediaType takes it.
func fuzzyNumber(n int) string {
	var b strings.Builder
	b.WriteString(` *\+?( *0)* *`)
	for _, r := range strconv.Itoa(n) {
		b.WriteString(string(r) + " *")
	}
	return b.String()
}

func kindsPattern(kinds []string) string {
	alts := make([]string, len(kinds))
	for i, k := range kinds {
		alts[i] = ci(k)
	}
	return `^(` + strings.Join(alts, "|") + `)$`
}
