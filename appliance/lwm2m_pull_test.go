package appliance

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/state"
	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/appliance/update/bundle"
	"github.com/pigw/pigw/appliance/update/bundle/bundletest"
)

// TestPullHTTPPieces: the body reaches the Updater as the header whole and then pullPiece at a
// time, at their offsets, with More false on exactly the last piece, whether the server
// says the length or not; a 404 is errNotFound.
func TestPullHTTPPieces(t *testing.T) {
	h := bundle.HeaderSize
	for _, n := range []int{0, 100, h, h + 1, h + pullPiece, h + pullPiece + 1, h + 3*pullPiece - 7} {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d bytes chunked %v", n, chunked), func(t *testing.T) {
				body := make([]byte, n)
				for i := range body {
					body[i] = byte(i * 31)
				}
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if chunked {
						w.(http.Flusher).Flush() // no Content-Length: the body is chunked
					} else {
						w.Header().Set("Content-Length", fmt.Sprint(n))
					}
					_, _ = w.Write(body)
				}))
				defer srv.Close()
				u, _ := url.Parse(srv.URL + "/pigw.update")
				var got []byte
				var lasts int
				err := pullHTTP(context.Background(), u, func(p update.Piece) error {
					switch {
					case p.Offset != int64(len(got)):
						t.Errorf("piece at %d after %d bytes", p.Offset, len(got))
					case p.Offset == 0 && len(p.Data) != min(h, n):
						t.Errorf("first piece %d bytes, want the header's %d", len(p.Data), min(h, n))
					case p.Offset > 0 && (len(p.Data) > pullPiece || len(p.Data) == 0):
						t.Errorf("piece of %d bytes at %d", len(p.Data), p.Offset)
					case !chunked && p.Size1 != int64(n), chunked && p.Size1 != -1:
						t.Errorf("Size1 %d", p.Size1)
					}
					got = append(got, p.Data...)
					if !p.More {
						lasts++
					}
					return nil
				})
				if err != nil || string(got) != string(body) || lasts != 1 {
					t.Errorf("%v: %d of %d bytes, %d pieces without More", err, len(got), n, lasts)
				}
			})
		}
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/missing")
	if err := pullHTTP(context.Background(), u, func(update.Piece) error { return nil }); err == nil || !errors.Is(err, errNotFound) {
		t.Errorf("404: %v, want errNotFound", err)
	}
}

// TestPullStalls: an HTTP server that stops sending after the header ends the pull as a lost
// connection (Update Result 4) once nothing came for the stall time.
func TestPullStalls(t *testing.T) {
	dir := t.TempDir()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	rel := bundle.Release{Product: "pigw", BoardFamily: "rpi-arm64", Arch: "arm64", Version: "v1", Seq: 1, Floor: 1, KernelRelease: "k"}
	if err := bundletest.WriteRoot(filepath.Join(dir, "root"), rel, key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	slot := filepath.Join(dir, "slot")
	if err := os.WriteFile(slot, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := update.New(update.Config{Dir: st, Root: filepath.Join(dir, "root"), Layout: update.FileSlot{Path: slot}})
	if err != nil {
		t.Fatal(err)
	}
	root := make([]byte, 200<<10)
	next := rel
	next.Version, next.Seq = "v2", 2
	b, err := bundletest.Bundle(next.Manifest(bundletest.Root(root)), root, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		_, _ = w.Write(b[:bundle.HeaderSize+100])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // and nothing more
	}))
	defer srv.Close()
	f := &lwm2mFirmware{su: &sysUpdate{u: u}, log: slog.New(slog.DiscardHandler), stall: 300 * time.Millisecond}
	loc, _ := url.Parse(srv.URL + "/pigw.update")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a pull without its watchdog hangs
	defer cancel()
	f.fetch(ctx, loc)
	if s := u.Status(); s.State != update.Idle || s.Result != update.ResultConnection || !strings.Contains(s.Reason, "no data for 300ms") {
		t.Errorf("after a stalled pull: state %d result %d reason %q; want 0, 4 and the stall", s.State, s.Result, s.Reason)
	}
}
