package interop

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestConfigErrors runs pigw on broken config files: it must exit 2 before
// serving, naming file:line:col and the key's path for every error.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []string // regexps, each must match one line of stderr; FILE is the path
	}{
		{"unknown field and bad media type", `coap:
  listen: ["127.0.0.1:1"]
  bogus_key: 1
  resources:
    - uri: r
      media_type: text/nonsense
`, []string{
			`^FILE:3:3: coap\.bogus_key: unknown field`,
			`^FILE:6:19: coap\.resources\[0\]\.media_type: "text/nonsense" is not a known media type`,
		}},
		{"bad duration and limit", `coap:
  discovery_leisure: soon
  limits: {max_resources: 0}
`, []string{
			`^FILE:2:\d+: coap\.discovery_leisure: `,
			`^FILE:3:\d+: coap\.limits\.max_resources: `,
		}},
		{"bad listen and method", `coap:
  listen: ["localhost:5683"]
  resources:
    - uri: r
      methods: [GET, FETCH]
`, []string{
			`^FILE:2:\d+: coap\.listen\[0\]: `,
			`^FILE:5:\d+: coap\.resources\[0\]\.methods\[1\]: `,
		}},
		{"not YAML", "coap: [\n", []string{`^FILE:\d+:\d+: `}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, pigwBin, "run", "--config", file, "--state-dir", filepath.Join(dir, "state"))
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("pigw run on a bad config: %v, want exit status 2\n%s", err, out)
			}
			lines := strings.Split(string(out), "\n")
			for _, w := range tc.want {
				re := regexp.MustCompile(strings.Replace(w, "FILE", regexp.QuoteMeta(file), 1))
				found := false
				for _, l := range lines {
					found = found || re.MatchString(l)
				}
				if !found {
					t.Errorf("no line matching %s in:\n%s", re, out)
				}
			}
			for _, bad := range []string{"panic", "DATA RACE", "msg=listening"} {
				if strings.Contains(string(out), bad) {
					t.Errorf("output contains %q:\n%s", bad, out)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "state")); err == nil {
				t.Errorf("a bad config created the state directory")
			}
		})
	}
}
