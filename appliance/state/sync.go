package state

import (
	"os"
	"path/filepath"
)

// syncDir fsyncs the directory dir, making the creation, renaming and
// removal of its entries durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// makeDir is os.MkdirAll(dir, 0700) followed by an fsync of the parent of
// every directory it created, so that the new directories themselves
// survive a power cut and not only the files later put into them.
func makeDir(dir string) error {
	dir = filepath.Clean(dir)
	existing := dir // the deepest ancestor (or dir itself) that exists
	for {
		if _, err := os.Stat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for p := dir; p != existing; {
		p = filepath.Dir(p)
		if err := syncDir(p); err != nil {
			return err
		}
	}
	return nil
}
