package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

//go:embed assets
var assets embed.FS

// pageLogLines is how many log lines the page shows, and the most /api/log returns.
const pageLogLines = 100

// routes are the page, its assets and the API: GET and HEAD only (the mux answers other
// methods 405 with Allow), unknown paths 404, every error in plain text.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servePage)
	for _, name := range []string{"style.css", "app.js"} {
		mux.HandleFunc("GET /assets/"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, assets, "assets/"+name)
		})
	}
	for path, part := range map[string]func(Snapshot) any{
		"/api/status":     func(sn Snapshot) any { return sn },
		"/api/system":     func(sn Snapshot) any { return sn.System },
		"/api/network":    func(sn Snapshot) any { return sn.Network },
		"/api/subsystems": func(sn Snapshot) any { return sn.Subsystems },
		"/api/resources": func(sn Snapshot) any {
			return map[string]any{"sensors": sn.Sensors, "gpio": sn.GPIO, "resources": sn.Resources, "resources_omitted": sn.ResourcesOmitted}
		},
		"/api/sessions":      func(sn Snapshot) any { return sn.Sessions },
		"/api/registrations": func(sn Snapshot) any { return sn.Registrations },
		"/api/counters":      func(sn Snapshot) any { return sn.Counters },
	} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) { s.serveJSON(w, part(s.src.Snapshot())) })
	}
	mux.HandleFunc("GET /api/log", s.serveLog)
	mux.HandleFunc("GET /api/events", s.serveEvents)
	return headers(mux)
}

// headers sets what every answer carries: no script but the page's own, no framing, no
// sniffing of types, no referrer to other sites.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// pageData is what the page template renders.
type pageData struct {
	Snapshot
	Log    []LogLine
	LogSeq uint64 // the last line's number: the event stream goes on from it
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	lines, seq := s.src.LogAfter(0, pageLogLines)
	var b bytes.Buffer
	if err := s.page.ExecuteTemplate(&b, "page", pageData{Snapshot: s.src.Snapshot(), Log: lines, LogSeq: seq}); err != nil {
		s.log.Error("status page", "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	s.write(w, b.Bytes())
}

func (s *Server) serveJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "the answer could not be encoded", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	s.write(w, append(b, '\n'))
}

// serveLog answers /api/log?after=N: the lines after line N that are still held (the last
// ones when N is left out).
func (s *Server) serveLog(w http.ResponseWriter, r *http.Request) {
	after, err := seqParam(r.URL.Query().Get("after"), "after")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	lines, last := s.src.LogAfter(after, pageLogLines)
	if lines == nil {
		lines = []LogLine{}
	}
	s.serveJSON(w, map[string]any{"lines": lines, "last": last})
}

// seqParam parses a log line number ("" is 0), or says what is wrong with it.
func seqParam(v, name string) (uint64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: must be a log line number, 0 or more", name, v)
	}
	return n, nil
}

// write sends a whole answer within the write timeout.
func (s *Server) write(w http.ResponseWriter, b []byte) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.limits.WriteTimeout))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
