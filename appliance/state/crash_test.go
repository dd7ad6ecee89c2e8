package state_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pigw/pigw/appliance/state"
)

// helperEnv names the directory TestHelperWriter writes to; when it is
// unset, TestHelperWriter is skipped.
const helperEnv = "PIGW_STATE_HELPER_DIR"

var crashKeys = [...]string{"a", "b/c", "d/../e"}

// crashValue is the record for counter c: c as 8 bytes, then a padding of
// a c-dependent length (up to 32 KiB, so writes take a while and a kill
// often lands inside one) filled with byte(c).
func crashValue(c uint64) []byte {
	v := make([]byte, 8+int(c*7919%32768))
	binary.BigEndian.PutUint64(v, c)
	for i := 8; i < len(v); i++ {
		v[i] = byte(c)
	}
	return v
}

// parseCrashValue returns the counter in v and whether v is exactly what
// crashValue produced for it.
func parseCrashValue(v []byte) (uint64, bool) {
	if len(v) < 8 {
		return 0, false
	}
	c := binary.BigEndian.Uint64(v)
	return c, bytes.Equal(v, crashValue(c))
}

// TestHelperWriter is the child process of TestCrashKill: it puts an
// increasing counter under crashKeys in a loop and prints "ack KEYINDEX
// COUNTER" after each Put that returned nil, until it is killed.
func TestHelperWriter(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashKill")
	}
	d, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	all, err := d.All()
	if err != nil {
		t.Fatal(err)
	}
	var next uint64
	for k, v := range all {
		c, ok := parseCrashValue(v)
		if !ok {
			t.Fatalf("key %q holds a torn value", k)
		}
		next = max(next, c)
	}
	// Bounded, in case the parent dies without killing us.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 1_000_000 && time.Now().Before(deadline); i++ {
		next++
		k := int(next % uint64(len(crashKeys)))
		if err := d.Put(crashKeys[k], crashValue(next)); err != nil {
			t.Fatal(err)
		}
		// One write(2) of a short line: atomic on a pipe, so the parent
		// never sees half a line.
		fmt.Fprintf(os.Stdout, "ack %d %d\n", k, next)
	}
}

// TestCrashKill SIGKILLs a writer at random moments and checks that every
// key always holds a complete value at least as new as the last one the
// writer acknowledged. A kill leaves the page cache intact, so this proves
// that no torn or empty record is ever visible and that an acknowledged
// Put is never undone by a later crash; surviving a power cut in addition
// is what the fsyncs of the file and the directory in Put are for, and
// that cannot be tested without cutting power.
func TestCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	acked := make(map[string]uint64) // last acknowledged counter per key
	const rounds = 8
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{}) // closed at the first line or EOF
		done := make(chan []string, 1) // all lines, at EOF
		go func() {
			var lines []string
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines = append(lines, sc.Text())
				if len(lines) == 1 {
					close(started)
				}
			}
			if len(lines) == 0 {
				close(started)
			}
			done <- lines
		}()
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		time.Sleep(rand.N(50 * time.Millisecond))
		if err := cmd.Process.Kill(); err != nil {
			t.Fatalf("round %d: kill: %v", round, err)
		}
		lines := <-done
		cmd.Wait()
		if cmd.ProcessState.Exited() {
			t.Fatalf("round %d: writer exited by itself (%v), not killed:\n%s%s",
				round, cmd.ProcessState, strings.Join(lines, "\n"), stderr.Bytes())
		}

		n := 0
		for _, line := range lines {
			var k int
			var c uint64
			if _, err := fmt.Sscanf(line, "ack %d %d", &k, &c); err != nil || k < 0 || k >= len(crashKeys) {
				t.Fatalf("round %d: unexpected writer output %q", round, line)
			}
			key := crashKeys[k]
			if c <= acked[key] {
				t.Fatalf("round %d: writer acknowledged %q=%d after %d", round, key, c, acked[key])
			}
			acked[key] = c
			n++
		}
		if n == 0 {
			t.Fatalf("round %d: writer acknowledged nothing; stderr:\n%s", round, stderr.Bytes())
		}

		leftover, err := filepath.Glob(filepath.Join(dir, "*.tmp"))
		if err != nil {
			t.Fatal(err)
		}
		d, err := state.Open(dir)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tmp") {
				t.Errorf("round %d: Open left %s", round, e.Name())
			}
		}
		all, err := d.All()
		if err != nil {
			t.Fatalf("round %d: All after kill: %v", round, err)
		}
		for key, want := range acked {
			v, ok := all[key]
			if !ok {
				t.Fatalf("round %d: acknowledged key %q is missing", round, key)
			}
			c, ok := parseCrashValue(v)
			if !ok {
				t.Fatalf("round %d: key %q holds a torn value (%d bytes)", round, key, len(v))
			}
			if c < want {
				t.Fatalf("round %d: key %q = %d, but %d was acknowledged", round, key, c, want)
			}
		}
		t.Logf("round %d: %d puts acknowledged, last %q, %d temp files left by the kill",
			round, n, lines[len(lines)-1], len(leftover))
	}
}
