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
	"strings"

	parser "github.com/scim2/filter-parser/v2"
)

// Equalities returns the `sub eq value` conditions that an element must satisfy for a value
// filter from ParseValuePath to match: the eq comparisons joined by "and" at its top. Keys
// are canonical sub-attribute names, values as written (string, bool, float64). PATCH uses
// them to create the element an Entra `add` on `emails[type eq "work"].value` refers to.
func (f *Filter) Equalities() map[string]any {
	out := map[string]any{}
	collectEqualities(f.root, out)
	return out
}

func collectEqualities(n node, out map[string]any) {
	switch t := n.(type) {
	case *logicalNode:
		if t.and {
			collectEqualities(t.left, out)
			collectEqualities(t.right, out)
		}
	case *compareNode:
		if t.op != parser.EQ || t.value == nil || t.scope == nil {
			return
		}
		if _, ok := t.value.(string); ok {
			out[t.path.Sub.Name] = t.text
		} else {
			out[t.path.Sub.Name] = t.value
		}
	}
}

// EqualValues reports the values v1..vn when a value filter from ParseValuePath is exactly
// `sub eq "v1" or ... or sub eq "vn"` (sub matched case-insensitively); ok is false for any
// other shape. Group PATCH uses it to remove members[value eq "id"] without loading them.
func (f *Filter) EqualValues(sub string) (values []string, ok bool) {
	return collectEqualValues(f.root, sub, nil)
}

func collectEqualValues(n node, sub string, acc []string) ([]string, bool) {
	switch t := n.(type) {
	case *logicalNode:
		if t.and {
			return nil, false
		}
		acc, ok := collectEqualValues(t.left, sub, acc)
		if !ok {
			return nil, false
		}
		return collectEqualValues(t.right, sub, acc)
	case *compareNode:
		if t.op != parser.EQ || t.scope == nil || !strings.EqualFold(t.path.Sub.Name, sub) {
			return nil, false
		}
		if _, isString := t.value.(string); !isString {
			return nil, false
		}
		return append(acc, t.text), true
	}
	return nil, false
}
