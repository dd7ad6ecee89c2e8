// Package cdp drives a headless Chromium through the DevTools protocol, as much as tests of
// the status page need: load a page at a phone's size, read its DOM while it changes by
// itself, and take a screenshot. Only a real browser shows that the page's script and event
// stream work; the protocol is JSON over a websocket, small enough to speak without a
// library.
package cdp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/websocket"
)

// Browser is one headless Chromium and the DevTools connection to its page.
type Browser struct {
	cmd  *exec.Cmd
	ws   *websocket.Conn
	next int
}

// Start runs chromium (the path of the binary) with its profile in dir, which must be empty
// and is left to the caller, and connects to its page.
func Start(ctx context.Context, chromium, dir string) (*Browser, error) {
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--user-data-dir="+dir,
		"--remote-debugging-port=0", "--remote-allow-origins=*", "about:blank")
	out, err := os.Create(filepath.Join(dir, "chromium.log"))
	if err != nil {
		return nil, fmt.Errorf("chromium log: %w", err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers too end with Close
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", chromium, err)
	}
	b := &Browser{cmd: cmd}
	if err := b.connect(ctx, dir); err != nil {
		b.Close()
		log, _ := os.ReadFile(filepath.Join(dir, "chromium.log"))
		return nil, fmt.Errorf("%w\nchromium's output:\n%s", err, log)
	}
	return b, nil
}

// connect reads the port Chromium chose from DevToolsActivePort and opens its page's socket.
func (b *Browser) connect(ctx context.Context, dir string) error {
	var port string
	for port == "" {
		if s, err := os.ReadFile(filepath.Join(dir, "DevToolsActivePort")); err == nil {
			port, _, _ = strings.Cut(string(s), "\n")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chromium did not open its DevTools port: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:"+port+"/json/list", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("list chromium's targets: %w", err)
	}
	defer resp.Body.Close()
	var targets []struct{ Type, WebSocketDebuggerURL string }
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		return fmt.Errorf("list chromium's targets: %w", err)
	}
	for _, t := range targets {
		if t.Type == "page" {
			if b.ws, err = websocket.Dial(t.WebSocketDebuggerURL, "", "http://127.0.0.1/"); err != nil {
				return fmt.Errorf("connect to %s: %w", t.WebSocketDebuggerURL, err)
			}
			return nil
		}
	}
	return errors.New("chromium has no page")
}

// Call calls a DevTools method and decodes its result into result (nil to drop it). Events
// that arrive meanwhile are dropped: callers poll.
func (b *Browser) Call(ctx context.Context, method string, params, result any) error {
	if deadline, ok := ctx.Deadline(); ok {
		_ = b.ws.SetDeadline(deadline)
	} else {
		_ = b.ws.SetDeadline(time.Now().Add(time.Minute))
	}
	b.next++
	id := b.next
	if err := websocket.JSON.Send(b.ws, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	for {
		var msg struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := websocket.JSON.Receive(b.ws, &msg); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		switch {
		case msg.ID != id:
			continue
		case msg.Error != nil:
			return fmt.Errorf("%s: %s (%d)", method, msg.Error.Message, msg.Error.Code)
		case result != nil:
			return json.Unmarshal(msg.Result, result)
		}
		return nil
	}
}

// Eval evaluates a JavaScript expression in the page and returns its value as JSON.
func (b *Browser) Eval(ctx context.Context, expr string) (json.RawMessage, error) {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.Call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r); err != nil {
		return nil, err
	}
	if r.ExceptionDetails != nil {
		return nil, fmt.Errorf("evaluate %s: %s", expr, r.ExceptionDetails.Text)
	}
	return r.Result.Value, nil
}

// Phone makes the page a phone's screen: width by height CSS pixels, scale device pixels
// each, with touch and a mobile viewport.
func (b *Browser) Phone(ctx context.Context, width, height int, scale float64) error {
	return b.Call(ctx, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": scale, "mobile": true}, nil)
}

// Navigate loads url in the page.
func (b *Browser) Navigate(ctx context.Context, url string) error {
	var r struct {
		ErrorText string `json:"errorText"`
	}
	if err := b.Call(ctx, "Page.navigate", map[string]any{"url": url}, &r); err != nil {
		return err
	}
	if r.ErrorText != "" {
		return fmt.Errorf("navigate to %s: %s", url, r.ErrorText)
	}
	return nil
}

// Screenshot is the page's viewport as PNG.
func (b *Browser) Screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := b.Call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// Close ends the browser and the helper processes it started.
func (b *Browser) Close() {
	if b.ws != nil {
		b.ws.Close()
	}
	_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	_ = b.cmd.Wait() // "killed"
	// The helpers are gone when the group is empty.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(-b.cmd.Process.Pid, 0) != nil {
			return
		}
	}
}
