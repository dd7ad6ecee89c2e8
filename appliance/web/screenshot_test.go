package web

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/internal/cdp"
)

// TestScreenshot takes a picture of the whole page in headless Chromium at a phone's width,
// with the data of a gateway that has sensors, pins and a session (those of newFakeSource),
// and checks that it is the page's full height and no wider than the phone. With
// $PIGW_WEB_SCREENSHOT set it writes the PNG there: `make screenshot` makes the README's
// picture so.
func TestScreenshot(t *testing.T) {
	out := os.Getenv("PIGW_WEB_SCREENSHOT")
	if out == "" {
		out = filepath.Join(t.TempDir(), "status-page.png")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium: %v (make test-deps installs it)", err)
	}
	src := newFakeSource()
	src.set(func(sn *Snapshot) {
		sn.System.Hostname = "pigw-kitchen"
		sn.Resources = append(sn.Resources, Resource{URI: "notes/shopping", MediaType: "text/plain", Methods: "GET PUT POST DELETE",
			Dynamic: true, Value: "milk, eggs, coffee", Size: 18})
		sn.Sensors = append(sn.Sensors, Sensor{Name: "outside", Readings: []Reading{{Quantity: "temperature", Value: 7.25, Unit: "Cel"},
			{Quantity: "pressure", Value: 1013.2, Unit: "hPa"}}, At: sn.Sensors[0].At, AgeSeconds: 12})
		sn.Subsystems[1] = Subsystem{Name: "sessions", State: "running", Since: sn.Subsystems[0].Since,
			LastLog: `level=INFO msg=response session=upstream request=report code=2.04 rtt=3.2ms`}
	})
	for _, l := range []string{`level=INFO msg="pigw starting" version=v1.2.3`, `level=INFO msg="DHCP lease" link=wlan0 address=192.168.1.23/24`,
		`level=INFO msg=listening addr=0.0.0.0:5683`, `level=INFO msg="status page" url=http://[::]:80/`} {
		src.logf("time=2026-05-01T12:00:00Z %s", l)
	}
	_, addr := runServer(t, src, Limits{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := cdp.Start(ctx, chromium, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Phone(ctx, 390, 844, 2); err != nil {
		t.Fatal(err)
	}
	if err := b.Navigate(ctx, "http://"+addr+"/"); err != nil {
		t.Fatal(err)
	}
	height := 0
	for {
		v, err := b.Eval(ctx, `(document.getElementById("conn") || {}).textContent + "|" + document.documentElement.scrollHeight`)
		if err != nil && ctx.Err() != nil {
			t.Fatal(err)
		}
		var s string
		_ = json.Unmarshal(v, &s)
		if live, h, _ := strings.Cut(s, "|"); live == "● live" {
			height, _ = strconv.Atoi(h)
			if err := b.Phone(ctx, 390, height, 2); err != nil {
				t.Fatal(err)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the new size laid out
	shot, err := b.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.DecodeConfig(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is no PNG: %v", err)
	}
	if img.Width != 390*2 || img.Height != height*2 {
		t.Errorf("screenshot %dx%d, want %dx%d: the page at 390 CSS pixels, scale 2, whole", img.Width, img.Height, 390*2, height*2)
	}
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("the page at 390 CSS pixels wide, scale 2: %s (%d bytes)", out, len(shot))
}
