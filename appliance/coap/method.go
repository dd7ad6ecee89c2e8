package coap

import (
	"fmt"
	"strings"

	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// Method is a set of request methods, with the bit values of the original module's
// REQUEST_GET, REQUEST_PUT, REQUEST_POST and REQUEST_DELETE, so they combine with |.
type Method uint8

// The methods a resource can enable.
const (
	GET    Method = 1
	PUT    Method = 2
	POST   Method = 4
	DELETE Method = 8

	AllMethods = GET | PUT | POST | DELETE
)

var methodNames = []struct {
	m    Method
	name string
}{{GET, "GET"}, {PUT, "PUT"}, {POST, "POST"}, {DELETE, "DELETE"}, {FETCH, "FETCH"}, {PATCH, "PATCH"}, {IPATCH, "iPATCH"}}

// String lists the methods in the set, such as "GET|PUT".
func (m Method) String() string {
	var names []string
	for _, mn := range methodNames {
		if m&mn.m != 0 {
			names = append(names, mn.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// ParseMethod reads one method name, in any case: GET, PUT, POST, DELETE, and for requests
// FETCH, PATCH and iPATCH.
func ParseMethod(s string) (Method, error) {
	for _, mn := range methodNames {
		if strings.EqualFold(s, mn.name) {
			return mn.m, nil
		}
	}
	return 0, fmt.Errorf("%q is not a method (GET, PUT, POST, DELETE, FETCH, PATCH or iPATCH)", s)
}

// methodOf maps a request code to its Method bit; 0 for codes a resource cannot enable.
func methodOf(c codes.Code) Method {
	switch c {
	case codes.GET:
		return GET
	case codes.PUT:
		return PUT
	case codes.POST:
		return POST
	case codes.DELETE:
		return DELETE
	}
	return 0
}
