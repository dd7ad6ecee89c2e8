package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/pigw/pigw/appliance/update/bundle"
)

// runKeygen is pigw keygen --out KEY: a new Ed25519 key pair for signing update bundles.
func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pigw keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the private key's file; the public key goes to FILE.pub")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pigw keygen --out KEY\n\nWrites an Ed25519 key pair for signing update bundles: KEY (private, mode 0600) and\nKEY.pub (public; images built with --sign-key KEY or --trust KEY.pub accept its bundles).")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	id, err := bundle.GenerateKeyFiles(*out)
	if err != nil {
		fmt.Fprintf(stderr, "pigw keygen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "key %s: private %s (keep it off the devices), public %s.pub\n", id, *out, *out)
	return 0
}
