package image

import (
	"os"
	"os/exec"
	"testing"
)

// need skips the test when a host tool is missing, and fails it under CI=true, where make
// test-deps has installed them.
func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing (make test-deps installs it)", tool)
			}
			t.Skipf("%s is missing (make test-deps installs it)", tool)
		}
	}
}
