package flash_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/pigw/pigw/image/flash"
	"github.com/pigw/pigw/internal/progress"
)

// Writing an image: Inspect refuses devices that are unsafe to overwrite, Flash writes and
// verifies. Here the "card" is a file, so this runs anywhere; on a Pi-maker's laptop the path
// would be /dev/sdb and allowFile false.
func Example() {
	dir, err := os.MkdirTemp("", "flash-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	image, card := filepath.Join(dir, "pigw-rpi.img"), filepath.Join(dir, "card")
	if err := os.WriteFile(image, make([]byte, 3<<20), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(card, make([]byte, 8<<20), 0o644); err != nil {
		log.Fatal(err)
	}

	t, err := flash.Host{}.Inspect(card, true)
	if err != nil {
		log.Fatal(err) // refusing /dev/sda: it holds the running system's root file system ...
	}
	res, err := flash.Flash(context.Background(), image, t, flash.Options{Progress: nil})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote and verified", progress.HumanSize(res.Size), "sha256", res.SHA256[:12])
	// Output: wrote and verified 3.0 MiB sha256 bbd05cf6097a
}
