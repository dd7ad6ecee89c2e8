package appliance

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pigw/pigw/appliance/coap"
	"github.com/pigw/pigw/appliance/config"
	"github.com/pigw/pigw/internal/wait"
)

// sessions runs the client sessions of the config: each request once at start or every
// interval, each response logged in one line, and the last response of each request readable
// at /sys/sessions/<session>/<request> (all of a session's at /sys/sessions/<session>). A peer
// that cannot be reached is retried with back-off; a periodic request waits for the one
// before it, so nothing queues.
type sessions struct {
	cfg      []config.Session
	client   *coap.Client
	log      *slog.Logger
	res      map[string]*coap.Resource // by "<session>" and "<session>/<request>"
	snapshot snapshotFunc              // the sensors' readings, for requests that send them

	mu   sync.Mutex
	last map[string]map[string]json.RawMessage // session → request → its last result
	conn map[string]string                     // session → "connecting", "connected" or the error
}

const (
	backoffMin      = time.Second
	backoffMax      = 5 * time.Minute
	maxShownPayload = 4096
	snapshotRetry   = time.Second // while the sensors of a request have no readings
)

// snapshotFunc gives a SenML pack of the named sensors' readings and how many sensors are in
// it (sensorResources.Snapshot).
type snapshotFunc func(names []string, mt coap.MediaType) ([]byte, int, error)

func newSessions(cfg []config.Session, srv *coap.Server, snapshot snapshotFunc, log *slog.Logger) (*sessions, error) {
	ss := &sessions{cfg: cfg, client: coap.NewClient(log), log: log, snapshot: snapshot, res: map[string]*coap.Resource{},
		last: map[string]map[string]json.RawMessage{}, conn: map[string]string{}}
	for _, sc := range cfg {
		ss.last[sc.Name] = map[string]json.RawMessage{}
		paths := []string{sc.Name}
		for _, rq := range sc.Requests {
			paths = append(paths, sc.Name+"/"+rq.Name)
		}
		for _, p := range paths {
			r, err := srv.AddResource("sys/sessions/"+p, coap.WithMediaType(coap.AppJSON), coap.WithMethods(coap.GET),
				coap.WithValue([]byte("{}")), coap.WithAttribute("rt", "pigw.session"), coap.WithHidden())
			if err != nil {
				return nil, fmt.Errorf("session %s: %w", sc.Name, err)
			}
			ss.res[p] = r
		}
	}
	return ss, nil
}

// Run runs every session until ctx is done (one-shot requests end sooner; their sessions stay
// open until then).
func (ss *sessions) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, sc := range ss.cfg {
		wg.Go(func() { ss.runSession(ctx, sc) })
	}
	wg.Wait()
	<-ctx.Done()
	return ss.client.Close()
}

func (ss *sessions) runSession(ctx context.Context, sc config.Session) {
	_, host, port := sc.Parsed()
	var s *coap.Session
	for backoff := backoffMin; ; backoff = min(2*backoff, backoffMax) {
		ss.setConn(sc.Name, "connecting")
		var err error
		if s, err = dialServer(ss.client, host, port, sc.Identity, sc.PSK); err == nil {
			break
		}
		ss.setConn(sc.Name, err.Error())
		ss.log.Warn("session cannot start", "session", sc.Name, "peer", sc.Peer, "err", err, "retry_in", backoff)
		if !wait.Sleep(ctx, backoff) {
			return
		}
	}
	ss.setConn(sc.Name, "connected")
	ss.log.Info("session started", "session", sc.Name, "peer", s.String())
	var wg sync.WaitGroup
	for _, rq := range sc.Requests {
		wg.Go(func() { ss.runRequest(ctx, s, sc.Name, rq) })
	}
	wg.Wait()
}

func (ss *sessions) runRequest(ctx context.Context, s *coap.Session, session string, rq config.SessionRequest) {
	req := coap.NewRequest(mustMethod(rq.Method), rq.Path)
	if rq.ContentFormat != nil {
		req.ContentFormat = coap.MediaType(*rq.ContentFormat)
	}
	if rq.Accept != nil {
		req.Accept = coap.MediaType(*rq.Accept)
	}
	req.Payload, req.Token = []byte(rq.Payload), rq.TokenBytes()
	req.NoOptions = rq.IncludeOptions != nil && !*rq.IncludeOptions
	req.NonConfirmable = rq.Confirmable != nil && !*rq.Confirmable
	every := time.Duration(rq.Every)
	failWait := backoffMin
	for {
		if rq.Sensors != nil {
			if !ss.takeSnapshot(ctx, session, rq, &req) {
				return
			}
		}
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if rq.Timeout > 0 {
			rctx, cancel = context.WithTimeout(ctx, time.Duration(rq.Timeout))
		}
		r, err := s.Do(rctx, req)
		cancel()
		if ctx.Err() != nil {
			return
		}
		ss.record(session, rq, r, err)
		next := every
		if err != nil { // no answer: back off; a periodic request also keeps its interval
			next, failWait = max(failWait, every), min(2*failWait, backoffMax)
		} else {
			failWait = backoffMin
			if every == 0 {
				return
			}
		}
		if !wait.Sleep(ctx, next) {
			return
		}
	}
}

// takeSnapshot puts the readings of rq.Sensors into req's payload, waiting while there are
// none; false when ctx ends first.
func (ss *sessions) takeSnapshot(ctx context.Context, session string, rq config.SessionRequest, req *coap.Request) bool {
	for logged := false; ; logged = true {
		pack, n, err := ss.snapshot(rq.Sensors, req.ContentFormat)
		switch {
		case err != nil:
			ss.log.Error("session request: sensor readings", "session", session, "request", rq.Name, "err", err)
		case n > 0:
			req.Payload = pack
			return true
		case !logged:
			ss.log.Info("session request waits for sensor readings", "session", session, "request", rq.Name, "sensors", rq.Sensors)
		}
		if !wait.Sleep(ctx, snapshotRetry) {
			return false
		}
	}
}

// record logs a response in one line and publishes it.
func (ss *sessions) record(session string, rq config.SessionRequest, r coap.Response, err error) {
	if err != nil {
		ss.log.Warn("no response", "session", session, "request", rq.Name, "peer", r.Peer, "err", err)
	} else {
		ss.log.Info("response", "session", session, "request", rq.Name, "peer", r.Peer, "code", r.Code.String(),
			"mid", r.MessageID, "type", r.Type.String(), "token", hex.EncodeToString(r.Token), "payload", shown(r.Payload),
			"rtt", r.RTT.Round(10*time.Microsecond))
	}
	result := map[string]any{"request": rq.Name, "method": rq.Method, "path": rq.Path, "at": time.Now().UTC().Format(time.RFC3339Nano)}
	if err != nil {
		result["error"] = err.Error()
	} else {
		result["peer"], result["code"], result["mid"], result["type"] = r.Peer, r.Code.String(), r.MessageID, r.Type.String()
		result["token"], result["rtt_ms"] = hex.EncodeToString(r.Token), float64(r.RTT.Microseconds())/1000
		p := r.Payload
		if len(p) > maxShownPayload {
			p, result["payload_truncated_from"] = p[:maxShownPayload], len(r.Payload)
		}
		if utf8.Valid(p) {
			result["payload"] = string(p)
		} else {
			result["payload_hex"] = hex.EncodeToString(p)
		}
	}
	b := marshal(result)
	ss.mu.Lock()
	ss.last[session][rq.Name] = b
	ss.mu.Unlock()
	ss.publish(session)
	if err := ss.res[session+"/"+rq.Name].SetValue(b); err != nil {
		ss.log.Error("publish response", "session", session, "request", rq.Name, "err", err)
	}
}

func (ss *sessions) setConn(session, state string) {
	ss.mu.Lock()
	ss.conn[session] = state
	ss.mu.Unlock()
	ss.publish(session)
}

// publish writes the session's summary resource.
func (ss *sessions) publish(session string) {
	ss.mu.Lock()
	b := marshal(map[string]any{"session": session, "state": ss.conn[session], "requests": ss.last[session]})
	ss.mu.Unlock()
	if err := ss.res[session].SetValue(b); err != nil {
		ss.log.Error("publish session", "session", session, "err", err)
	}
}

// marshal encodes v as JSON, leaving <, > and & as they are (link formats are full of them).
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// shown is a payload as a log shows it: text as text, binary as hex, long ones cut.
func shown(p []byte) string {
	const max = 200
	cut := ""
	if len(p) > max {
		p, cut = p[:max], fmt.Sprintf("...(%d bytes)", len(p))
	}
	if utf8.Valid(p) {
		return string(p) + cut
	}
	return "0x" + hex.EncodeToString(p) + cut
}

func mustMethod(name string) coap.Method {
	m, err := coap.ParseMethod(name)
	if err != nil {
		return coap.GET // validated before; not reached
	}
	return m
}
