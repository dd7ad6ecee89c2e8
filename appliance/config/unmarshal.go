package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// nodeError is a problem with one YAML node, found while unmarshalling it.
type nodeError struct {
	node ast.Node
	sub  string // the path from the node being unmarshalled to node, such as ".title"
	msg  string
}

func (e *nodeError) Error() string {
	line, col := position(e.node)
	return fmt.Sprintf("%d:%d: %s", line, col, e.msg)
}

func nodeErrorf(n ast.Node, format string, args ...any) *nodeError {
	return &nodeError{node: n, msg: fmt.Sprintf(format, args...)}
}

// UnmarshalYAML decodes a media type name or number.
func (m *MediaType) UnmarshalYAML(n ast.Node) error {
	n, err := unwrap(n)
	if err != nil {
		return err
	}
	switch v := n.(type) {
	case *ast.IntegerNode:
		i, err := integer(v, 0, math.MaxUint16)
		if err != nil {
			return nodeErrorf(v, "%s is not a media type (use a name such as text/plain or a number 0..65535)", describe(v))
		}
		*m = MediaType(i)
		return nil
	case *ast.StringNode:
		mt, err := ParseMediaType(v.Value)
		if err != nil {
			return &nodeError{node: v, msg: err.Error()}
		}
		*m = mt
		return nil
	}
	return nodeErrorf(n, "%s is not a media type (use a name such as text/plain or a number 0..65535)", describe(n))
}

// UnmarshalYAML decodes a duration such as "5s". A plain 0 is accepted too.
func (d *Duration) UnmarshalYAML(n ast.Node) error {
	n, err := unwrap(n)
	if err != nil {
		return err
	}
	if i, ok := n.(*ast.IntegerNode); ok && i.GetToken().Value == "0" {
		*d = 0
		return nil
	}
	s, ok := n.(*ast.StringNode)
	if !ok {
		return nodeErrorf(n, "%s is not a duration (use a number with a unit, such as 200ms, 5s or 1h)", describe(n))
	}
	v, err := time.ParseDuration(s.Value)
	if err != nil {
		return nodeErrorf(n, "%q is not a duration (use a number with a unit, such as 200ms, 5s or 1h)", s.Value)
	}
	if v < 0 {
		return nodeErrorf(n, "%q is negative (a duration is 0 or more)", s.Value)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML decodes a key written as text or as "0x" and hex digits.
// Errors do not show the key.
func (s *Secret) UnmarshalYAML(n ast.Node) error {
	n, err := unwrap(n)
	if err != nil {
		return err
	}
	text, ok := scalarText(n)
	if !ok {
		// n is not a scalar, so describe does not show its text.
		return nodeErrorf(n, "expected a key (text, or 0x and hex digits), found %s", describe(n))
	}
	b, msg := decodeHexOrText(text)
	if msg != "" {
		return &nodeError{node: n, msg: msg}
	}
	*s = b
	return nil
}

// UnmarshalYAML decodes a mapping of attribute names to scalar values,
// keeping their order. Problems are reported together; a then holds the
// attributes that could be decoded.
func (a *Attributes) UnmarshalYAML(n ast.Node) error {
	n, err := unwrap(n)
	if err != nil {
		return err
	}
	if isNull(n) {
		*a = nil
		return nil
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		return nodeErrorf(n, "expected a mapping of names to values, such as {title: Temperature, rt: temperature-c}, found %s", describe(n))
	}
	attrs := Attributes{}
	var errs []error
	for _, mv := range m.Values {
		name, err := keyText(mv.Key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v, err := unwrap(mv.Value)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		value, ok := scalarText(v)
		if !ok {
			errs = append(errs, &nodeError{node: v, sub: keyPath(name), msg: mismatch(v, "a text, number or boolean")})
			continue
		}
		attrs = append(attrs, Attribute{Name: name, Value: value})
	}
	*a = attrs
	return errors.Join(errs...)
}

// unwrap returns the node under YAML anchors and core tags such as !!str,
// and refuses aliases and other tags.
func unwrap(n ast.Node) (ast.Node, error) {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			switch tag := v.Start.Value; tag {
			case "!!str", "!!int", "!!bool", "!!null", "!!map", "!!seq", "!!float":
				n = v.Value
			default:
				return n, nodeErrorf(v, "YAML tag %s is not supported", tag)
			}
		case *ast.AliasNode:
			return n, nodeErrorf(v, "YAML aliases (*name) are not supported: write the value out")
		default:
			return n, nil
		}
	}
}

func isNull(n ast.Node) bool {
	return n == nil || n.Type() == ast.NullType
}

// scalarText returns the text of a scalar: a string as it reads, a number or
// boolean as written in the file, null as "".
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "", true
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, true
	}
	return "", false
}

// keyText returns the text of a mapping key.
func keyText(n ast.Node) (string, error) {
	if k, ok := n.(*ast.MappingKeyNode); ok {
		n = k.Value
	}
	n, err := unwrap(n)
	if err != nil {
		return "", err
	}
	if isNull(n) {
		return "", nodeErrorf(n, "a key is empty")
	}
	s, ok := scalarText(n)
	if !ok {
		return "", nodeErrorf(n, "a key must be a name, not %s", describe(n))
	}
	return s, nil
}

// integer returns the integer in n if it is within min..max.
func integer(n ast.Node, min, max int64) (int64, error) {
	v, ok := n.(*ast.IntegerNode)
	if !ok {
		return 0, nodeErrorf(n, "%s", mismatch(n, "an integer"))
	}
	var i int64
	switch x := v.Value.(type) {
	case int64:
		i = x
	case uint64:
		if x > math.MaxInt64 {
			return 0, nodeErrorf(n, "%s is out of range (%d..%d)", describe(n), min, max)
		}
		i = int64(x)
	default:
		return 0, nodeErrorf(n, "%s", mismatch(n, "an integer"))
	}
	if i < min || i > max {
		return 0, nodeErrorf(n, "%s is out of range (%d..%d)", describe(n), min, max)
	}
	return i, nil
}

// mismatch says that n is not what was wanted.
func mismatch(n ast.Node, want string) string {
	if _, ok := scalarText(n); ok && !isNull(n) {
		return describe(n) + " is not " + want
	}
	return "expected " + want + ", found " + describe(n)
}

// describe names the value of n for an error message.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "nothing"
	case *ast.StringNode:
		return strconv.Quote(v.Value)
	case *ast.LiteralNode:
		return "a block of text"
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	if s, ok := scalarText(n); ok {
		return s
	}
	return "a " + strings.ToLower(n.Type().String())
}
