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

package schema

import (
	"fmt"
	"strings"
)

// Path is a resolved attribute path: an attribute of a core or extension schema and
// optionally one of its sub-attributes.
type Path struct {
	// Schema is the schema defining Attr: the resource type's core schema or an extension.
	Schema *Schema
	// Attr is the top-level attribute.
	Attr *Attribute
	// Sub is the sub-attribute, nil when the path names Attr as a whole.
	Sub *Attribute
}

// IsExtension reports whether the path lies in an extension schema, i.e. under the
// extension's URN key in a resource map.
func (p Path) IsExtension() bool {
	return p.Schema != nil && p.Schema.Extension
}

// Target returns the attribute the path ends at: Sub if set, else Attr.
func (p Path) Target() *Attribute {
	if p.Sub != nil {
		return p.Sub
	}
	return p.Attr
}

// String returns the canonical form: "name.givenName" for core attributes,
// "urn:...:User:manager.value" for extension attributes.
func (p Path) String() string {
	if p.Attr == nil {
		return ""
	}
	s := p.Attr.Name
	if p.Sub != nil {
		s += "." + p.Sub.Name
	}
	if p.IsExtension() {
		s = p.Schema.ID + ":" + s
	}
	return s
}

// Resolve parses an attribute path without value filter ("userName", "name.givenName",
// "emails.value", URN-qualified core or extension paths), case-insensitively. Errors wrap
// ErrUnknownAttribute (no such attribute, or an extension the resource type does not
// declare) or ErrInvalidPath (not a path); callers turn them into the SCIM error that fits.
func (rt *ResourceType) Resolve(path string) (Path, error) {
	path = strings.TrimSpace(path)
	s, rest, err := rt.splitSchema(path)
	if err != nil {
		return Path{}, err
	}
	if rest == "" || strings.ContainsAny(rest, "[] \t\"()") {
		return Path{}, fmt.Errorf("%w: %q", ErrInvalidPath, path)
	}
	name, subName, hasSub := strings.Cut(rest, ".")
	if hasSub && (subName == "" || strings.Contains(subName, ".")) {
		return Path{}, fmt.Errorf("%w: %q", ErrInvalidPath, path)
	}
	p := Path{Schema: s, Attr: s.Attribute(name)}
	if p.Attr == nil {
		return Path{}, fmt.Errorf("%w: %q", ErrUnknownAttribute, path)
	}
	if hasSub {
		p.Sub = p.Attr.SubAttribute(subName)
		if p.Sub == nil {
			return Path{}, fmt.Errorf("%w: %q", ErrUnknownAttribute, path)
		}
	}
	return p, nil
}

// splitSchema splits an optional schema URN prefix off path. URNs contain dots ("2.0"),
// so the prefix is matched against the known schema IDs rather than parsed.
func (rt *ResourceType) splitSchema(path string) (*Schema, string, error) {
	if !hasPrefixFold(path, "urn:") {
		return rt.Schema, path, nil
	}
	for _, s := range rt.Schemas() {
		if len(path) > len(s.ID) && path[len(s.ID)] == ':' && hasPrefixFold(path, s.ID) {
			return s, path[len(s.ID)+1:], nil
		}
	}
	return nil, "", fmt.Errorf("%w: %q (undeclared schema)", ErrUnknownAttribute, path)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// Get returns the value at p in res, or nil when absent. When p has a sub-attribute of a
// multi-valued attribute, Get returns a []any of the sub-attribute values of all elements.
// Keys are matched case-insensitively, so un-normalised maps work too.
func Get(res map[string]any, p Path) any {
	container := res
	if p.IsExtension() {
		ext, _ := lookup(res, p.Schema.ID).(map[string]any)
		if ext == nil {
			return nil
		}
		container = ext
	}
	v := lookup(container, p.Attr.Name)
	if p.Sub == nil || v == nil {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		return lookup(v, p.Sub.Name)
	case []any:
		var out []any
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				if sv := lookup(m, p.Sub.Name); sv != nil {
					out = append(out, sv)
				}
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return nil
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

// lookupKey is lookup returning the key actually present in m.
func lookupKey(m map[string]any, key string) (string, bool) {
	if _, ok := m[key]; ok {
		return key, true
	}
	for k := range m {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}
