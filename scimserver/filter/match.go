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
	"strconv"
	"strings"
	"time"

	parser "github.com/scim2/filter-parser/v2"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// node is a compiled filter expression; match takes a resource, or an element of a
// multi-valued attribute inside a value filter.
type node interface {
	match(m map[string]any) bool
}

type logicalNode struct {
	and         bool
	left, right node
}

func (n *logicalNode) match(m map[string]any) bool {
	if n.and {
		return n.left.match(m) && n.right.match(m)
	}
	return n.left.match(m) || n.right.match(m)
}

type notNode struct{ inner node }

func (n *notNode) match(m map[string]any) bool { return !n.inner.match(m) }

// valuePathNode is `attr[filter]`: some element of attr matches filter.
type valuePathNode struct {
	path   schema.Path
	filter node
}

func (n *valuePathNode) match(m map[string]any) bool {
	for _, e := range asList(schema.Get(m, n.path)) {
		if em, ok := e.(map[string]any); ok && n.filter.match(em) {
			return true
		}
	}
	return false
}

// compareNode is `path op value`.
type compareNode struct {
	path schema.Path
	// attr is the attribute compared (path's target).
	attr *schema.Attribute
	op   parser.CompareOperator
	// value is nil (pr, eq null), string (lower-cased unless caseExact), float64, bool or time.Time.
	value any
	// text is the compare value as written, when it was a string.
	text string
	// scope is set inside a value filter: m is then an element and path.Sub names its key.
	scope *schema.Attribute
}

func (n *compareNode) match(m map[string]any) bool {
	var v any
	if n.scope != nil {
		v = lookup(m, n.path.Sub.Name)
	} else {
		v = schema.Get(m, n.path)
	}
	values := asList(v)
	switch n.op {
	case parser.PR:
		for _, e := range values {
			if present(e) {
				return true
			}
		}
		return false
	case parser.NE:
		return !n.any(values, parser.EQ)
	}
	return n.any(values, n.op)
}

// any reports whether some value satisfies op (RFC 7644: a multi-valued attribute matches
// when any of its values does).
func (n *compareNode) any(values []any, op parser.CompareOperator) bool {
	if n.value == nil { // eq null: absent
		return len(values) == 0
	}
	for _, v := range values {
		if n.compare(v, op) {
			return true
		}
	}
	return false
}

func (n *compareNode) compare(v any, op parser.CompareOperator) bool {
	switch want := n.value.(type) {
	case bool:
		got, ok := v.(bool)
		if s, isString := v.(string); isString { // stored as "true" by a lenient writer
			got, ok = strings.EqualFold(s, "true"), strings.EqualFold(s, "true") || strings.EqualFold(s, "false")
		}
		return ok && got == want
	case float64:
		got, ok := schema.ToFloat(v)
		return ok && order(op, cmpFloat(got, want))
	case time.Time:
		got, ok := toTime(v)
		return ok && order(op, got.Compare(want))
	case string:
		got, ok := toText(v)
		if !ok {
			return false
		}
		got = lower(got, n.attr.CaseExact)
		switch op {
		case parser.CO:
			return strings.Contains(got, want)
		case parser.SW:
			return strings.HasPrefix(got, want)
		case parser.EW:
			return strings.HasSuffix(got, want)
		}
		return order(op, strings.Compare(got, want))
	}
	return false
}

// order applies an equality or ordering operator to a three-way comparison result.
func order(op parser.CompareOperator, c int) bool {
	switch op {
	case parser.EQ:
		return c == 0
	case parser.GT:
		return c > 0
	case parser.GE:
		return c >= 0
	case parser.LT:
		return c < 0
	case parser.LE:
		return c <= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func toTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case string:
		tm, err := time.Parse(time.RFC3339Nano, t)
		return tm, err == nil
	}
	return time.Time{}, false
}

func toText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case time.Time:
		return t.Format(time.RFC3339Nano), true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	}
	if f, ok := schema.ToFloat(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return "", false
}

func present(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return true
}

// asList returns v as a list of values: multi-valued attributes as they are, a single value
// as a one-element list, absent as empty.
func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

// lookup returns m[key], falling back to a case-insensitive match.
func lookup(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// schemasNode matches the "schemas" of a resource (see compiler.schemas).
type schemasNode struct {
	rt         *schema.ResourceType
	urn        string
	pr, negate bool
}

func (n *schemasNode) match(m map[string]any) bool {
	if n.pr {
		return true
	}
	found := strings.EqualFold(n.urn, n.rt.Schema.ID)
	if ext := n.rt.Extension(n.urn); ext != nil && lookup(m, ext.ID) != nil {
		found = true
	}
	return found != n.negate
}
