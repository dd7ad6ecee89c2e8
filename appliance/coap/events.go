package coap

import (
	"log/slog"

	"github.com/plgd-dev/go-coap/v3/message/codes"

	"github.com/pigw/pigw/internal/ratelog"
)

// events are what peers can make the server do at any rate, counted rather than logged one
// line each (see package ratelog): a flood of forged datagrams must not become a flood of the
// log.
type events struct {
	log          *ratelog.Log
	malformed    *ratelog.Kind // datagrams that are not CoAP messages
	rejected     *ratelog.Kind // requests refused for their form or the server's limits
	dtlsCookies  *ratelog.Kind // DTLS hellos answered with a cookie, nothing kept
	dtlsRefused  *ratelog.Kind // DTLS peers refused a session
	dtlsFailed   *ratelog.Kind // DTLS handshakes that did not complete
	readFailures *ratelog.Kind // socket read errors
}

func newEvents(l *ratelog.Log) *events {
	return &events{
		log:          l,
		malformed:    l.Kind("malformed", "malformed datagrams", slog.LevelInfo),
		rejected:     l.Kind("rejected", "requests rejected", slog.LevelInfo),
		dtlsCookies:  l.Kind("dtls_hello_verify", "DTLS hellos answered with a cookie", slog.LevelInfo),
		dtlsRefused:  l.Kind("dtls_refused", "DTLS sessions refused", slog.LevelWarn),
		dtlsFailed:   l.Kind("dtls_handshake_failed", "DTLS handshakes failed", slog.LevelInfo),
		readFailures: l.Kind("read_failed", "socket reads failed", slog.LevelWarn),
	}
}

// isRejection reports the answers that refuse a request for its form or the server's
// limits, as against answers about the resource (4.04, 4.05, 4.12 and the like).
func isRejection(c codes.Code) bool {
	switch c {
	case codes.BadRequest, codes.BadOption, codes.Forbidden, codes.RequestEntityTooLarge,
		codes.ServiceUnavailable, requestURITooLong:
		return true
	}
	return false
}

// Counters are the totals of the events counted so far, by kind (malformed, rejected,
// dtls_hello_verify, dtls_refused, dtls_handshake_failed, read_failed).
func (s *Server) Counters() map[string]uint64 { return s.events.log.Totals() }
