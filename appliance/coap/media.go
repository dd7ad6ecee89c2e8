package coap

import (
	"fmt"
	"strconv"
	"strings"
)

// MediaType is a CoAP Content-Format number (RFC 7252 §12.3), or NoMediaType.
type MediaType int32

// Content-Formats the original module named, and the ones pigw's sensors use.
const (
	NoMediaType         MediaType = -1
	TextPlain           MediaType = 0
	AppLinkFormat       MediaType = 40
	AppXML              MediaType = 41
	AppOctetStream      MediaType = 42
	AppEXI              MediaType = 47
	AppJSON             MediaType = 50
	AppJSONPatch        MediaType = 51
	AppMergePatch       MediaType = 52
	AppCBOR             MediaType = 60
	AppSenMLJSON        MediaType = 110
	AppSensMLJSON       MediaType = 111
	AppSenMLCBOR        MediaType = 112
	AppSensMLCBOR       MediaType = 113
	maxMediaTypeNumeral           = 65535
)

var mediaTypeNames = map[MediaType]string{
	TextPlain:      "text/plain",
	AppLinkFormat:  "application/link-format",
	AppXML:         "application/xml",
	AppOctetStream: "application/octet-stream",
	AppEXI:         "application/exi",
	AppJSON:        "application/json",
	AppJSONPatch:   "application/json-patch+json",
	AppMergePatch:  "application/merge-patch+json",
	AppCBOR:        "application/cbor",
	AppSenMLJSON:   "application/senml+json",
	AppSensMLJSON:  "application/sensml+json",
	AppSenMLCBOR:   "application/senml+cbor",
	AppSensMLCBOR:  "application/sensml+cbor",
}

// String gives the registered name, the number for unregistered formats, or "none".
func (m MediaType) String() string {
	if m == NoMediaType {
		return "none"
	}
	if n, ok := mediaTypeNames[m]; ok {
		return n
	}
	return strconv.Itoa(int(m))
}

// Valid reports whether m is NoMediaType or a Content-Format number.
func (m MediaType) Valid() bool { return m >= NoMediaType && m <= maxMediaTypeNumeral }

// ParseMediaType accepts a registered name ("text/plain", "application/json"), a number
// 0..65535, or "none".
func ParseMediaType(s string) (MediaType, error) {
	t := strings.ToLower(strings.ReplaceAll(s, " ", ""))
	if t == "none" || t == "" {
		return NoMediaType, nil
	}
	if t == "text/plain;charset=utf-8" {
		return TextPlain, nil
	}
	for m, n := range mediaTypeNames {
		if n == t {
			return m, nil
		}
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > maxMediaTypeNumeral {
		return NoMediaType, fmt.Errorf("%q is not a known media type (use a name such as text/plain or a number 0..65535)", s)
	}
	return MediaType(n), nil
}
