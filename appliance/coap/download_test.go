package coap

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/plgd-dev/go-coap/v3/message/codes"
)

// TestDownload fetches values block by block: whole, in one block, with the blocks smaller
// than asked, and with fn ending the transfer.
func TestDownload(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80000 bytes: 79 blocks
	srv, addr := newTestServer(t, Config{Limits: Limits{MaxValueSize: len(big)}})
	for path, v := range map[string][]byte{"big": big, "small": []byte("tiny"), "exact": big[:2048]} {
		if _, err := srv.AddResource(path, WithValue(v), WithMethods(GET)); err != nil {
			t.Fatal(err)
		}
	}
	_, s := testSession(t, addr, SessionOptions{})
	for _, tc := range []struct {
		path   string
		want   []byte
		blocks int
	}{{"big", big, 79}, {"small", []byte("tiny"), 1}, {"exact", big[:2048], 2}} {
		var got []byte
		blocks := 0
		err := s.Download(ctx(t), tc.path, func(off int64, data []byte, more bool) error {
			if off != int64(len(got)) {
				t.Errorf("%s: block at %d after %d bytes", tc.path, off, len(got))
			}
			got = append(got, data...)
			blocks++
			if more != (len(got) < len(tc.want)) {
				t.Errorf("%s: more %v at %d of %d bytes", tc.path, more, len(got), len(tc.want))
			}
			return nil
		})
		if err != nil || !bytes.Equal(got, tc.want) || blocks != tc.blocks {
			t.Errorf("%s: %v, %d bytes in %d blocks; want %d in %d", tc.path, err, len(got), blocks, len(tc.want), tc.blocks)
		}
	}
	stop := errors.New("enough")
	err := s.Download(ctx(t), "big", func(off int64, _ []byte, _ bool) error {
		if off >= 4096 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("fn's error: got %v", err)
	}
	var answer *AnswerError
	if err := s.Download(ctx(t), "missing", func(int64, []byte, bool) error { return nil }); !errors.As(err, &answer) || answer.Code != Code(codes.NotFound) || !strings.Contains(err.Error(), "4.04") {
		t.Errorf("a missing path: %v, want an AnswerError of 4.04", err)
	}
}
