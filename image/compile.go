package image

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// compilePigw cross-compiles ./cmd/pigw of the module at root for the Pi into dir. The flags
// make the binary depend on the sources alone: no paths, no VCS stamp, no build ID from the
// host's toolchain location.
func compilePigw(ctx context.Context, root, version, dir string) (string, error) {
	out := filepath.Join(dir, "pigw")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X main.version="+version, "-o", out, "./cmd/pigw")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/pigw for linux/arm64 (in %s): %v\n%s", root, err, stderr.Bytes())
	}
	return out, nil
}

// checkBinary makes sure path is a static arm64 Linux executable, as the kernel runs init.
func checkBinary(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("--pigw %s: not an ELF executable: %w", path, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
		return fmt.Errorf("--pigw %s: a %v %v, want an arm64 executable (GOARCH=arm64)", path, f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("--pigw %s: dynamically linked, want a static binary (CGO_ENABLED=0)", path)
		}
	}
	return nil
}
