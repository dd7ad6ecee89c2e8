package image

import (
	"encoding/binary"
	"fmt"
)

// /perm holds the appliance's durable state, written as temp file + fsync + rename + directory
// fsync. Only a journal makes that survive a power cut: without one, a crash between the
// rename and the writeback of the directory and bitmaps leaves damage that e2fsck has to
// guess at. So the filesystem gets an internal jbd2 journal, as mke2fs makes it: inode 8, one
// extent, an empty log (nothing to replay) whose superblock names the filesystem's UUID.
//
// The journal superblock is a plain v2 one with no feature flags, so no journal checksums
// are needed. Its layout is that of the kernel's Documentation/filesystems/ext4/journal.rst,
// and, unlike the rest of ext4, it is big-endian.

const (
	e4JournalIno       = 8
	e4CompatHasJournal = 0x4 // s_feature_compat
	e4JnlBackupBlocks  = 1   // s_jnl_backup_type: s_jnl_blocks copies the journal inode's i_block
	e4ModeFile         = 0o100000

	jbd2Magic        = 0xc03b3998
	jbd2SuperblockV2 = 4
	jbd2MinBlocks    = 1024 // the kernel refuses a smaller journal (JBD2_MIN_JOURNAL_BLOCKS)

	// jbd2MaxBlocks caps the journal at 64 MiB. Without flex_bg every group starts with its
	// bitmaps and inode table, so no free run reaches 32768 blocks and a larger journal would
	// need several extents across groups. 64 MiB is far more than the small synchronous
	// writes of /perm need between commits.
	jbd2MaxBlocks = 16384
)

// journalBlocks returns the journal's size in blocks for a filesystem of fsBlocks 4 KiB
// blocks. The steps are those of mke2fs (e2fsprogs lib/ext2fs/mkjournal.c,
// ext2fs_default_journal_size, checked against mke2fs 1.47.0 on 4 KiB-block filesystems):
//
//	fewer than 2048 blocks      no journal (an error here: /perm must have one)
//	fewer than 32768 (128 MiB)  1024 blocks (4 MiB)
//	fewer than 256Ki (1 GiB)    4096 blocks (16 MiB)
//	fewer than 512Ki (2 GiB)    8192 blocks (32 MiB)
//	fewer than 4Mi (16 GiB)     16384 blocks (64 MiB)
//	larger                      32768, 65536, 131072, then 262144 blocks in mke2fs;
//	                            16384 here (see jbd2MaxBlocks)
func journalBlocks(fsBlocks int64) (int64, error) {
	switch {
	case fsBlocks < 2048:
		return 0, fmt.Errorf("ext4: %d blocks is too small for a journal (2048 at least)", fsBlocks)
	case fsBlocks < 32768:
		return jbd2MinBlocks, nil
	case fsBlocks < 256<<10:
		return 4096, nil
	case fsBlocks < 512<<10:
		return 8192, nil
	default:
		return jbd2MaxBlocks, nil
	}
}

// journalSuper returns the first block of an empty journal of n blocks: its superblock.
// s_start 0 says the log is clean, s_sequence 1 is the first transaction the kernel will
// write. As with mke2fs, s_uuid is the filesystem's UUID, there is one user, and s_users is
// left zero (it only names the filesystems of an external journal).
func journalSuper(uuid [16]byte, n int64) []byte {
	be := binary.BigEndian
	b := make([]byte, e4Block)
	be.PutUint32(b[0x0:], jbd2Magic)        // h_magic
	be.PutUint32(b[0x4:], jbd2SuperblockV2) // h_blocktype
	be.PutUint32(b[0xc:], e4Block)          // s_blocksize
	be.PutUint32(b[0x10:], uint32(n))       // s_maxlen
	be.PutUint32(b[0x14:], 1)               // s_first: the log follows this block
	be.PutUint32(b[0x18:], 1)               // s_sequence
	copy(b[0x30:0x40], uuid[:])             // s_uuid
	be.PutUint32(b[0x40:], 1)               // s_nr_users
	return b
}

// journalBackup copies the journal inode's extent root and size into the superblock's
// s_jnl_blocks, from which e2fsck rebuilds the inode if it is ever damaged.
func journalBackup(sb, inode []byte) {
	sb[253] = e4JnlBackupBlocks
	copy(sb[268:328], inode[40:100])  // s_jnl_blocks[0..14] = i_block
	copy(sb[328:332], inode[108:112]) // [15] = i_size_high
	copy(sb[332:336], inode[4:8])     // [16] = i_size
}
