package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// event is one Server-Sent Event as a client reads it.
type event struct{ typ, id, data string }

// openEvents opens an event stream and returns its events as they come.
func openEvents(t *testing.T, url string, header map[string]string) (<-chan event, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != 200 {
		return nil, resp
	}
	ch := make(chan event, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev event
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.typ != "" {
					ev.data = strings.Join(data, "\n")
					ch <- ev
				}
				ev, data = event{}, nil
			case strings.HasPrefix(line, "event: "):
				ev.typ = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				ev.id = line[len("id: "):]
			case strings.HasPrefix(line, "data: "):
				data = append(data, line[len("data: "):])
			}
		}
	}()
	return ch, resp
}

// next waits for the next event of type typ for which ok holds, skipping others.
func next(t *testing.T, ch <-chan event, typ string, ok func(event) bool) event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, open := <-ch:
			if !open {
				t.Fatalf("the stream ended before a %s event", typ)
			}
			if ev.typ == typ && (ok == nil || ok(ev)) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

func TestEvents(t *testing.T) {
	src := newFakeSource()
	for i := range 3 {
		src.logf("line %d", i+1)
	}
	_, hs := newTestServer(t, src, Limits{StatusEvery: 10 * time.Millisecond})

	// A new stream starts with the lines held, then the status.
	ch, resp := openEvents(t, hs.URL+"/api/events", nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if ev := next(t, ch, "log", nil); ev.id != "1" || ev.data != "line 1" {
		t.Errorf("first log event %+v, want id 1, line 1", ev)
	}
	st := next(t, ch, "status", nil)
	var sn Snapshot
	if err := json.Unmarshal([]byte(st.data), &sn); err != nil || sn.Resources[0].Value != "default_value" {
		t.Errorf("status event: %v %+v", err, sn.Resources)
	}

	// A change is sent without asking, and so is a new log line.
	src.set(func(sn *Snapshot) { sn.Resources[0].Value = "changed" })
	next(t, ch, "status", func(ev event) bool { return strings.Contains(ev.data, `"value":"changed"`) })
	src.logf("line 4")
	if ev := next(t, ch, "log", nil); ev.id != "4" || ev.data != "line 4" {
		t.Errorf("log event %+v, want id 4, line 4", ev)
	}

	// A client that reconnects goes on after its last line; ?after does the same.
	for _, h := range []struct {
		url    string
		header map[string]string
	}{{"/api/events", map[string]string{"Last-Event-ID": "2"}}, {"/api/events?after=2", nil}} {
		ch, _ := openEvents(t, hs.URL+h.url, h.header)
		if ev := next(t, ch, "log", nil); ev.id != "3" {
			t.Errorf("%s %v: first log event %+v, want id 3", h.url, h.header, ev)
		}
	}

	// The page's stream sends its sections as HTML, a line break in a value kept inside the
	// event's data.
	src.set(func(sn *Snapshot) { sn.Resources[0].Value = "two\r\nlines\revent: fake" })
	ch, _ = openEvents(t, hs.URL+"/api/events?format=html&after=4", nil)
	ev := next(t, ch, "page", nil)
	if !strings.Contains(ev.data, `<section id="resources">`) || !strings.Contains(ev.data, "two\nlines\nevent: fake</pre>") {
		t.Errorf("page event:\n%s", ev.data)
	}
	if strings.Contains(ev.data, "<html") {
		t.Errorf("the page event has the whole page, want its sections")
	}
}
