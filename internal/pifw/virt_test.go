package pifw

import (
	"testing"
	"testing/fstest"
)

func TestVirtCmdline(t *testing.T) {
	files := fstest.MapFS{
		"config.txt":  {Data: []byte("arm_64bit=1\n[pi4]\ncmdline=pi4.txt\n[all]\n")},
		"tryboot.txt": {Data: []byte("include config.txt\n[all]\ncmdline=trycmd.txt\n")},
		"cmdline.txt": {Data: []byte("console=tty1 console=serial0,115200 root=PARTUUID=1a2b3c4d-02 panic=10\n")},
		"trycmd.txt":  {Data: []byte("console=tty1 console=serial0,115200 root=PARTUUID=1a2b3c4d-03 panic=10\n")},
		"pi4.txt":     {Data: []byte("root=/dev/sda2\n")},
	}
	pi4 := Board{Model: "Raspberry Pi 4 Model B", ModelFilters: []string{"pi4"}}
	for _, tc := range []struct {
		name    string
		board   Board
		tryboot bool
		want    string
	}{
		{"Pi 3", Pi3B, false, "console=ttyAMA0,115200 root=PARTUUID=1a2b3c4d-02 panic=10"},
		{"Pi 3 after tryboot", Pi3B, true, "console=ttyAMA0,115200 root=PARTUUID=1a2b3c4d-03 panic=10"},
		{"a [pi4] section", pi4, false, "root=/dev/sda2"},
		{"tryboot.txt's cmdline= after the include", pi4, true, "console=ttyAMA0,115200 root=PARTUUID=1a2b3c4d-03 panic=10"},
	} {
		got, err := VirtCmdline(files, tc.board, tc.tryboot)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := VirtCmdline(fstest.MapFS{"config.txt": files["config.txt"]}, Pi3B, true); err == nil {
		t.Error("tryboot without tryboot.txt: no error")
	}
}
