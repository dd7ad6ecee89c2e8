package interop

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/cdp"
)

// TestWebBrowser: Debian's Chromium, headless, at a phone's size, loads the page from pigw
// run; a value changed with pigw coap put shows in its DOM without a reload. The screenshot
// it takes is written where the test says.
func TestWebBrowser(t *testing.T) {
	chromium := needTool(t, "chromium", "chromium")
	s, base := startWithPage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	b, err := cdp.Start(ctx, chromium, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	if err := b.Phone(ctx, 390, 844, 2); err != nil {
		t.Fatal(err)
	}
	if err := b.Navigate(ctx, base+"/"); err != nil {
		t.Fatal(err)
	}
	eval := func(expr string) (string, error) {
		v, err := b.Eval(ctx, expr)
		var s string
		_ = json.Unmarshal(v, &s) // null (no such element yet) stays ""
		return s, err
	}
	text := func(expr string) string {
		t.Helper()
		s, err := eval(expr)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	poll := func(what, expr, want string) { // errors too are retried: the page may be loading
		t.Helper()
		var got string
		var err error
		for ctx.Err() == nil {
			if got, err = eval(expr); err == nil && strings.Contains(got, want) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: %q (%v), want %q", what, got, err, want)
	}
	const value = `(document.querySelector('[data-field="resource:resource1"]') || {}).textContent || ""`
	poll("the value", value, "default_value")
	poll("the stream", `(document.getElementById("conn") || {}).textContent || ""`, "live") // the script runs and its stream is open
	if text(`String(window.matchMedia("(max-width: 400px)").matches)`) != "true" {
		t.Error("the page is not laid out at a phone's width (no viewport meta?)")
	}
	text(`window.notReloaded = "yes"`)

	start = time.Now()
	if r := pigwCoAP(t, nil, "put", "-e", "from the browser test", s.URL("resource1")); r.Code != 0 {
		t.Fatalf("pigw coap put: %s", r)
	}
	poll("the value after pigw coap put", value, "from the browser test")
	t.Logf("pigw coap put to the DOM: %v", time.Since(start).Round(time.Millisecond))
	if got := text(`window.notReloaded || ""`); got != "yes" {
		t.Errorf("the page was reloaded")
	}
	if w := text(`String(document.documentElement.scrollWidth)`); w != "390" {
		t.Errorf("the page is %s CSS pixels wide on a 390-pixel screen: it scrolls sideways", w)
	}

	png, err := b.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(os.TempDir(), "pigw-status-page-phone.png")
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot at 390x844, scale 2: %s (%d bytes)", out, len(png))
}
