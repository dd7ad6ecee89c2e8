package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The checks of the schema read a configuration file as an editor's YAML language server
// does, not as pigw does: YAML 1.2 and its core schema, by which a plain scalar is null,
// a boolean, an integer or a float only when it is written as this schema says. pigw's
// parser also takes some YAML 1.1 spellings for numbers (1_000, 0b101, 017 as octal,
// -0x10), which an editor reads as text; the schema has to accept those where pigw does.
var (
	core12Null  = regexp.MustCompile(`^(|~|null|Null|NULL)$`)
	core12Bool  = regexp.MustCompile(`^(true|True|TRUE|false|False|FALSE)$`)
	core12Int   = regexp.MustCompile(`^[-+]?[0-9]+$`)
	core12Oct   = regexp.MustCompile(`^0o[0-7]+$`)
	core12Hex   = regexp.MustCompile(`^0x[0-9a-fA-F]+$`)
	core12Float = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
	core12Inf   = regexp.MustCompile(`^[-+]?\.(inf|Inf|INF)$`)
	core12NaN   = regexp.MustCompile(`^\.(nan|NaN|NAN)$`)
)

// instance returns the first document in data as the JSON value a JSON Schema validator
// checks in an editor: mappings as map[string]any, lists as []any, numbers as json.Number
// (an infinity as ±1e999, NaN as 0, which JSON has no words for), the rest as string, bool
// or nil; aliases are resolved, as an editor does (pigw refuses them). It fails where pigw's
// parser does.
func instance(data []byte) (any, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, err
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, nil
	}
	return (&converter{anchors: map[string]any{}}).value(f.Docs[0].Body)
}

// converter converts a document's nodes, remembering the values of its anchors.
type converter struct{ anchors map[string]any }

func (c *converter) value(n ast.Node) (any, error) {
	switch v := n.(type) {
	case nil:
		return nil, nil
	case *ast.AnchorNode:
		x, err := c.value(v.Value)
		if err == nil {
			c.anchors[v.Name.GetToken().Value] = x
		}
		return x, err
	case *ast.TagNode:
		if v.Start.Value == "!!str" {
			s, _ := scalarText(v.Value)
			return s, nil
		}
		return c.value(v.Value)
	case *ast.AliasNode:
		x, ok := c.anchors[v.Value.GetToken().Value]
		if !ok {
			return nil, errors.New("an alias of no anchor")
		}
		return x, nil
	case *ast.MappingNode:
		m := map[string]any{}
		for _, mv := range v.Values {
			k, err := keyText(mv.Key)
			if err != nil {
				return nil, err
			}
			if m[k], err = c.value(mv.Value); err != nil {
				return nil, err
			}
		}
		return m, nil
	case *ast.SequenceNode:
		s := make([]any, 0, len(v.Values))
		for _, e := range v.Values {
			x, err := c.value(e)
			if err != nil {
				return nil, err
			}
			s = append(s, x)
		}
		return s, nil
	case *ast.LiteralNode:
		return v.Value.Value, nil
	}
	t := n.GetToken()
	if t == nil {
		return nil, fmt.Errorf("a %s without a token", n.Type())
	}
	if t.Type == token.SingleQuoteType || t.Type == token.DoubleQuoteType {
		return t.Value, nil
	}
	return resolvePlain(t.Value)
}

// resolvePlain resolves a plain scalar by YAML 1.2's core schema.
func resolvePlain(s string) (any, error) {
	switch {
	case core12Null.MatchString(s):
		return nil, nil
	case core12Bool.MatchString(s):
		return strings.ToLower(s) == "true", nil
	case core12Int.MatchString(s):
		return intNumber(strings.TrimPrefix(s, "+"), 10)
	case core12Oct.MatchString(s):
		return intNumber(s[2:], 8)
	case core12Hex.MatchString(s):
		return intNumber(s[2:], 16)
	case core12Float.MatchString(s):
		f, ok := new(big.Float).SetPrec(200).SetString(s)
		if !ok {
			return nil, fmt.Errorf("float %q", s)
		}
		return json.Number(f.Text('g', -1)), nil
	case core12Inf.MatchString(s):
		if strings.HasPrefix(s, "-") {
			return json.Number("-1e999"), nil
		}
		return json.Number("1e999"), nil
	case core12NaN.MatchString(s):
		return json.Number("0"), nil
	}
	return s, nil
}

func intNumber(digits string, base int) (any, error) {
	i, ok := new(big.Int).SetString(digits, base)
	if !ok {
		return nil, fmt.Errorf("integer %q", digits)
	}
	return json.Number(i.String()), nil
}
