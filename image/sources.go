package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"
)

// The kernel and the Pi firmware come from Go modules pinned in pigw's go.mod, so that the
// module proxy and go.sum make them reproducible and nothing but Go is needed to fetch them.
const (
	firmwareModule = "github.com/gokrazy/firmware"
	kernelModule   = "github.com/gokrazy/kernel.rpi"
)

// A goModule is a downloaded module: its directory and version.
type goModule struct {
	Path, Version, Dir string
	Error              string
}

// downloadModule returns the module as root's go.mod pins it, downloading it when needed.
func downloadModule(ctx context.Context, root, path string) (goModule, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", path)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var m goModule
	if jerr := json.Unmarshal(out, &m); jerr != nil || err != nil || m.Error != "" || m.Dir == "" {
		return m, fmt.Errorf("go mod download %s (in %s): %v %s%s", path, root, err, m.Error, stderr.Bytes())
	}
	return m, nil
}

var pseudoTime = regexp.MustCompile(`-(?:0\.)?(\d{14})-[0-9a-f]{12}$`)

// versionTime is the commit time in a pseudo-version such as v0.0.0-20251127164438-9778ec0261de.
func versionTime(v string) (time.Time, bool) {
	m := pseudoTime.FindStringSubmatch(v)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102150405", m[1])
	return t, err == nil
}

// kernelVersion is the one directory under lib/modules of the kernel module.
func kernelVersion(kernelDir string) (string, error) {
	ents, err := os.ReadDir(filepath.Join(kernelDir, "lib", "modules"))
	if err != nil || len(ents) != 1 {
		return "", fmt.Errorf("%s: want one kernel under lib/modules: %v", kernelDir, err)
	}
	return ents[0].Name(), nil
}

// wifiFirmware finds the Pi's WiFi firmware in dir, laid out as Debian's firmware-brcm80211
// and wireless-regdb packages unpack (under lib/firmware or usr/lib/firmware): the brcm
// directory and the cypress one its .bin files link to, and regulatory.db with its signature
// (Debian ships regulatory.db-debian for update-alternatives to link; that one is taken then).
// It returns directories and files by their path under lib/firmware.
func wifiFirmware(dir string) (dirs, files map[string]string) {
	dirs, files = map[string]string{}, map[string]string{}
	for _, base := range []string{"usr/lib/firmware", "lib/firmware"} { // lib/ wins
		d := filepath.Join(dir, base)
		for _, sub := range []string{"brcm", "cypress"} {
			if fi, err := os.Stat(filepath.Join(d, sub)); err == nil && fi.IsDir() {
				dirs[sub] = filepath.Join(d, sub)
			}
		}
		for _, f := range []string{"regulatory.db", "regulatory.db.p7s"} {
			for _, src := range []string{f + "-debian", f} {
				if fi, err := os.Stat(filepath.Join(d, src)); err == nil && fi.Mode().IsRegular() {
					files[f] = filepath.Join(d, src)
				}
			}
		}
	}
	return dirs, files
}
