package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveEvents answers /api/events, a stream of Server-Sent Events: "log" events, one per log
// line with its number as the event's id (a client that reconnects with Last-Event-ID, or asks
// with ?after=N, goes on after that line), and "status" events with the Snapshot as JSON when
// it changed, at most every Limits.StatusEvery and at least every Limits.Heartbeat. With
// ?format=html the status events are "page" events instead: the page's sections as HTML,
// which the page's script puts in place.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "html" {
		http.Error(w, fmt.Sprintf("format=%q: must be json or html", format), http.StatusBadRequest)
		return
	}
	after, err := seqParam(q.Get("after"), "after")
	if id := r.Header.Get("Last-Event-ID"); err == nil && id != "" {
		after, err = seqParam(id, "Last-Event-ID")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if n := s.streams.Add(1); int(n) > s.limits.EventStreams {
		s.streams.Add(-1)
		w.Header().Set("Retry-After", "10")
		http.Error(w, fmt.Sprintf("too many event streams open (at most %d): try again later", s.limits.EventStreams), http.StatusServiceUnavailable)
		return
	}
	defer s.streams.Add(-1)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	if after == 0 && q.Get("after") == "" && r.Header.Get("Last-Event-ID") == "" {
		_, last := s.src.LogAfter(0, 0)
		after = last - min(last, pageLogLines) // a new client gets the last lines
	}
	st := stream{w: w, rc: http.NewResponseController(w), timeout: s.limits.WriteTimeout}
	if err := st.send("", "", "", "retry: 3000\n"); err != nil {
		return
	}
	s.stream(r.Context(), &st, after, format == "html")
}

// stream sends events until ctx is done or a write fails.
func (s *Server) stream(ctx context.Context, st *stream, after uint64, html bool) {
	heartbeat := time.NewTicker(s.limits.Heartbeat)
	defer heartbeat.Stop()
	ping := time.NewTicker(s.limits.Ping)
	defer ping.Stop()
	var last []byte // the status sent last
	var sent time.Time
	dirty := true
	for {
		changed := s.src.Changed()
		lines, _ := s.src.LogAfter(after, pageLogLines)
		for _, l := range lines {
			if st.send("log", strconv.FormatUint(l.Seq, 10), l.Text, "") != nil {
				return
			}
			after = l.Seq
		}
		var soon <-chan time.Time
		if wait := s.limits.StatusEvery - time.Since(sent); dirty && wait > 0 {
			soon = time.After(wait)
		} else if dirty {
			b, event, err := s.status(html)
			if err != nil {
				s.log.Error("status event", "err", err)
				return
			}
			if !bytes.Equal(b, last) && st.send(event, "", string(b), "") != nil {
				return
			}
			last, sent, dirty = b, time.Now(), false
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
			dirty = true
		case <-soon:
		case <-heartbeat.C:
			dirty = true
		case <-ping.C:
			if st.send("", "", "", ": ping\n") != nil {
				return
			}
		}
	}
}

// status renders the status event: the snapshot as JSON, or the page's sections as HTML.
func (s *Server) status(html bool) ([]byte, string, error) {
	sn := s.src.Snapshot()
	if !html {
		b, err := json.Marshal(sn)
		return b, "status", err
	}
	var b bytes.Buffer
	err := s.page.ExecuteTemplate(&b, "sections", pageData{Snapshot: sn})
	return b.Bytes(), "page", err
}

// stream writes events, each within its own write deadline, so that a client that stops
// reading is dropped rather than holding the stream forever.
type stream struct {
	w       io.Writer
	rc      *http.ResponseController
	timeout time.Duration
}

// send writes one event: its type, its id and its data, every line of data on a line of its
// own (any of CR, LF and CRLF ends a line in an event stream, so none can reach a field of
// its own), or raw lines as they are.
func (st *stream) send(event, id, data, raw string) error {
	var b strings.Builder
	b.WriteString(raw)
	if event != "" {
		b.WriteString("event: " + event + "\n")
	}
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	if event != "" {
		for _, line := range strings.Split(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(data), "\n") {
			b.WriteString("data: " + line + "\n")
		}
	}
	b.WriteString("\n")
	_ = st.rc.SetWriteDeadline(time.Now().Add(st.timeout))
	if _, err := io.WriteString(st.w, b.String()); err != nil {
		return err
	}
	return st.rc.Flush()
}
