package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pigw/pigw/appliance/coap"
)

const coapUsage = `Usage:
  pigw coap get|put|post|delete|fetch|patch|ipatch URL [flags]
  pigw coap observe URL [--count N] [flags]
  pigw coap discover [--iface NAME] [--timeout 6s] [--json] [--no-mdns]

URL is coap://host[:port]/path?query or coaps://... (IPv6 as [::1]).
The payload goes to stdout; -v adds code, type, MID, token and options on stderr.
Exit status: 0 on 2.xx, 1 on 4.xx/5.xx (code on stderr), 2 on usage errors, 3 on timeout.
`

var methodCommands = map[string]coap.Method{
	"get": coap.GET, "put": coap.PUT, "post": coap.POST, "delete": coap.DELETE,
	"fetch": coap.FETCH, "patch": coap.PATCH, "ipatch": coap.IPATCH, "observe": coap.GET,
}

// runCoAP is "pigw coap": a CoAP client for the command line.
func runCoAP(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, coapUsage)
		return exitUsage
	}
	var err error
	switch cmd := args[0]; {
	case cmd == "discover":
		err = runDiscover(args[1:], stdout, stderr)
	case methodCommands[cmd] != 0:
		err = runRequest(cmd, args[1:], stdin, stdout, stderr)
	default:
		err = usagef("unknown command %q (get, put, post, delete, fetch, patch, ipatch, observe, discover)", cmd)
	}
	return exitStatus(err, stderr)
}

// codeError is a 4.xx or 5.xx answer.
type codeError struct{ resp coap.Response }

func (e codeError) Error() string {
	msg := fmt.Sprintf("%s %s", e.resp.Code, codeText(e.resp.Code))
	if len(e.resp.Payload) > 0 {
		msg += ": " + string(e.resp.Payload)
	}
	return msg
}

func exitStatus(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "pigw coap:", err)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, `run "pigw coap help" for usage`)
		return exitUsage
	case errors.Is(err, coap.ErrTimeout):
		return exitTimeout
	}
	return exitFailed
}

type requestFlags struct {
	payload, format, accept, token string
	non, noOptions, verbose        bool
	options                        optionArgs
	timeout                        time.Duration
	block, count                   int
	identity, psk, pskFile         string
}

func (f *requestFlags) register(fs *flag.FlagSet) {
	for _, n := range []string{"e", "payload"} {
		fs.StringVar(&f.payload, n, "", "payload: text, @file, or - for standard input")
	}
	for _, n := range []string{"t", "format"} {
		fs.StringVar(&f.format, n, "", "Content-Format: a name (text/plain, application/json, ...) or a number")
	}
	for _, n := range []string{"A", "accept"} {
		fs.StringVar(&f.accept, n, "", "Accept: a name or a number")
	}
	for _, n := range []string{"T", "token"} {
		fs.StringVar(&f.token, n, "", "token: text or 0x-hex, at most 8 bytes (default random)")
	}
	for _, n := range []string{"N", "non"} {
		fs.BoolVar(&f.non, n, false, "send non-confirmable (NON)")
	}
	fs.BoolVar(&f.noOptions, "no-options", false, "send header, token and payload only (the URI then goes in the payload)")
	for _, n := range []string{"O", "option"} {
		fs.Var(&f.options, n, "extra option NUMBER,VALUE (VALUE text or 0x-hex); repeatable")
	}
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "give up after this long (exit 3)")
	for _, n := range []string{"b", "block"} {
		fs.IntVar(&f.block, n, 0, "block size for Block1/Block2: 16..1024 (default 1024)")
	}
	fs.BoolVar(&f.verbose, "v", false, "print code, type, MID, token and options on stderr")
	fs.IntVar(&f.count, "count", 0, "observe: stop after N notifications (default: until interrupted)")
	fs.StringVar(&f.identity, "identity", "", "coaps: the PSK identity")
	fs.StringVar(&f.psk, "psk", "", "coaps: the pre-shared key, text or 0x-hex")
	fs.StringVar(&f.pskFile, "psk-file", "", "coaps: read the pre-shared key from this file")
}

func runRequest(cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pigw coap "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f requestFlags
	f.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("%s needs one URL, got %d arguments", cmd, len(pos))
	}
	t, err := parseTarget(pos[0])
	if err != nil {
		return err
	}
	req, err := f.request(methodCommands[cmd], t.path, stdin)
	if err != nil {
		return err
	}
	opts, err := f.session(t)
	if err != nil {
		return err
	}
	if cmd == "observe" && f.count < 0 {
		return usagef("--count %d: must be 0 (no limit) or more", f.count)
	}
	client := coap.NewClient(slog.New(slog.DiscardHandler))
	defer client.Close()
	s, err := client.NewSession(t.addr, opts)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if cmd == "observe" {
		return observe(ctx, s, t.path, f, stdout, stderr)
	}
	rctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	resp, err := s.Do(rctx, req)
	if err != nil {
		return err
	}
	printResponse(resp, f.verbose, stdout, stderr)
	if resp.Code.Class() != 2 {
		return codeError{resp}
	}
	return nil
}

// request builds the Request the flags describe.
func (f *requestFlags) request(m coap.Method, path string, stdin io.Reader) (coap.Request, error) {
	req := coap.NewRequest(m, path)
	var err error
	if f.payload != "" {
		if req.Payload, err = payloadArg(f.payload, stdin); err != nil {
			return req, err
		}
	}
	if req.ContentFormat, err = mediaArg("format", f.format); err != nil {
		return req, err
	}
	if req.Accept, err = mediaArg("accept", f.accept); err != nil {
		return req, err
	}
	if f.token != "" {
		if req.Token, err = bytesArg("--token", f.token); err != nil {
			return req, err
		}
		if len(req.Token) > coap.MaxTokenLength {
			return req, usagef("--token %q: %d bytes; a CoAP token has at most 8", f.token, len(req.Token))
		}
	}
	if f.block != 0 && f.block != 16 && f.block != 32 && f.block != 64 && f.block != 128 && f.block != 256 && f.block != 512 && f.block != 1024 {
		return req, usagef("--block %d: must be 16, 32, 64, 128, 256, 512 or 1024", f.block)
	}
	if f.timeout <= 0 {
		return req, usagef("--timeout %s: must be more than 0", f.timeout)
	}
	req.NonConfirmable, req.NoOptions, req.Options, req.BlockSize = f.non, f.noOptions, f.options, f.block
	return req, nil
}

// session checks the DTLS flags against the URL's scheme.
func (f *requestFlags) session(t target) (coap.SessionOptions, error) {
	psk, err := secretArg(f.psk, f.pskFile)
	if err != nil {
		return coap.SessionOptions{}, err
	}
	switch {
	case !t.secure && (psk != nil || f.identity != ""):
		return coap.SessionOptions{}, usagef("--identity and --psk need a coaps:// URL")
	case t.secure && (psk == nil || f.identity == ""):
		return coap.SessionOptions{}, usagef("a coaps:// URL needs --identity and --psk (or --psk-file)")
	}
	return coap.SessionOptions{PSK: psk, Identity: f.identity, Timeout: f.timeout}, nil
}

// observe prints notifications until interrupted, --count is reached, or the server ends it.
func observe(ctx context.Context, s *coap.Session, path string, f requestFlags, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got, failed := 0, make(chan coap.Response, 1)
	o, err := s.Observe(ctx, path, func(r coap.Response) {
		printResponse(r, f.verbose, stdout, stderr)
		if !strings.HasSuffix(string(r.Payload), "\n") {
			fmt.Fprintln(stdout)
		}
		if r.Code.Class() != 2 {
			select {
			case failed <- r:
			default:
			}
			return
		}
		if got++; f.count > 0 && got >= f.count {
			cancel()
		}
	})
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-o.Done():
	case r := <-failed:
		return codeError{r}
	}
	o.Cancel()
	time.Sleep(50 * time.Millisecond) // let the deregistration leave
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
