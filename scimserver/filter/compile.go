/*
Copyright 2026 The kubescim Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package filter

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	parser "github.com/scim2/filter-parser/v2"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// compiler turns the parser's syntax tree into match nodes, resolving every attribute
// against the resource type (or, inside a value filter, against the multi-valued attribute).
type compiler struct {
	rt       *schema.ResourceType
	prepared *prepared
	// valuePaths are the value paths cut out of the text (see extractValuePaths).
	valuePaths []valuePath
	// scope is the attribute whose elements a value filter ranges over; nil at top level.
	scope *schema.Attribute
}

func (c compiler) compile(e parser.Expression) (node, error) {
	switch t := e.(type) {
	case *parser.AttributeExpression:
		return c.compare(t)
	case *parser.LogicalExpression:
		l, err := c.compile(t.Left)
		if err != nil {
			return nil, err
		}
		r, err := c.compile(t.Right)
		if err != nil {
			return nil, err
		}
		return &logicalNode{and: strings.EqualFold(string(t.Operator), string(parser.AND)), left: l, right: r}, nil
	case *parser.NotExpression:
		inner, err := c.compile(t.Expression)
		if err != nil {
			return nil, err
		}
		return &notNode{inner: inner}, nil
	}
	return nil, fmt.Errorf("unsupported expression %T", e)
}

// resolve resolves an attribute path at top level or, inside a value filter, as a
// sub-attribute of the scope (also accepting the scope-qualified form "emails.type").
func (c compiler) resolve(ap parser.AttributePath) (schema.Path, error) {
	if c.scope == nil {
		return c.rt.Resolve(ap.String())
	}
	name := ap.AttributeName
	if ap.URIPrefix == nil && ap.SubAttribute != nil && strings.EqualFold(name, c.scope.Name) {
		name = *ap.SubAttribute
	} else if ap.URIPrefix != nil || ap.SubAttribute != nil {
		return schema.Path{}, fmt.Errorf("%w: %q in a filter on %q", schema.ErrUnknownAttribute, ap.String(), c.scope.Name)
	}
	sub := c.scope.SubAttribute(name)
	if sub == nil {
		return schema.Path{}, fmt.Errorf("%w: %q in a filter on %q", schema.ErrUnknownAttribute, name, c.scope.Name)
	}
	return schema.Path{Attr: c.scope, Sub: sub}, nil
}

// valuePath compiles the i-th value path: its attribute at top level, its filter against
// the attribute's sub-attributes.
func (c compiler) valuePath(vp valuePath) (node, error) {
	if c.scope != nil {
		return nil, fmt.Errorf("value filter inside a value filter")
	}
	p, err := c.rt.Resolve(vp.attr)
	if err != nil {
		return nil, err
	}
	if p.Sub != nil || !p.Attr.IsComplex() {
		return nil, fmt.Errorf("%w: value filter on %q, which has no sub-attributes", errUnsupported, p.String())
	}
	f, err := c.elementFilter(p.Attr, vp.filter)
	if err != nil {
		return nil, err
	}
	return &valuePathNode{path: p, filter: f}, nil
}

// elementFilter compiles filter text over the elements of attribute a.
func (c compiler) elementFilter(a *schema.Attribute, text string) (node, error) {
	expr, err := parseFilter(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("syntax error in the value filter on %q", a.Name)
	}
	c.scope = a
	c.valuePaths = nil
	return c.compile(expr)
}

// valuePathIndex returns i when e is the stand-in `kubescimValuePathI pr`.
func (c compiler) valuePathIndex(e *parser.AttributeExpression) (int, bool) {
	ap := e.AttributePath
	if ap.URIPrefix != nil || ap.SubAttribute != nil || e.Operator != parser.PR {
		return 0, false
	}
	for i := range c.valuePaths {
		if ap.AttributeName == valuePathName(i) {
			return i, true
		}
	}
	return 0, false
}

func (c compiler) compare(e *parser.AttributeExpression) (node, error) {
	if i, ok := c.valuePathIndex(e); ok {
		return c.valuePath(c.valuePaths[i])
	}
	op := parser.CompareOperator(strings.ToLower(string(e.Operator)))
	if ap := e.AttributePath; c.scope == nil && ap.URIPrefix == nil && ap.SubAttribute == nil && strings.EqualFold(ap.AttributeName, "schemas") {
		return c.schemas(op, e.CompareValue)
	}
	p, err := c.resolve(e.AttributePath)
	if err != nil {
		return nil, err
	}
	n := &compareNode{path: p, op: op, scope: c.scope}
	switch raw := e.CompareValue.(type) {
	case string:
		n.text, _ = c.prepared.literal(raw)
	case json.Number:
		n.text = raw.String()
	}
	n.attr = p.Target()
	if n.attr.IsComplex() && op != parser.PR {
		// RFC 7644 §3.4.2.2 example `emails co "example.com"`: a multi-valued complex
		// attribute compares through its "value" sub-attribute. Other complex values
		// cannot be compared.
		value := n.attr.SubAttribute("value")
		if !n.attr.MultiValued || value == nil || p.Sub != nil {
			return nil, fmt.Errorf("%w: %q is complex; name a sub-attribute", errUnsupported, p.String())
		}
		n.path.Sub, n.attr = value, value
	}
	if op == parser.PR {
		return n, nil
	}
	if e.CompareValue == nil {
		if op != parser.EQ && op != parser.NE {
			return nil, fmt.Errorf("%w: %s null", errUnsupported, op)
		}
		return n, nil
	}
	v, err := c.typedValue(n.attr, op, e.CompareValue)
	if err != nil {
		return nil, fmt.Errorf("%q %s: %w", p.String(), op, err)
	}
	n.value = v
	return n, nil
}

// typedValue converts a compare value to the attribute's type: string (lower-cased unless
// caseExact), float64, bool or time.Time.
func (c compiler) typedValue(a *schema.Attribute, op parser.CompareOperator, raw any) (any, error) {
	ordering := op == parser.GT || op == parser.GE || op == parser.LT || op == parser.LE
	substring := op == parser.CO || op == parser.SW || op == parser.EW
	var text string
	isString := false
	switch t := raw.(type) {
	case string:
		lit, err := c.prepared.literal(t)
		if err != nil {
			return nil, err
		}
		text, isString = lit, true
	case json.Number:
		text = t.String()
	case bool:
		text = fmt.Sprint(t)
	default:
		return nil, fmt.Errorf("unsupported value %v", raw)
	}
	switch a.Type {
	case schema.TypeBoolean:
		if ordering || substring {
			return nil, errUnsupported
		}
		switch strings.ToLower(text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%w: not a boolean", errUnsupported)
	case schema.TypeInteger, schema.TypeDecimal:
		if substring {
			return nil, errUnsupported
		}
		f, ok := schema.ToFloat(text)
		if !ok {
			return nil, fmt.Errorf("%w: not a number", errUnsupported)
		}
		return f, nil
	case schema.TypeDateTime:
		if substring {
			return lower(text, a.CaseExact), nil
		}
		tm, err := time.Parse(time.RFC3339Nano, text)
		if err != nil || !isString {
			return nil, fmt.Errorf("%w: not an RFC 3339 dateTime", errUnsupported)
		}
		return tm, nil
	case schema.TypeBinary:
		if ordering {
			return nil, errUnsupported
		}
	}
	return lower(text, a.CaseExact), nil
}

// schemas compiles a filter on the "schemas" attribute (RFC 7644 §3.4.2.2 example
// `schemas eq "urn:...:enterprise:2.0:User"`), which stored resources do not carry: a
// resource has its core schema and each declared extension it holds data for.
func (c compiler) schemas(op parser.CompareOperator, raw any) (node, error) {
	switch op {
	case parser.PR:
		return &schemasNode{rt: c.rt, pr: true}, nil
	case parser.EQ, parser.NE:
	default:
		return nil, fmt.Errorf("%w: schemas %s", errUnsupported, op)
	}
	lit, ok := raw.(string)
	if !ok {
		return nil, fmt.Errorf("%w: schemas compared with a non-string", errUnsupported)
	}
	urn, err := c.prepared.literal(lit)
	if err != nil {
		return nil, err
	}
	return &schemasNode{rt: c.rt, urn: urn, negate: op == parser.NE}, nil
}
