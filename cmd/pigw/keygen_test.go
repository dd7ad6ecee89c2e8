package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeygen(t *testing.T) {
	key := filepath.Join(t.TempDir(), "sign")
	for _, tc := range []struct {
		args   []string
		code   int
		output string
	}{
		{[]string{"keygen"}, 2, "Usage: pigw keygen --out KEY"},
		{[]string{"keygen", "--out", key}, 0, "private " + key},
		{[]string{"keygen", "--out", key}, 1, "exists: a key is not overwritten"},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != tc.code || !strings.Contains(out.String()+errb.String(), tc.output) {
			t.Errorf("pigw %s: exit %d, output %q; want %d and %q", strings.Join(tc.args, " "), code, out.String()+errb.String(), tc.code, tc.output)
		}
	}
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private key: %v, mode %v", err, st.Mode().Perm())
	}
}
