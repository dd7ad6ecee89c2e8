package pifw

import (
	"bufio"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// config.txt is read as the firmware reads it: name=value lines, '#' comments, and
// conditional sections ([pi3], [board-type=0x8], [all], [none]) that decide which lines count
// for the board; filters of different kinds must all match, a new filter of one kind replaces
// the last one of that kind, and [all] clears them. include FILE reads FILE in place.

// Setting is one line of config.txt that counts for the board.
type Setting struct {
	Name, Value string
	Where       string // "config.txt:12"
}

// ReadConfig returns the settings of config.txt (and the files it includes) that count for
// board, in order, and the filters it met that it could not decide (they are taken as not
// matching, as a firmware without that hardware would).
func ReadConfig(files fs.FS, name string, board Board) (settings []Setting, notes []string, err error) {
	r := &configReader{files: files, board: board, filters: map[string]bool{}}
	if err := r.read(name, 0); err != nil {
		return nil, nil, err
	}
	return r.settings, r.notes, nil
}

type configReader struct {
	files    fs.FS
	board    Board
	filters  map[string]bool // kind → matches
	settings []Setting
	notes    []string
}

func (r *configReader) matching() bool {
	for _, ok := range r.filters {
		if !ok {
			return false
		}
	}
	return true
}

func (r *configReader) read(name string, depth int) error {
	if depth > 4 {
		return fmt.Errorf("%s: includes nested too deep", name)
	}
	f, err := r.files.Open(name)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		where := fmt.Sprintf("%s:%d", name, line)
		switch {
		case text == "":
		case strings.HasPrefix(text, "[") && strings.HasSuffix(text, "]"):
			r.section(strings.ToLower(text[1:len(text)-1]), where)
		case !r.matching():
		case strings.HasPrefix(text, "include "):
			if err := r.read(strings.TrimSpace(strings.TrimPrefix(text, "include ")), depth+1); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		default:
			k, v, ok := strings.Cut(text, "=")
			if !ok {
				if k, v, ok = strings.Cut(text, " "); !ok { // "initramfs file addr" has no '='
					r.notes = append(r.notes, fmt.Sprintf("%s: %q is not name=value: ignored, as the firmware does", where, text))
					continue
				}
			}
			r.settings = append(r.settings, Setting{Name: strings.TrimSpace(k), Value: strings.TrimSpace(v), Where: where})
		}
	}
	return sc.Err()
}

// section applies a [filter] line.
func (r *configReader) section(f, where string) {
	switch {
	case f == "all":
		clear(r.filters)
	case f == "none":
		r.filters["none"] = false
	case strings.HasPrefix(f, "pi") || strings.HasPrefix(f, "cm"):
		r.filters["model"] = r.board.hasModelFilter(f)
	case strings.HasPrefix(f, "board-type="):
		v, err := strconv.ParseUint(strings.TrimPrefix(f, "board-type="), 0, 32)
		r.filters["board-type"] = err == nil && uint32(v) == r.board.Type()
	default:
		r.filters[f] = false
		r.notes = append(r.notes, fmt.Sprintf("%s: filter [%s] is not emulated: its lines are skipped", where, f))
	}
}
