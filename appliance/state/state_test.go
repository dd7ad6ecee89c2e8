package state_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pigw/pigw/appliance/state"
)

func open(t *testing.T, dir string) *state.Dir {
	t.Helper()
	d, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// recordPath is the documented on-disk name of key.
func recordPath(d *state.Dir, key string) string {
	return filepath.Join(d.Path(), base64.RawURLEncoding.EncodeToString([]byte(key))+".rec")
}

func TestRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name    string
		key     string
		value   []byte
		wantErr string // substring of the Put error; "" means success
	}{
		{name: "simple", key: "a", value: []byte("1")},
		{name: "slashes", key: "a/b/c", value: []byte("abc")},
		{name: "uri", key: "coap://[fe80::1%eth0]:5683/sensors/temp?unit=C", value: []byte("21.5")},
		{name: "unicode", key: "héllo/世界/🌡", value: []byte("ü")},
		{name: "dotdot", key: "..", value: []byte("up")},
		{name: "dot", key: ".", value: []byte("here")},
		{name: "traversal", key: "../../etc/passwd", value: []byte("no")},
		{name: "binary", key: "\x00\xff\n\r\t/", value: []byte{0, 1, 2}},
		{name: "empty value", key: "empty", value: []byte{}},
		{name: "nil value", key: "nil", value: nil},
		{name: "large value", key: "large", value: bytes.Repeat([]byte("0123456789"), 100_000)},
		{name: "longest key", key: strings.Repeat("k", state.MaxKeyLen), value: []byte("max")},
		{name: "empty key", key: "", wantErr: "must not be empty"},
		{name: "key one too long", key: strings.Repeat("k", state.MaxKeyLen+1), wantErr: "at most 188 bytes"},
		{name: "very long key", key: strings.Repeat("k/", 5000), wantErr: "at most 188 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := open(t, t.TempDir())
			err := d.Put(tt.key, tt.value)
			if tt.wantErr != "" {
				if !errors.Is(err, state.ErrInvalidKey) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Put: got error %v, want ErrInvalidKey containing %q", err, tt.wantErr)
				}
				if _, err := d.Get(tt.key); !errors.Is(err, state.ErrInvalidKey) {
					t.Errorf("Get: got error %v, want ErrInvalidKey", err)
				}
				if err := d.Delete(tt.key); !errors.Is(err, state.ErrInvalidKey) {
					t.Errorf("Delete: got error %v, want ErrInvalidKey", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, err := d.Get(tt.key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(got, tt.value) {
				t.Fatalf("Get: got %d bytes, want %d", len(got), len(tt.value))
			}
			all, err := d.All()
			if err != nil {
				t.Fatalf("All: %v", err)
			}
			if len(all) != 1 || !bytes.Equal(all[tt.key], tt.value) {
				t.Fatalf("All: got %d entries, want just %q", len(all), tt.key)
			}
			// Overwrite, then delete twice.
			if err := d.Put(tt.key, []byte("new")); err != nil {
				t.Fatalf("Put again: %v", err)
			}
			if got, err := d.Get(tt.key); err != nil || string(got) != "new" {
				t.Fatalf("Get after overwrite: %q, %v", got, err)
			}
			for i := range 2 {
				if err := d.Delete(tt.key); err != nil {
					t.Fatalf("Delete #%d: %v", i+1, err)
				}
			}
			if _, err := d.Get(tt.key); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Get after Delete: got error %v, want fs.ErrNotExist", err)
			}
			if entries, _ := os.ReadDir(d.Path()); len(entries) != 0 {
				t.Fatalf("directory not empty after Delete: %v", entries)
			}
		})
	}
}

func TestReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "perm", "state")
	want := map[string][]byte{"a/b": []byte("1"), "..": []byte("2"), "c": {}}
	d := open(t, dir)
	for k, v := range want {
		if err := d.Put(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("dir mode %v, want no group/other access", perm)
	}
	got, err := open(t, dir).All()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("All after reopen: got %d entries, want %d", len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, v) {
			t.Errorf("All after reopen: %q = %q (present %v), want %q", k, g, ok, v)
		}
	}
}

func TestOpenNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := state.Open(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Open(file): got error %v, want one naming %s", err, file)
	}
}

func TestLeftoverTempFiles(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir)
	if err := d.Put("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// What an interrupted Put leaves behind: temp files in any state.
	leftovers := map[string][]byte{"put-1.tmp": nil, "put-2.tmp": []byte("PGS1 half a rec"), "put-3.tmp": {}}
	for name, data := range leftovers {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if all, err := d.All(); err != nil || len(all) != 1 || string(all["k"]) != "v" {
		t.Fatalf("All with temp files: got %q, %v; want only k=v", all, err)
	}
	d = open(t, dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("Open left %s", e.Name())
		}
	}
	if len(entries) != 1 {
		t.Errorf("after Open: %d entries, want 1", len(entries))
	}
	if got, err := d.Get("k"); err != nil || string(got) != "v" {
		t.Fatalf("Get: %q, %v", got, err)
	}
}

func TestCorrupt(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"flip data byte", func(b []byte) []byte { b[len(b)-1] ^= 0x01; return b }},
		{"flip magic", func(b []byte) []byte { b[0] ^= 0x80; return b }},
		{"flip length", func(b []byte) []byte { b[11] ^= 0x04; return b }},
		{"flip checksum", func(b []byte) []byte { b[15] ^= 0x10; return b }},
		{"truncate half", func(b []byte) []byte { return b[:len(b)/2] }},
		{"truncate data", func(b []byte) []byte { return b[:len(b)-1] }},
		{"truncate to header", func(b []byte) []byte { return b[:16] }},
		{"empty file", func(b []byte) []byte { return nil }},
		{"trailing garbage", func(b []byte) []byte { return append(b, 'x') }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := open(t, t.TempDir())
			for _, k := range []string{"good/1", "bad", "good/2"} {
				if err := d.Put(k, []byte("value of "+k)); err != nil {
					t.Fatal(err)
				}
			}
			path := recordPath(d, "bad")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}

			_, err = d.Get("bad")
			if !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Errorf("Get: got error %v, want ErrCorrupt naming %s", err, path)
			}
			all, err := d.All()
			if !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Errorf("All: got error %v, want ErrCorrupt naming %s", err, path)
			}
			if len(all) != 2 || string(all["good/1"]) != "value of good/1" || string(all["good/2"]) != "value of good/2" {
				t.Errorf("All: got %q, want the two good entries", all)
			}
		})
	}
}

func TestAllForeignFiles(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir)
	if err := d.Put("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"README", "!!!.rec", "YQ.rec.bak"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	all, err := d.All()
	if !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), "!!!.rec") {
		t.Errorf("All: got error %v, want ErrCorrupt naming !!!.rec", err)
	}
	if strings.Contains(fmt.Sprint(err), "README") || strings.Contains(fmt.Sprint(err), ".bak") {
		t.Errorf("All: error %v mentions a file without the .rec suffix", err)
	}
	if len(all) != 1 || string(all["k"]) != "v" {
		t.Errorf("All: got %q, want only k=v", all)
	}
}

// A second file name that decodes to a key (base64 decoders skip '\r' and '\n') must not
// bring the key back after Delete. Found by FuzzKeyFromName.
func TestAllSecondNameOfAKey(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir)
	if err := d.Put("k", []byte("old")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(recordPath(d, "k")) // "aw.rec"
	if err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(dir, "a\nw.rec")
	if err := os.WriteFile(second, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete("k"); err != nil {
		t.Fatal(err)
	}
	all, err := d.All()
	if _, ok := all["k"]; ok {
		t.Errorf("All: deleted key k is back with %q from %q", all["k"], second)
	}
	if !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), second) {
		t.Errorf("All: got error %v, want ErrCorrupt naming %q", err, second)
	}
}

func TestConcurrent(t *testing.T) {
	d := open(t, t.TempDir())
	const workers, puts = 8, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range puts {
				// Everybody writes "shared"; each also has its own key.
				for _, k := range []string{"shared", fmt.Sprintf("own/%d", w)} {
					if err := d.Put(k, []byte(fmt.Sprintf("%d/%d", w, i))); err != nil {
						t.Error(err)
						return
					}
				}
				if _, err := d.Get("shared"); err != nil {
					t.Error(err)
				}
				if _, err := d.All(); err != nil {
					t.Error(err)
				}
			}
			if err := d.Delete(fmt.Sprintf("own/%d", w)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	all, err := d.All()
	if err != nil {
		t.Fatal(err)
	}
	var w, i int
	if _, err := fmt.Sscanf(string(all["shared"]), "%d/%d", &w, &i); err != nil || i != puts-1 {
		t.Errorf("shared = %q, want some worker's last value", all["shared"])
	}
	if len(all) != 1 {
		t.Errorf("All: %d entries, want 1", len(all))
	}
	entries, err := os.ReadDir(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want 1 (temp files left?)", len(entries))
	}
}
