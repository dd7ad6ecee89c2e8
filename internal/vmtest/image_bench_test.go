package vmtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkImage prints the image's figures (make bench runs it): the build time cold (an
// empty Go build cache, so pigw is compiled for arm64 from scratch) and warm, the image's
// size raw, allocated and compressed with xz and zstd, and the time from QEMU's start to the
// first CoAP answer of the booted image, three boots. Run it with -benchtime 1x;
// PIGW_FIRMWARE_DIR adds the WiFi firmware, as make bench does.
func BenchmarkImage(b *testing.B) {
	for range b.N {
		benchImage(b)
	}
}

func benchImage(b *testing.B) {
	dir := b.TempDir()
	root, err := moduleRoot()
	if err != nil {
		b.Fatal(err)
	}
	host := filepath.Join(dir, "pigw-host")
	gobuild := exec.Command("go", "build", "-o", host, "./cmd/pigw")
	gobuild.Dir = root
	if out, err := gobuild.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v %s", err, out)
	}
	img := filepath.Join(dir, "pigw-rpi.img")
	// The default size and, with PIGW_FIRMWARE_DIR, the WiFi firmware: as make image.
	args := []string{"image", "build", "--out", img, "--version", "bench"}
	if fw := os.Getenv("PIGW_FIRMWARE_DIR"); fw != "" {
		args = append(args, "--firmware-dir", fw)
		fmt.Printf("image with the WiFi firmware of %s\n", fw)
	}
	build := func(env ...string) time.Duration {
		cmd := exec.Command(host, args...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), env...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pigw image build: %v\n%s", err, out)
		}
		return time.Since(start)
	}
	cold := build("GOCACHE=" + filepath.Join(dir, "gocache"))
	warm := build()
	fmt.Printf("image build: cold %v (empty Go build cache), warm %v\n", cold.Round(100*time.Millisecond), warm.Round(100*time.Millisecond))

	var st syscall.Stat_t
	if err := syscall.Stat(img, &st); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("image size: %d MiB raw, %.1f MiB allocated (sparse)\n", st.Size>>20, float64(st.Blocks*512)/(1<<20))
	for _, c := range [][]string{{"xz", "-T2", "-6", "-c"}, {"zstd", "-T2", "-19", "-c"}} {
		if _, err := exec.LookPath(c[0]); err != nil {
			fmt.Printf("image size %s: %s not installed\n", c[0], c[0])
			continue
		}
		n, took, err := compressedSize(img, c)
		if err != nil {
			b.Fatalf("%s: %v", c[0], err)
		}
		fmt.Printf("image size %s: %.1f MiB (%s, %v)\n", c[0], float64(n)/(1<<20), strings.Join(c, " "), took.Round(100*time.Millisecond))
	}

	for i := range 3 {
		cp := filepath.Join(dir, "boot.img")
		if out, err := exec.Command("cp", "--sparse=always", img, cp).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v %s", err, out)
		}
		vm := StartImage(b, ImageOptions{Image: cp, ForwardUDP: []int{5683}})
		firstAnswer(b, vm, session(b, vm, false))
		fmt.Printf("boot %d: first CoAP answer %v after QEMU started (arm64, TCG)\n", i+1, vm.Since().Round(100*time.Millisecond))
		vm.Kill()
	}
}

// compressedSize runs the compressor cmd on file and counts its output.
func compressedSize(file string, cmd []string) (int64, time.Duration, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	c := exec.Command(cmd[0], cmd[1:]...)
	c.Stdin = f
	var n countingWriter
	var stderr bytes.Buffer
	c.Stdout, c.Stderr = &n, &stderr
	start := time.Now()
	if err := c.Run(); err != nil {
		return 0, 0, fmt.Errorf("%v: %s", err, stderr.Bytes())
	}
	return int64(n), time.Since(start), nil
}

type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}
