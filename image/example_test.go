package image_test

import (
	"context"
	"fmt"
	"os"

	"github.com/pigw/pigw/image"
)

// Build an image from pigw's source tree with the I2C overlay; progress goes to stderr.
func ExampleBuild() {
	res, err := image.Build(context.Background(), image.Options{
		Out:        "pigw-rpi.img",
		Overlays:   []string{"overlays/i2c"},
		ModuleRoot: ".",
		Log:        os.Stderr,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range res.Partitions {
		fmt.Printf("%s: %d MiB\n", p.Name, p.Size>>20)
	}
}
