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
	"net/http"
	"strings"
)

// selection is one resolved entry of attributes= / excludedAttributes=: a whole extension
// (ext set) or an attribute path.
type selection struct {
	ext  *Schema
	path Path
}

// Project applies attributes= and excludedAttributes= (RFC 7644 §3.4.2.5) to res and returns
// a new map. Entries may themselves be comma-separated. Attributes whose schema says
// returned=always (id) and the "schemas" key are always kept; returned=never attributes
// (password) are always dropped; returned=request ones only appear when asked for. An
// unknown attribute is *Error{400, invalidValue} wrapping ErrUnknownAttribute.
func Project(rt *ResourceType, res map[string]any, attributes, excluded []string) (map[string]any, error) {
	include, err := resolveSelections(rt, attributes)
	if err != nil {
		return nil, err
	}
	exclude, err := resolveSelections(rt, excluded)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if len(include) == 0 {
		out = Clone(res)
	} else {
		out = map[string]any{}
		if v, ok := res["schemas"]; ok {
			out["schemas"] = Clone(v)
		}
		for _, s := range rt.Schemas() {
			for _, a := range s.Attributes {
				if a.Returned == ReturnedAlways {
					copyPath(out, res, Path{Schema: s, Attr: a})
				}
			}
		}
		for _, sel := range include {
			if sel.ext != nil {
				if v := lookup(res, sel.ext.ID); v != nil {
					out[sel.ext.ID] = Clone(v)
				}
				continue
			}
			copyPath(out, res, sel.path)
		}
	}
	for _, sel := range exclude {
		if sel.ext != nil {
			deleteKey(out, sel.ext.ID)
			continue
		}
		if sel.path.Target().Returned != ReturnedAlways && sel.path.Attr.Returned != ReturnedAlways {
			removePath(out, sel.path)
		}
	}
	for _, s := range rt.Schemas() {
		for _, a := range s.Attributes {
			p := Path{Schema: s, Attr: a}
			if a.Returned == ReturnedNever || (a.Returned == ReturnedRequest && !requested(include, p)) {
				removePath(out, p)
			}
			for _, sub := range a.SubAttributes {
				p.Sub = sub
				if sub.Returned == ReturnedNever || (sub.Returned == ReturnedRequest && !requested(include, p)) {
					removePath(out, p)
				}
			}
		}
	}
	return out, nil
}

func resolveSelections(rt *ResourceType, list []string) ([]selection, error) {
	var out []selection
	for _, entry := range list {
		for _, name := range strings.Split(entry, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if ext := rt.Extension(name); ext != nil {
				out = append(out, selection{ext: ext})
				continue
			}
			p, err := rt.Resolve(name)
			if err != nil {
				return nil, Errorf(http.StatusBadRequest, ScimTypeInvalidValue, "attributes: %w", err)
			}
			out = append(out, selection{path: p})
		}
	}
	return out, nil
}

func requested(include []selection, p Path) bool {
	for _, sel := range include {
		if sel.ext == nil && sel.path.Schema == p.Schema && sel.path.Attr == p.Attr &&
			(sel.path.Sub == nil || sel.path.Sub == p.Sub) {
			return true
		}
	}
	return false
}

// container returns the map of m holding p's attribute (m itself, or the extension map),
// creating the extension map when create is set; nil when absent.
func container(m map[string]any, p Path, create bool) map[string]any {
	if !p.IsExtension() {
		return m
	}
	if key, ok := lookupKey(m, p.Schema.ID); ok {
		ext, _ := m[key].(map[string]any)
		return ext
	}
	if !create {
		return nil
	}
	ext := map[string]any{}
	m[p.Schema.ID] = ext
	return ext
}

// copyPath copies the value at p from src into dst, merging with what dst already holds so
// that "emails.value,emails.type" yields elements carrying both.
func copyPath(dst, src map[string]any, p Path) {
	from := container(src, p, false)
	if from == nil {
		return
	}
	v := lookup(from, p.Attr.Name)
	if v == nil {
		return
	}
	to := container(dst, p, true)
	if p.Sub == nil {
		to[p.Attr.Name] = Clone(v)
		return
	}
	switch t := v.(type) {
	case map[string]any:
		sv := lookup(t, p.Sub.Name)
		if sv == nil {
			return
		}
		m, _ := to[p.Attr.Name].(map[string]any)
		if m == nil {
			m = map[string]any{}
			to[p.Attr.Name] = m
		}
		m[p.Sub.Name] = Clone(sv)
	case []any:
		elems, _ := to[p.Attr.Name].([]any)
		if len(elems) != len(t) {
			elems = make([]any, len(t))
			for i := range elems {
				elems[i] = map[string]any{}
			}
			to[p.Attr.Name] = elems
		}
		for i, e := range t {
			em, _ := e.(map[string]any)
			if sv := lookup(em, p.Sub.Name); sv != nil {
				elems[i].(map[string]any)[p.Sub.Name] = Clone(sv)
			}
		}
	}
}

// removePath deletes the value at p from m (in place).
func removePath(m map[string]any, p Path) {
	c := container(m, p, false)
	if c == nil {
		return
	}
	if p.Sub == nil {
		deleteKey(c, p.Attr.Name)
		return
	}
	switch t := lookup(c, p.Attr.Name).(type) {
	case map[string]any:
		deleteKey(t, p.Sub.Name)
	case []any:
		for _, e := range t {
			if em, ok := e.(map[string]any); ok {
				deleteKey(em, p.Sub.Name)
			}
		}
	}
}

// deleteKey deletes key from m, matching case-insensitively.
func deleteKey(m map[string]any, key string) {
	if k, ok := lookupKey(m, key); ok {
		delete(m, k)
	}
}
