// Command badroot is the /pigw of an update whose root is broken on purpose, for the update
// tests: the trial must end on the committed root by itself. /etc/badroot says how it fails:
//
//	exit  PID 1 exits at once: the kernel panics ("Attempted to kill init!"), and panic=10
//	      reboots it
//	hang  PID 1 runs on and does nothing: the watchdog the committed pigw armed before it
//	      started this root is never pinged, and resets the machine
//
// Console lines start "badroot:".
package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	b, _ := os.ReadFile("/etc/badroot")
	how := strings.TrimSpace(string(b))
	fmt.Printf("badroot: running as PID %d, failing by %q\n", os.Getpid(), how)
	if how == "hang" {
		for start := time.Now(); ; time.Sleep(5 * time.Second) {
			fmt.Printf("badroot: hanging for %.0fs\n", time.Since(start).Seconds())
		}
	}
	os.Exit(1)
}
