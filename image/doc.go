// Package image builds the SD-card image of a pigw appliance: an MBR disk with a FAT32 boot
// partition (Pi firmware, kernel, device trees, config.txt, cmdline.txt, pigw.yaml), two root
// partitions (A: a squashfs with /pigw as init; B: the same, to be overwritten by an update
// while A runs) and an ext4 /perm.
//
// The kernel and the firmware come from Go modules pinned in go.mod, and every filesystem is
// written here in Go, so that a build needs neither root nor loop devices nor host mkfs
// tools, and the same inputs give the same bytes: entries are written in sorted order with
// one fixed time, and the disk ID, volume ID, UUID and hash seed derive from a digest of the
// inputs. See Build.
package image
