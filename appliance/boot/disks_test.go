package boot

import (
	"encoding/binary"
	"testing"
)

func TestRecognizeDisks(t *testing.T) {
	ext4 := func(label string) []byte {
		h := make([]byte, 4096)
		binary.LittleEndian.PutUint16(h[1024+56:], 0xEF53)
		copy(h[1024+120:], label)
		return h
	}
	fat32 := func(label string) []byte {
		h := make([]byte, 4096)
		h[510], h[511] = 0x55, 0xAA
		copy(h[82:], "FAT32   ")
		copy(h[71:82], label+"           ")
		return h
	}
	tests := []struct {
		name            string
		head            []byte
		perm, boot, fat bool
		description     string
	}{
		{"perm", ext4("perm"), true, false, false, `ext4 labelled "perm"`},
		{"other ext4", ext4("data"), false, false, false, `ext4 labelled "data"`},
		{"boot", fat32("PIGWBOOT"), false, true, true, "FAT"},
		{"BOOT", fat32("BOOT"), false, true, true, "FAT"},
		{"unlabelled FAT", fat32("NO NAME"), false, false, true, "FAT"},
		{"zeroed", make([]byte, 4096), false, false, false, "no filesystem (zeroed superblock area)"},
	}
	for _, tt := range tests {
		perm, _ := isPerm(tt.head)
		boot, fat := isBoot(tt.head)
		if perm != tt.perm || boot != tt.boot || fat != tt.fat || describe(tt.head) != tt.description {
			t.Errorf("%s: perm %v boot %v fat %v %q", tt.name, perm, boot, fat, describe(tt.head))
		}
	}
}
