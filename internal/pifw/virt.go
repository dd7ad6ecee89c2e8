package pifw

import (
	"fmt"
	"io/fs"
	"strings"
)

// VirtCmdline is the kernel command line the firmware would give the kernel of an image, for
// booting that image on QEMU's virt machine (whose kernel and device tree the harness brings):
// config.txt's cmdline= file (cmdline.txt by default) as board reads it, or, on the one boot
// after a reboot with the tryboot argument, tryboot.txt's (Pi 4 and 5 firmware; the Pi
// documentation's "tryboot" section). The consoles are mapped to virt's: console=serial0
// becomes ttyAMA0 (virt's PL011), console=tty1 is dropped (virt has no screen).
func VirtCmdline(files fs.FS, board Board, tryboot bool) (string, error) {
	config := "config.txt"
	if tryboot {
		config = "tryboot.txt"
	}
	settings, _, err := ReadConfig(files, config, board)
	if err != nil {
		return "", err
	}
	name := "cmdline.txt"
	for _, s := range settings {
		if s.Name == "cmdline" {
			name = s.Value
		}
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		return "", fmt.Errorf("kernel command line (%s): %w", config, err)
	}
	var words []string
	for _, w := range strings.Fields(string(b)) {
		switch {
		case strings.HasPrefix(w, "console=tty") && !strings.HasPrefix(w, "console=ttyAMA"):
			continue
		case strings.HasPrefix(w, "console=serial0"), strings.HasPrefix(w, "console=serial1"):
			w = "console=ttyAMA0" + w[len("console=serial0"):]
		}
		words = append(words, w)
	}
	return strings.Join(words, " "), nil
}
