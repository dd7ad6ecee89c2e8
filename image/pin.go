//go:build pin

package image

// The kernel and firmware modules hold files, not code the binary needs: the builder finds
// them with go mod download. These imports keep them, and the arm64 kernel the QEMU tests
// boot the image with, pinned in go.mod and go.sum through go mod tidy.
import (
	_ "github.com/gokrazy/firmware"
	_ "github.com/gokrazy/kernel.arm64"
	_ "github.com/gokrazy/kernel.rpi"
)
