package config

import (
	"errors"
	"testing"
)

// FuzzParse feeds the decoder arbitrary files, seeded with the corpus and the built-in
// default. For every input, Parse must not panic, and every error it reports must be an
// *Error that names the file, a line and a column. A file it accepts, the schema must accept
// too, read as an editor reads it (YAML 1.2), and the Config it gives must pass Validate
// again. Run it with
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 10m -parallel 1 ./appliance/config/
func FuzzParse(f *testing.F) {
	f.Add([]byte(defaultYAML))
	for _, c := range readCorpus(f) {
		f.Add(c.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			for _, e := range flatten(err) {
				var pe *Error
				if !errors.As(e, &pe) {
					t.Fatalf("an error that is no *Error: %T %v", e, e)
				}
				if pe.File != "fuzz.yaml" || pe.Line < 1 || pe.Column < 1 {
					t.Fatalf("an error without file:line:col: %q (%+v)", pe.Error(), *pe)
				}
			}
			return
		}
		if err := schemaVerdict(t, data); err != nil {
			t.Fatalf("pigw accepts the file, the schema refuses it: %v", err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepts the file, Validate refuses what it gave: %v", err)
		}
	})
}

// flatten returns the errors err joins, or err alone.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var all []error
		for _, e := range j.Unwrap() {
			all = append(all, flatten(e)...)
		}
		return all
	}
	return []error{err}
}
