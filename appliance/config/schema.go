package config

import _ "embed"

//go:generate go test -run ^TestSchemaFile$ -update .

// schemaJSON is written by TestSchemaFile (schema_gen_test.go) from the Go types, their doc
// comments, the rules' constants and the defaults pigw fills in.
//
//go:embed pigw.schema.json
var schemaJSON string

// SchemaFile is the name the schema has beside pigw.yaml, as the image writes it on the
// boot partition and as the modeline names it.
const SchemaFile = "pigw.schema.json"

// Modeline is the first line of a pigw.yaml that has the YAML language server (VS Code's YAML
// extension and other editors) check it against the schema in the same directory.
const Modeline = "# yaml-language-server: $schema=" + SchemaFile

// Schema returns the JSON Schema (draft 2020-12) of pigw.yaml: every key with its
// description, default, range and values, so that an editor completes and checks keys while
// a user edits the file.
//
// The schema never refuses a file that Parse accepts. It carries the rules of single keys
// (types, ranges, lists of values, the form of names and addresses) and of keys that depend
// on each other within one entry (a coaps:// peer needs identity and psk; a pattern of
// interface names takes no addresses), but not those across entries or sections (unique
// names, the sensors a session sends, the ranges of durations), nor the file, line and
// column of a problem: Parse remains the judge.
func Schema() []byte { return []byte(schemaJSON) }
