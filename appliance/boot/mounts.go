package boot

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

// essentials are the filesystems every Linux userland expects.
var essentials = []mount{
	{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "gid=5,mode=620,ptmxmode=000"},
	{"tmpfs", "/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755,size=16m"},
	{"tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777,size=32m"},
}

func mountEssentials() []error {
	var errs []error
	for _, m := range essentials {
		if err := doMount(m); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// doMount mounts m, creating the mount point; a filesystem already mounted there is fine.
func doMount(m mount) error {
	if err := os.MkdirAll(m.target, 0o755); err != nil && !errors.Is(err, unix.EROFS) {
		return fmt.Errorf("mkdir %s: %w", m.target, err)
	}
	err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data)
	if err == nil || errors.Is(err, unix.EBUSY) {
		return nil
	}
	return fmt.Errorf("mount %s on %s (%s): %w", m.source, m.target, m.fstype, err)
}

// mountPerm mounts /perm and returns its device.
func mountPerm(log interface{ Info(string, ...any) }) (string, error) {
	dev, err := findDisk("pigw_perm", isPerm)
	if err != nil {
		return "", fmt.Errorf("an ext4 filesystem labelled %q: %w", PermLabel, err)
	}
	m := mount{dev, PermDir, "ext4", unix.MS_NOATIME | unix.MS_NODEV | unix.MS_NOSUID, ""}
	before, _ := readHead(dev)
	if err := doMount(m); err != nil {
		return "", err
	}
	log.Info("mounted /perm", "device", dev)
	again, err := remountIfResized(dev, before, m)
	if err != nil {
		return "", err
	}
	if again {
		log.Info("mounted /perm again: replaying its journal changed its size (a growth cut short)", "device", dev)
	}
	return dev, nil
}

// remountIfResized mounts /perm again when the kernel's journal replay at mount changed the
// filesystem's size, as it does after a power cut while /perm grew (appliance/boot/grow).
// The kernel sizes its view of the filesystem (the number of block groups) from the
// superblock as it was before the replay, and keeps that view until the next mount: the
// filesystem works in it, but growing it again from there trips a BUG_ON in the kernel's
// online resize (seen on Linux 7.1, fs/ext4/resize.c). Unmounted and mounted again, the
// kernel reads the replayed superblock. before is the partition's head read before the
// mount; nothing is done when it was not waiting for a replay.
func remountIfResized(dev string, before []byte, m mount) (bool, error) {
	was, recovering := ext4Blocks(before)
	if !recovering {
		return false, nil
	}
	after, err := readHead(dev)
	if err != nil {
		return false, err
	}
	if now, _ := ext4Blocks(after); now == was {
		return false, nil
	}
	if err := unix.Unmount(m.target, 0); err != nil {
		return false, fmt.Errorf("unmount %s to mount it again after its journal changed its size: %w", m.target, err)
	}
	return true, doMount(m)
}

func mountBoot(log interface{ Info(string, ...any) }) error {
	dev, err := findDisk("pigw_boot", isBoot)
	if err != nil {
		return fmt.Errorf("a FAT boot partition: %w", err)
	}
	var errs []error
	for _, opts := range bootMountOptions {
		err := doMount(mount{dev, BootDir, "vfat", unix.MS_RDONLY | unix.MS_NODEV | unix.MS_NOSUID | unix.MS_NOEXEC, opts})
		if err == nil {
			log.Info("mounted the boot partition read-only", "device", dev, "at", BootDir, "options", opts)
			return nil
		}
		errs = append(errs, err)
		if !errors.Is(err, unix.EINVAL) {
			break
		}
	}
	return errors.Join(errs...)
}

// bootMountOptions are tried in turn: the kernel refuses (EINVAL) a character set it lacks,
// and kernels differ in which they build in (Debian's has ascii as a module, gokrazy's
// kernels build in cp437 and iso8859-1 only). pigw.yaml is ASCII in any of them.
var bootMountOptions = []string{"codepage=437,iocharset=ascii", "codepage=437,iocharset=iso8859-1", ""}

// Unmount syncs and unmounts /perm (and the boot partition), for a clean stop.
func Unmount() error {
	unix.Sync()
	var errs []error
	for _, dir := range []string{PermDir, BootDir} {
		if err := unix.Unmount(dir, 0); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}
