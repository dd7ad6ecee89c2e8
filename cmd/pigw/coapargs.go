package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/pigw/pigw/appliance/coap"
)

// Exit statuses of pigw coap.
const (
	exitOK      = 0 // 2.xx
	exitFailed  = 1 // 4.xx, 5.xx, RST, a network or DTLS error
	exitUsage   = 2 // bad command line
	exitTimeout = 3 // no answer in time
)

// usageError is a command-line mistake: exit 2.
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// parseInterspersed lets flags come before or after the positional arguments, as in
// "pigw coap get URL -v".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// target is a parsed coap:// or coaps:// URL.
type target struct {
	secure bool
	addr   string // host:port for a session
	path   string // path and ?query for a request
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, usagef("URL %q: %v", raw, errors.Unwrap(err))
	}
	var t target
	switch u.Scheme {
	case "coap":
	case "coaps":
		t.secure = true
	default:
		return target{}, usagef("URL %q: scheme must be coap:// or coaps://", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return target{}, usagef("URL %q: no host", raw)
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return target{}, usagef("URL %q: CoAP URLs have no #fragment", raw)
	}
	port := coap.DefaultPort
	if t.secure {
		port = coap.DefaultDTLSPort
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return target{}, usagef("URL %q: port %q must be 1..65535", raw, p)
		}
		port = int(n)
	}
	t.addr = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	// Kept percent-encoded: the request splits at '/' and '&' before it decodes (RFC 7252 §6.4).
	t.path = strings.TrimPrefix(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		t.path += "?" + u.RawQuery
	}
	return t, nil
}

// bytesArg reads text, or 0x followed by hex digits.
func bytesArg(what, v string) ([]byte, error) {
	if h, ok := strings.CutPrefix(v, "0x"); ok {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, usagef("%s %q: not valid hex after 0x", what, v)
		}
		return b, nil
	}
	return []byte(v), nil
}

// payloadArg reads a literal, @file, or - for standard input.
func payloadArg(v string, stdin io.Reader) ([]byte, error) {
	switch {
	case v == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read payload from stdin: %w", err)
		}
		return b, nil
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, usagef("payload %s: %v", v, err)
		}
		return b, nil
	}
	return []byte(v), nil
}

func mediaArg(flagName, v string) (coap.MediaType, error) {
	if v == "" {
		return coap.NoMediaType, nil
	}
	m, err := coap.ParseMediaType(v)
	if err != nil {
		return 0, usagef("--%s: %v", flagName, err)
	}
	return m, nil
}

// optionArgs collects repeated -O NUMBER,VALUE flags.
type optionArgs []coap.Option

func (o *optionArgs) String() string { return fmt.Sprint(len(*o), " options") }

func (o *optionArgs) Set(v string) error {
	num, val, _ := strings.Cut(v, ",")
	n, err := strconv.ParseUint(num, 10, 16)
	if err != nil {
		return fmt.Errorf("option %q: must be NUMBER,VALUE with NUMBER 0..65535", v)
	}
	b, err := bytesArg("option value", val)
	if err != nil {
		return err
	}
	*o = append(*o, coap.Option{ID: uint16(n), Value: b})
	return nil
}

// secretArg reads --psk or --psk-file; the key itself never appears in a message.
func secretArg(psk, pskFile string) ([]byte, error) {
	switch {
	case psk != "" && pskFile != "":
		return nil, usagef("give --psk or --psk-file, not both")
	case pskFile != "":
		b, err := os.ReadFile(pskFile)
		if err != nil {
			return nil, usagef("--psk-file: %v", err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	case psk != "":
		if h, ok := strings.CutPrefix(psk, "0x"); ok {
			b, err := hex.DecodeString(h)
			if err != nil {
				return nil, usagef("--psk: not valid hex after 0x")
			}
			return b, nil
		}
		return []byte(psk), nil
	}
	return nil, nil
}
