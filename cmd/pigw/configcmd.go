package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/pigw/pigw/appliance/config"
)

const configUsage = `Usage:
  pigw config check [FILE...]   check configuration files as the appliance layers them
  pigw config show [FILE...]    print the configuration the appliance would run on
  pigw config schema            print the JSON Schema of pigw.yaml

The appliance reads the built-in default, then each FILE over it, each FILE over the ones
before: without FILE, /etc/pigw.yaml and /boot/pigw.yaml, as at boot (missing ones are left
out). A FILE with errors is left out, as at boot; check prints every error with its file,
line and column. show prints the effective configuration as YAML, every key (psk, keys)
as ***, as the /sys/config resource does; the errors, if any, go to stderr. schema prints
what an SD-card image holds as pigw.schema.json beside pigw.yaml.

Exit status: 0 no errors, 1 errors in the files, 2 usage errors.
`

// runConfig is "pigw config": check, show or the schema of configuration files.
func runConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return exitUsage
	}
	files := args[1:]
	for _, f := range files {
		if strings.HasPrefix(f, "-") {
			fmt.Fprintf(stderr, "pigw config %s: unknown flag %s\n\n%s", args[0], f, configUsage)
			return exitUsage
		}
	}
	switch args[0] {
	case "check":
		cfg, problems := loadConfig(files)
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		if len(problems) > 0 {
			return exitFailed
		}
		fmt.Fprintln(stdout, "ok:", strings.Join(cfg.used, " < "))
		return exitOK
	case "show":
		cfg, problems := loadConfig(files)
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		for _, f := range cfg.leftOut {
			fmt.Fprintf(stderr, "%s: left out, as the appliance leaves out a file with errors\n", f)
		}
		text, err := cfg.Redacted()
		if err != nil {
			fmt.Fprintln(stderr, "pigw config show:", err)
			return exitFailed
		}
		if _, err := stdout.Write(text); err != nil {
			return exitFailed
		}
		if len(problems) > 0 {
			return exitFailed
		}
		return exitOK
	case "schema":
		if len(files) > 0 {
			fmt.Fprintf(stderr, "pigw config schema: unexpected argument %q\n\n%s", files[0], configUsage)
			return exitUsage
		}
		if _, err := stdout.Write(config.Schema()); err != nil {
			return exitFailed
		}
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, configUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "pigw config: unknown command %q\n\n%s", args[0], configUsage)
	return exitUsage
}

// builtinDefault names the built-in default as config.LoadLayers' errors do.
const builtinDefault = "built-in default.yaml"

// loaded is the configuration the appliance would run on, and the layers it merged.
type loaded struct {
	*config.Config
	used    []string // the built-in default and the files merged, lowest first
	leftOut []string // files that have errors
}

// loadConfig layers files as PID 1 does (config.LoadLayers), or the appliance's own layers
// when there are none. It returns the configuration the appliance would run on, and every
// problem: a file's errors, one per line; a file that is not there, when named; and the
// errors of the merged configuration, when the built-in default is what is left.
func loadConfig(files []string) (loaded, []string) {
	named := len(files) > 0
	if !named {
		files = configLayers
	}
	cfg, layers, err := config.LoadLayers(files...)
	out := loaded{Config: cfg}
	var problems []string
	for _, l := range layers {
		switch {
		case l.Used && l.Path == "":
			out.used = append(out.used, builtinDefault)
		case l.Used:
			out.used = append(out.used, l.Path)
		case l.Err != nil:
			problems = append(problems, strings.Split(l.Err.Error(), "\n")...)
			out.leftOut = append(out.leftOut, l.Path)
		case named:
			problems = append(problems, l.Path+": no such file")
		}
	}
	if err != nil {
		problems = append(problems, strings.Split(err.Error(), "\n")...)
		problems = append(problems, "the appliance would run on the built-in default")
		out = loaded{Config: config.Default(), used: []string{builtinDefault}, leftOut: out.leftOut}
	}
	return out, problems
}
