package image

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// A node is one entry of a file tree that goes into a filesystem: a directory, a regular file
// (its bytes in data, or read from the host file src) or a symlink.
type node struct {
	mode   fs.FileMode // permission bits plus fs.ModeDir or fs.ModeSymlink
	data   []byte
	src    string
	target string // of a symlink
	size   int64  // of a regular file
}

func (n *node) isDir() bool     { return n.mode.IsDir() }
func (n *node) isSymlink() bool { return n.mode&fs.ModeSymlink != 0 }

// open returns the content of a regular file.
func (n *node) open() (io.ReadCloser, error) {
	if n.src == "" {
		return io.NopCloser(strings.NewReader(string(n.data))), nil
	}
	return os.Open(n.src)
}

// A tree is a filesystem's content, by slash-separated path without a leading slash; "" is the
// root directory. Parent directories are made as files are added. Filesystem writers walk it
// in sorted order, so that the same tree always gives the same bytes.
type tree map[string]*node

func newTree() tree { return tree{"": {mode: fs.ModeDir | 0o755}} }

func (t tree) mkdirAll(p string) {
	for p != "" && p != "." {
		if _, ok := t[p]; !ok {
			t[p] = &node{mode: fs.ModeDir | 0o755}
		}
		p = path.Dir(p)
		if p == "." {
			p = ""
		}
	}
}

func (t tree) parent(p string) {
	if d := path.Dir(p); d != "." {
		t.mkdirAll(d)
	}
}

// addData adds a file with the given content.
func (t tree) addData(p string, mode fs.FileMode, data []byte) {
	t.parent(p)
	t[p] = &node{mode: mode.Perm(), data: data, size: int64(len(data))}
}

// addFile adds the host file src as p.
func (t tree) addFile(p string, mode fs.FileMode, src string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", src)
	}
	t.parent(p)
	t[p] = &node{mode: mode.Perm(), src: src, size: fi.Size()}
	return nil
}

func (t tree) addSymlink(p, target string) {
	t.parent(p)
	t[p] = &node{mode: fs.ModeSymlink | 0o777, target: target}
}

// addDir copies the host directory src (files, directories, symlinks) into the tree under
// prefix, keeping the executable bits of files and nothing else of their modes.
func (t tree) addDir(prefix, src string) error {
	return walkHost(src, func(rel string, fi fs.FileInfo, host string) error {
		p := path.Join(prefix, rel)
		switch {
		case fi.IsDir():
			t.mkdirAll(p)
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(host)
			if err != nil {
				return err
			}
			t.addSymlink(p, target)
		case fi.Mode().IsRegular():
			mode := fs.FileMode(0o644)
			if fi.Mode()&0o111 != 0 {
				mode = 0o755
			}
			return t.addFile(p, mode, host)
		default:
			return fmt.Errorf("%s: not a file, directory or symlink", host)
		}
		return nil
	})
}

// walkHost calls fn for everything below dir (not dir itself), with slash-separated paths
// relative to dir, in sorted order; symlinks are not followed.
func walkHost(dir string, fn func(rel string, fi fs.FileInfo, host string) error) error {
	return fs.WalkDir(os.DirFS(dir), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return fn(rel, fi, dir+"/"+rel)
	})
}

// children returns the names of the entries of directory p, sorted.
func (t tree) children(p string) []string {
	var names []string
	for q := range t {
		if q == "" {
			continue
		}
		d := path.Dir(q)
		if d == "." {
			d = ""
		}
		if d == p {
			names = append(names, path.Base(q))
		}
	}
	sort.Strings(names)
	return names
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// paths returns every path of the tree, sorted.
func (t tree) paths() []string {
	ps := make([]string, 0, len(t))
	for p := range t {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// hash writes a digest of the tree (paths, modes, link targets, contents) to h.
func (t tree) hash(h io.Writer) error {
	for _, p := range t.paths() {
		n := t[p]
		fmt.Fprintf(h, "%q %o %q %d\n", p, uint32(n.mode), n.target, n.size)
		if n.isDir() || n.isSymlink() {
			continue
		}
		r, err := n.open()
		if err != nil {
			return err
		}
		d := sha256.New()
		_, err = io.Copy(d, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", n.src, err)
		}
		h.Write(d.Sum(nil))
	}
	return nil
}

// seed derives a value from the inputs' digest for one use (disk ID, volume ID, UUID...).
func seed(digest []byte, use string, n int) []byte {
	h := sha256.New()
	h.Write(digest)
	h.Write([]byte(use))
	return h.Sum(nil)[:n]
}

func seed32(digest []byte, use string) uint32 {
	return binary.LittleEndian.Uint32(seed(digest, use, 4))
}
