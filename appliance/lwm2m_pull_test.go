package appliance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/pigw/pigw/appliance/update"
	"github.com/pigw/pigw/appliance/update/bundle"
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
