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

func TestExt4Blocks(t *testing.T) {
	sb := func(blocks, incompat uint32) []byte {
		h := make([]byte, 4096)
		binary.LittleEndian.PutUint16(h[1024+56:], 0xEF53)
		binary.LittleEndian.PutUint32(h[1024+4:], blocks)
		binary.LittleEndian.PutUint32(h[1024+96:], incompat)
		return h
	}
	tests := []struct {
		name       string
		head       []byte
		blocks     uint32
		recovering bool
	}{
		{"clean", sb(64512, 0x42), 64512, false},
		{"after a cut", sb(64512, 0x46), 64512, true},
		{"not ext4", make([]byte, 4096), 0, false},
		{"short read", nil, 0, false},
	}
	for _, tt := range tests {
		if b, r := ext4Blocks(tt.head); b != tt.blocks || r != tt.recovering {
			t.Errorf("%s: %d blocks, recovering %v; want %d, %v", tt.name, b, r, tt.blocks, tt.recovering)
		}
	}
}
