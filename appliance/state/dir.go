package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dir is a durable key/value directory. Its methods are safe for
// concurrent use.
type Dir struct {
	dir string
}

// Open creates dir (and parents, mode 0700) if needed, removes leftover
// temporary files from interrupted writes, and returns the store.
func Open(dir string) (*Dir, error) {
	if err := makeDir(dir); err != nil {
		return nil, fmt.Errorf("open state dir %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open state dir %s: %w", dir, err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), tmpSuffix) || e.IsDir() {
			continue
		}
		// No directory fsync needed: if a power cut undoes the removal,
		// the next Open removes the file again.
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open state dir %s: remove leftover: %w", dir, err)
		}
	}
	return &Dir{dir: dir}, nil
}

// Path returns the directory given to Open.
func (d *Dir) Path() string { return d.dir }

// Put stores data under key atomically and durably: temp file in the same
// dir, write, fsync the file, rename over the final name, fsync the
// directory. When Put returns nil the data survives a power cut. After an
// error the key holds either its old or its new data.
func (d *Dir) Put(key string, data []byte) error {
	name, err := fileName(key)
	if err != nil {
		return err
	}
	if err := d.put(filepath.Join(d.dir, name), data); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

func (d *Dir) put(final string, data []byte) (err error) {
	f, err := os.CreateTemp(d.dir, "put-*"+tmpSuffix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(recordHeader(data)); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	// The rename is done: tmp no longer exists, and from here on an error
	// means "maybe not durable", not "not written".
	if err := syncDir(d.dir); err != nil {
		return fmt.Errorf("after rename to %s: %w", final, err)
	}
	return nil
}

// Get returns the data stored under key; a missing key gives an error that
// wraps fs.ErrNotExist, a damaged file one that wraps ErrCorrupt.
func (d *Dir) Get(key string) ([]byte, error) {
	name, err := fileName(key)
	if err != nil {
		return nil, err
	}
	data, err := readRecord(filepath.Join(d.dir, name))
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", key, err)
	}
	return data, nil
}

// Delete removes key durably (fsync of the directory); deleting a missing
// key is not an error.
func (d *Dir) Delete(key string) error {
	name, err := fileName(key)
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(d.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	// Sync even when the file was already gone: an earlier Delete may have
	// removed it and then failed to sync, and this call is its retry.
	if err := syncDir(d.dir); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	return nil
}

// All returns every stored key and its data. Temporary files and files
// without the ".rec" suffix are skipped. Damaged records are left out of
// the map and described, one error per file, in the returned error (built
// with errors.Join); the map holds the good entries even then.
func (d *Dir) All() (map[string][]byte, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("list state dir: %w", err)
	}
	m := make(map[string][]byte, len(entries))
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, recSuffix) {
			continue
		}
		path := filepath.Join(d.dir, name)
		key, ok := keyFromName(name)
		if !ok {
			errs = append(errs, fmt.Errorf("read %s: %w: file name is not a base64url-encoded key", path, ErrCorrupt))
			continue
		}
		data, err := readRecord(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since ReadDir
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m[key] = data
	}
	return m, errors.Join(errs...)
}

// readRecord reads and checks the record file at path. Its errors name
// path.
func readRecord(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data, err := decodeRecord(b)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}
