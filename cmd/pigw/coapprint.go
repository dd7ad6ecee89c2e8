package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// printResponse writes the payload to stdout (with a newline on a terminal) and, verbose, the
// code, type, MID, token and options to stderr.
func printResponse(r coap.Response, verbose bool, stdout, stderr io.Writer) {
	if verbose {
		fmt.Fprintf(stderr, "%s %s %s MID=%d token=%x RTT=%s from %s\n",
			r.Code, codeText(r.Code), r.Type, r.MessageID, r.Token, r.RTT.Round(10_000), r.Peer)
		for _, o := range r.Options {
			fmt.Fprintf(stderr, "  %s: %s\n", message.OptionID(o.ID), optionText(o))
		}
	}
	if r.Code.Class() != 2 {
		return // the diagnostic payload goes to stderr with the code
	}
	_, _ = stdout.Write(r.Payload)
	if len(r.Payload) > 0 && r.Payload[len(r.Payload)-1] != '\n' && isTerminal(stdout) {
		fmt.Fprintln(stdout)
	}
}

// codeText turns go-coap's name of a code ("NotFound") into words ("Not Found").
func codeText(c coap.Code) string {
	name := codes.Code(c).String()
	if strings.HasPrefix(name, "Code(") {
		return ""
	}
	var b strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func optionText(o coap.Option) string {
	uintValue := func() uint32 {
		var n uint32
		for _, b := range o.Value {
			n = n<<8 | uint32(b)
		}
		return n
	}
	switch message.OptionID(o.ID) {
	case message.ContentFormat, message.Accept:
		return coap.MediaType(uintValue()).String()
	case message.MaxAge, message.Observe, message.Size1, message.Size2, message.URIPort:
		return fmt.Sprint(uintValue())
	case message.Block1, message.Block2:
		szx, num, more, err := blockwise.DecodeBlockOption(uintValue())
		if err != nil {
			return fmt.Sprintf("%#x", o.Value)
		}
		return fmt.Sprintf("num=%d more=%v size=%d", num, more, 1<<(uint(szx)+4))
	case message.URIPath, message.URIQuery, message.URIHost, message.LocationPath, message.LocationQuery:
		return string(o.Value)
	}
	return fmt.Sprintf("0x%x", o.Value)
}
