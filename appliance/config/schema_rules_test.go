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

	"CoAP.listen":               {s: listOf(str(listenPattern), 1, 0, unique)},
	"CoAP.dtls":                 {s: ref("DTLS")},
	"CoAP.service_discovery":    {s: boolean},
	"CoAP.discovery_leisure":    {s: ref("Duration")},
	"CoAP.dynamic_resources":    {s: boolean},
	"CoAP.new_resource_details": {s: ref("Details")},
	"CoAP.observe":              {s: ref("Observe")},
	"CoAP.limits":               {s: ref("Limits")},
	"CoAP.resources":            {s: listOf(ref("Resource"), 0, 0)},

	"DTLS.listen": {s: listOf(func() *schema {
		s := str(listenPattern)()
		s.Not = &schema{Pattern: `:0*` + strconv.Itoa(coapPort) + `$`}
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
		s := textPattern(`^/?` + segment + `(/` + segment + `)*$`)()
		s.Not = &schema{Type: "string", Pattern: `^/?\.well-known(/|$)`}
		return s
	}, required: true},
	"Resource.media_type": {s: ref("MediaType")},
	"Resource.max_age":    {s: intIn(0, math.MaxUint32)},
	"Resource.value":      {s: text},
	"Resource.etag":       {s: boolean},
	"Resource.attributes": {s: attributes},
	"Resource.methods":    {s: listOf(keyword(false, "GET", "PUT", "POST", "DELETE"), 0, 0, unique)},

	"Session.name":     {s: textPattern(namePattern(1)), required: true},
	"Session.peer":     {s: str(`^[cC][oO][aA][pP][sS]?://[^/?#@]+$`), required: true},
	"Session.identity": {s: textLen(0, maxIdentityLen)},
	"Session.psk":      {s: secret(maxKeyLen)},
	"Session.requests": {s: listOf(ref("SessionRequest"), 1, 0), required: true},

	"SessionRequest.name":            {s: textPattern(namePattern(0)), noDefault: true},
	"SessionRequest.method":          {s: keyword(true, requestMethods...)},
	"SessionRequest.path":            {s: textPattern(`^[^#` + ctl + `]*$`)},
	"SessionRequest.content_format":  {s: ref("MediaType")},
	"SessionRequest.accept":          {s: ref("MediaType")},
	"SessionRequest.payload":         {s: text},
	"SessionRequest.sensors":         {s: listOf(text, 1, 0)},
	"SessionRequest.token":           {s: textPattern(hexOrText(maxTokenLen, true))},
	"SessionRequest.include_options": {s: boolean},
	"SessionRequest.confirmable":     {s: boolean},
	"SessionRequest.every":           {s: ref("Duration")},
	"SessionRequest.timeout":         {s: ref("Duration")},

	"System.hostname": {s: textPattern(fmt.Sprintf(`^([A-Za-z0-9]([A-Za-z0-9-]{0,%d}[A-Za-z0-9])?)?$`, maxHostname-2))},
	"System.modules": {s: listOf(textPattern(fmt.Sprintf(`^[A-Za-z0-9_-]{1,%d}( [A-Za-z0-9_]+=[!\x23-\x5b\x5d-~]+)*$`,
		maxModuleName)), 0, 0, unique)},
	"System.watchdog": {s: boolean},

	"Network.interfaces": {s: listOf(ref("Interface"), 0, 0)},
	"Network.dns":        {s: listOf(str(`^[0-9A-Fa-f:.]+(%.+)?$`), 0, maxResolvers, unique)},

	"Interface.name": {s: func() *schema {
		s := text()
		name := textPattern(fmt.Sprintf(`^[^/:*?\[%s]{1,%d}$`, blankClass, maxIfName))()
		name.Not = &schema{Enum: []any{".", ".."}}
		pattern := textPattern(fmt.Sprintf(`^[^/:%[1]s]*[*?\[][^/:%[1]s]*$`, blankClass))()
		pattern.MaxLength = ptrTo(uint64(maxIfPattern))
		pattern.Not = &schema{Type: "string", Pattern: `\[!`}
		s.AnyOf = []*schema{name, pattern}
		return s
	}, required: true},
	"Interface.up":        {s: boolean},
	"Interface.addresses": {s: listOf(str(`^[0-9A-Fa-f:.]+/[0-9]+$`), 0, 0, unique)},
	"Interface.dhcp":      {s: boolean},
	"Interface.gateway":   {s: str(`^[0-9.]*$`)},
	"Interface.gateway6":  {s: str(`^[0-9A-Fa-f:.]*$`)},
	"Interface.routes":    {s: listOf(ref("Route"), 0, 0)},
	"Interface.mtu": {s: func() *schema {
		return &schema{AnyOf: []*schema{{Const: 0}, intIn(minMTU, maxMTU)()}}
	}},
	"Interface.metric": {s: intIn(0, maxMetric)},

	"Route.to":     {s: str(`^[0-9A-Fa-f:.]+/[0-9]+$`), required: true},
	"Route.via":    {s: str(`^[0-9A-Fa-f:.]*$`)},
	"Route.metric": {s: intIn(0, maxMetric)},

	"Wifi.interface": {s: func() *schema {
		s := textPattern(fmt.Sprintf(`^[^/:*?\[%s]{0,%d}$`, blankClass, maxIfName))()
		s.Not = &schema{Enum: []any{".", ".."}}
		return s
	}},
	"Wifi.country":  {s: textPattern(`^([A-Za-z]{2}|` + worldCountry + `)?$`)},
	"Wifi.backend":  {s: keyword(true, WifiBackendAuto, WifiBackendWPASupplicant, WifiBackendNL80211)},
	"Wifi.networks": {s: listOf(ref("WifiNetwork"), 0, 0)},

	"WifiNetwork.ssid": {s: textLen(1, maxSSID), required: true},
	"WifiNetwork.psk": {s: textPattern(fmt.Sprintf(`^([ -~]{%d,%d}|[0-9a-fA-F]{%d})$`,
		minPassphrase, maxPassphrase, rawKeyDigits))},
	"WifiNetwork.security": {s: keyword(true, WifiWPA2, WifiWPA3, WifiWPA2WPA3, WifiOpen), noDefault: true},
	"WifiNetwork.hidden":   {s: boolean},
	"WifiNetwork.priority": {s: intIn(-maxWifiPriority, maxWifiPriority)},

	"Time.ntp": {s: listOf(textPattern(`^(\[[0-9A-Fa-f:.]+(%[^\]]+)?\](:[-+]?[0-9]+)?|[0-9A-Fa-f:.]+(%.+)?|[A-Za-z0-9.-]+(:[-+]?[0-9]+)?)$`),
		0, maxNTPServers)},
	"Time.interval": {s: ref("Duration")},

	"Sensor.name":     {s: textPattern(namePattern(1)), required: true},
	"Sensor.kind":     {s: keyword(false, sensors.Kinds()...), required: true},
	"Sensor.bus":      {s: intIn(0, maxI2CBus), noDefault: true},
	"Sensor.address":  {s: i2cAddress, noDefault: true},
	"Sensor.path":     {s: str(`^(/[^` + ctl + `]*)?$`), noDefault: true},
	"Sensor.id":       {s: str(`^([0-9a-f]{2}-[0-9a-f]{12})?$`), noDefault: true},
	"Sensor.interval": {s: ref("Duration")},
	"Sensor.threshold": {s: func() *schema {
		return &schema{AnyOf: []*schema{
			{Type: "number", Minimum: "0"},
			{Type: "string", Pattern: `^[-+]?([0-9_.]*_[0-9_.]*|0b[01_]+|0o[0-7_]+|0[xX][0-9a-fA-F_.]+([pP][-+]?[0-9_]+)?)$`},
		}}
	}},
	"Sensor.options": {s: options},

	"GPIO.name": {s: textPattern(namePattern(1)), required: true},
	"GPIO.pin": {s: str(fmt.Sprintf(`^(%s|%s)0*([0-9]|1[0-9]|2[0-%d])$`, ci(gpioPrefix), ci(bcmPrefix), maxHeaderGPIO-20)),
		required: true},
	"GPIO.direction": {s: keyword(false, GPIOIn, GPIOOut), required: true},
	"GPIO.pull":      {s: keyword(true, PullUp, PullDown, PullNone), noDefault: true},
	"GPIO.edge":      {s: keyword(true, EdgeBoth, EdgeRising, EdgeFalling, EdgeNone), noDefault: true},
	"GPIO.debounce":  {s: ref("Duration")},
	"GPIO.initial":   {s: intIn(0, 1), noDefault: true},
	"GPIO.restart":   {s: keyword(true, RestartInitial, RestartLast), noDefault: true},
	"GPIO.invert":    {s: boolean},
}

// entryRules are the rules between the keys of one entry, by Go type.
var entryRules = map[string]func() []*schema{
	// A dtls section lets clients in with psk, keys or both.
	"DTLS": func() []*schema {
		return []*schema{{AnyOf: []*schema{
			required(props("psk", &schema{Not: &schema{Type: "null"}}), "psk"),
			required(props("keys", &schema{Type: "object", MinProperties: ptrTo(uint64(1))}), "keys"),
		}}}
	},
	// A coap:// peer takes no identity or psk; a coaps:// peer needs both.
	"Session": func() []*schema {
		return []*schema{
			when("peer", `^`+ci("coap")+`://`, props("identity", empty(), "psk", &schema{Type: "null"})),
			when("peer", `^`+ci("coaps")+`://`, required(props("identity", &schema{Not: empty()}, "psk", &schema{Not: &schema{Type: "null"}}), "identity", "psk")),
		}
	},
	// A request that sends sensor readings is a POST or PUT without payload, as SenML.
	"SessionRequest": func() []*schema {
		senml := []string{"application/senml+json", "application/senml+cbor"}
		return []*schema{{
			If: required(props("sensors", &schema{Not: &schema{Type: "null"}}), "sensors"),
			Then: required(props(
				"method", &schema{Type: "string", Pattern: `^(` + ci("POST") + `|` + ci("PUT") + `)$`},
				"payload", empty(),
				"content_format", &schema{AnyOf: []*schema{
					{Type: "null"},
					{Enum: []any{int(coap.AppSenMLJSON), int(coap.AppSenMLCBOR)}},
					{Type: "string", Pattern: `^(` + fuzzyName(senml[0]) + `|` + fuzzyName(senml[1]) + `|` +
						fuzzyNumber(int(coap.AppSenMLJSON)) + `|` + fuzzyNumber(int(coap.AppSenMLCBOR)) + `)$`},
					{Ref: "#/$defs/yaml11Integer"},
				}},
			), "method"),
		}}
	},
	// A pattern of names takes no addresses, gateways or routes; DHCP needs the link up and
	// gives the gateway.
	"Interface": func() []*schema {
		noList := &schema{AnyOf: []*schema{{Type: "null"}, {Type: "array", MaxItems: ptrTo(uint64(0))}}}
		return []*schema{
			when("name", `[*?\[]`, props("addresses", noList, "gateway", empty(), "gateway6", empty(), "routes", noList)),
			{
				If:   required(props("dhcp", &schema{Const: true}), "dhcp"),
				Then: props("up", &schema{Not: &schema{Const: false}}, "gateway", empty()),
			},
		}
	},
	// WPA3 needs a backend other than nl80211.
	"Wifi": func() []*schema {
		wpa3 := &schema{Not: &schema{Type: "string", Pattern: `^(` + ci(WifiWPA3) + `|` + ci(WifiWPA2WPA3) + `)$`}}
		return []*schema{when("backend", `^`+ci(WifiBackendNL80211)+`$`,
			props("networks", &schema{Items: props("security", wpa3)}))}
	},
	// An open network takes no psk; the others need one, and WPA3 a passphrase.
	"WifiNetwork": func() []*schema {
		wpa3 := `^(` + ci(WifiWPA3) + `|` + ci(WifiWPA2WPA3) + `)$`
		return []*schema{
			when("security", `^`+ci(WifiOpen)+`$`, props("psk", &schema{Type: "null"})),
			when("security", `^(`+ci(WifiWPA2)+`|`+ci(WifiWPA3)+`|`+ci(WifiWPA2WPA3)+`)$`,
				required(props("psk", &schema{Not: &schema{Type: "null"}}), "psk")),
			when("security", wpa3, props("psk", &schema{Not: &schema{Type: "string",
				Pattern: fmt.Sprintf(`^[0-9a-fA-F]{%d}$`, rawKeyDigits)}})),
		}
	},
	// bus and address are for I2C kinds, path for 1-Wire and sysfs ones, id for 1-Wire ones,
	// which need id or path, not both.
	"Sensor": func() []*schema {
		var i2c, oneWire, noPath, noID []string
		for _, k := range sensors.Kinds() {
			d, _ := sensors.Lookup(k)
			if d.Bus == busI2C {
				i2c = append(i2c, k)
			} else if d.Bus == busOneWire {
				oneWire = append(oneWire, k)
			}
			if !slices.Contains(busFields[d.Bus], "path") {
				noPath = append(noPath, k)
			}
			if !slices.Contains(busFields[d.Bus], "id") {
				noID = append(noID, k)
			}
		}
		var notI2C []string
		for _, k := range sensors.Kinds() {
			if !slices.Contains(i2c, k) {
				notI2C = append(notI2C, k)
			}
		}
		given := &schema{Type: "string", MinLength: ptrTo(uint64(1))}
		return []*schema{
			when("kind", kindsPattern(notI2C), props("bus", &schema{Type: "null"}, "address", &schema{Type: "null"})),
			when("kind", kindsPattern(noPath), props("path", empty())),
			when("kind", kindsPattern(noID), props("id", empty())),
			when("kind", kindsPattern(oneWire), &schema{
				AnyOf: []*schema{
					required(props("id", given), "id"),
					required(props("path", given), "path"),
				},
				Not: required(props("id", given, "path", given), "id", "path"),
			}),
		}
	},
	// pull, edge and debounce are for inputs; initial and restart for outputs.
	"GPIO": func() []*schema {
		zero := &schema{AnyOf: []*schema{
			{Type: "null"}, {Const: 0},
			{Type: "string", Pattern: `^[-+]?(0|(` + zeroNum + durUnit + `)+)$`},
		}}
		return []*schema{
			when("direction", `^`+ci(GPIOIn)+`$`, props("initial", &schema{Type: "null"}, "restart", empty())),
			when("direction", `^`+ci(GPIOOut)+`$`, props("pull", empty(), "edge", empty(), "debounce", zero)),
		}
	},
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
				{Type: "string", Pattern: `^(\+?(0|(` + durationNum + durUnit + `)+)|-(0|(` + zeroNum + durUnit + `)+))$`},
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

func textPattern(p string) func() *schema {
	return func() *schema { s := text(); s.Pattern = p; return s }
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

// str is a key whose valid values are text no YAML number or boolean spells.
func str(p string) func() *schema {
	return func() *schema { return &schema{Type: "string", Pattern: p} }
}

func ref(def string) func() *schema {
	return func() *schema { return &schema{Ref: "#/$defs/" + def} }
}

func intIn(min, max int) func() *schema {
	return func() *schema {
		return &schema{AnyOf: []*schema{
			{Type: "integer", Minimum: json.Number(strconv.Itoa(min)), Maximum: json.Number(strconv.Itoa(max))},
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
		return &schema{Type: "string", AnyOf: []*schema{{Enum: enum}, {Pattern: p}}}
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

func secret(max int) func() *schema { return textPattern(hexOrText(max, false)) }

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
		PropertyNames: &schema{Pattern: `^[A-Za-z0-9._-]+$`,
			Not: &schema{Pattern: `^` + ci("href") + `$`}},
		AdditionalProperties: &schema{Extras: map[string]any{"type": []string{"string", "number", "boolean", "null"}},
			Pattern: `^[^"\r\n]*$`},
	}
}

func options() *schema {
	return &schema{
		Type:                 "object",
		PropertyNames:        &schema{Pattern: `^[a-z0-9_]+$`, Not: &schema{Enum: []any{"addr", "id"}}},
		AdditionalProperties: &schema{Extras: map[string]any{"type": []string{"string", "number", "boolean", "null"}}},
	}
}

func i2cAddress() *schema {
	return &schema{AnyOf: []*schema{
		{Type: "integer", Minimum: json.Number(strconv.Itoa(minI2CAddr)), Maximum: json.Number(strconv.Itoa(maxI2CAddr))},
		{Ref: "#/$defs/yaml11Integer"},
		// 0x03..0x77 or 3..119, as text.
		{Type: "string", Pattern: `^(0[xX]0*([3-9a-fA-F]|[1-6][0-9a-fA-F]|7[0-7])|0*([3-9]|[1-9][0-9]|1[01][0-9]))$`},
	}}
}

// namePattern is a name of a-z, 0-9, '_' and '-', min..maxNameLen bytes.
func namePattern(min int) string { return fmt.Sprintf(`^[a-z0-9_-]{%d,%d}$`, min, maxNameLen) }

// empty is a key left out: null or "".
func empty() *schema { return &schema{Enum: []any{nil, ""}} }

// when applies then to an entry whose key is text matching pattern.
func when(key, pattern string, then *schema) *schema {
	return &schema{
		If:   required(props(key, &schema{Type: "string", Pattern: pattern}), key),
		Then: then,
	}
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
