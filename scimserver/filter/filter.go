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
	"errors"
	"fmt"
	"net/http"
	"strings"

	parser "github.com/scim2/filter-parser/v2"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// Filter is a compiled SCIM filter, safe for concurrent use.
type Filter struct {
	root node
}

// Parse compiles a filter for resources of type rt. Unknown attributes, malformed text,
// unsupported operator/type combinations and limit violations are
// *schema.Error{400, invalidFilter}; a Filter never silently matches everything.
func Parse(rt *schema.ResourceType, s string) (*Filter, error) {
	p, err := prepare(s)
	if err != nil {
		return nil, invalidFilter("%v", err)
	}
	if p.text == "" {
		return nil, invalidFilter("empty filter")
	}
	outer, valuePaths, err := extractValuePaths(p.text)
	if err != nil {
		return nil, invalidFilter("%v", err)
	}
	expr, err := parseFilter(outer)
	if err != nil {
		return nil, invalidFilter("syntax error")
	}
	c := compiler{rt: rt, prepared: p, valuePaths: valuePaths}
	root, err := c.compile(expr)
	if err != nil {
		return nil, invalidFilter("%w", err)
	}
	return &Filter{root: root}, nil
}

// parseFilter calls the parser, turning its panics on pathological input into errors.
func parseFilter(text string) (expr parser.Expression, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser panic: %v", r)
		}
	}()
	return parser.ParseFilterNumber([]byte(text))
}

// Match reports whether res (a resource map) matches the filter.
func (f *Filter) Match(res map[string]any) bool {
	return f.root.match(res)
}

// MatchElement reports whether one element of a multi-valued attribute matches a filter
// returned by ParseValuePath.
func (f *Filter) MatchElement(elem map[string]any) bool {
	return f.root.match(elem)
}

// indexable are the attributes an IndexHint may name.
var indexable = map[string]bool{"id": true, "userName": true, "externalId": true, "displayName": true}

// IndexHint reports an equality the caller can serve from an index: the filter is
// `ATTR eq "v"`, or an `and` one of whose sides is, with ATTR one of id, userName,
// externalId, displayName (canonical name returned). Equality is case-insensitive for
// attributes whose schema says caseExact=false (userName, displayName), so the index lookup
// must be too; candidates must still be checked with Match.
func (f *Filter) IndexHint() (attr, value string, ok bool) {
	return indexHint(f.root)
}

func indexHint(n node) (string, string, bool) {
	switch t := n.(type) {
	case *compareNode:
		if t.op != parser.EQ || t.scope != nil || t.path.IsExtension() || t.path.Sub != nil || !indexable[t.path.Attr.Name] {
			return "", "", false
		}
		if _, ok := t.value.(string); ok {
			return t.path.Attr.Name, t.text, true
		}
	case *logicalNode:
		if t.and {
			if a, v, ok := indexHint(t.left); ok {
				return a, v, true
			}
			return indexHint(t.right)
		}
	}
	return "", "", false
}

func invalidFilter(format string, args ...any) *schema.Error {
	return schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidFilter, format, args...)
}

func invalidPath(format string, args ...any) *schema.Error {
	return schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidPath, format, args...)
}

// errUnsupported marks operator/type combinations RFC 7644 §3.4.2.2 rejects.
var errUnsupported = errors.New("unsupported comparison")

func lower(s string, caseExact bool) string {
	if caseExact {
		return s
	}
	return strings.ToLower(s)
}
