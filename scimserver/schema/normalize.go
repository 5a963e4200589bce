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
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Limits on incoming resources; beyond them Normalize fails with invalidValue.
const (
	MaxStringLength = 8 << 10
	MaxArrayLength  = 1000
	MaxDepth        = 8
	// MaxMembers bounds a Group's top-level "members" list instead of MaxArrayLength: a PUT
	// may carry a whole large group (the HTTP layer's body size limit applies as well).
	MaxMembers = 100_000
)

// manager is the enterprise manager attribute, whose shape varies by IdP (see normalizeManager).
var manager = EnterpriseUser.Attribute("manager")

// Normalize rewrites an incoming resource (POST/PUT body, or the result of a PATCH) into the
// canonical stored form: canonical attribute names and extension URN keys, "schemas",
// readOnly and writeOnly attributes dropped, unknown core attributes dropped, unknown
// extension URNs kept as they are, nulls meaning absent, values coerced to the attribute
// type where IdPs send strings, single values wrapped for multi-valued attributes, and flat
// "urn:...:attr" keys nested under their extension. Type errors and limit violations are
// *Error{400, invalidValue}; res is not modified.
func Normalize(rt *ResourceType, res map[string]any) (map[string]any, error) {
	if err := checkLimits("resource", res, 0); err != nil {
		return nil, err
	}
	n := &normalizer{rt: rt, out: map[string]any{}}
	if err := n.addAll(res); err != nil {
		return nil, err
	}
	return n.out, nil
}

type normalizer struct {
	rt  *ResourceType
	out map[string]any
}

// addAll adds every top-level entry of res. Plain names go first and dotted or URN-qualified
// paths after them, each group sorted, so the result does not depend on map order.
func (n *normalizer) addAll(res map[string]any) error {
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	isPath := func(k string) bool { return strings.ContainsAny(k, ".:") }
	sort.Slice(keys, func(i, j int) bool {
		if pi, pj := isPath(keys[i]), isPath(keys[j]); pi != pj {
			return !pi
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		if err := n.add(k, res[k]); err != nil {
			return err
		}
	}
	return nil
}

func (n *normalizer) add(key string, v any) error {
	if strings.EqualFold(key, "schemas") {
		return checkSchemas(v)
	}
	if strings.EqualFold(key, n.rt.Schema.ID) {
		// Core attributes wrapped in their own URN: accept them as top-level attributes.
		m, ok := v.(map[string]any)
		if !ok {
			return nilOr(v, invalidValue("%q must be an object", n.rt.Schema.ID))
		}
		return n.addAll(m)
	}
	if ext := n.rt.Extension(key); ext != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nilOr(v, invalidValue("%q must be an object", ext.ID))
		}
		for _, k := range sortedKeys(m) {
			if err := n.addPath(ext.ID+":"+k, m[k]); err != nil {
				return err
			}
		}
		return nil
	}
	return n.addPath(key, v)
}

// checkSchemas accepts a "schemas" value that is an array of strings (RFC 7643 §3), or absent:
// the schemas of the stored resource are derived, not taken from the client.
func checkSchemas(v any) error {
	list, ok := v.([]any)
	if !ok && v != nil {
		return invalidValue("schemas must be an array of strings")
	}
	for _, e := range list {
		if _, ok := e.(string); !ok {
			return invalidValue("schemas must be an array of strings")
		}
	}
	return nil
}

func nilOr(v any, err error) error {
	if v == nil {
		return nil
	}
	return err
}

// addPath adds v at the attribute path key. Unknown core attributes are ignored
// (RFC 7644 §3.3); unknown extension URNs are kept verbatim.
func (n *normalizer) addPath(key string, v any) error {
	p, err := n.rt.Resolve(key)
	if err != nil {
		if hasPrefixFold(key, "urn:") && !n.declaredPrefix(key) {
			if v != nil {
				n.out[key] = Clone(v)
			}
		}
		return nil
	}
	if p.Attr.Mutability == MutabilityReadOnly || p.Attr.Mutability == MutabilityWriteOnly {
		return nil
	}
	container := n.out
	if p.IsExtension() {
		ext, _ := n.out[p.Schema.ID].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			n.out[p.Schema.ID] = ext
		}
		container = ext
		defer func() {
			if len(ext) == 0 {
				delete(n.out, p.Schema.ID)
			}
		}()
	}
	if p.Sub == nil {
		nv, ok, err := normalizeValue(p.Attr, v, p.String())
		if err != nil {
			return err
		}
		if ok {
			container[p.Attr.Name] = nv
		} else {
			delete(container, p.Attr.Name)
		}
		return nil
	}
	if p.Attr.MultiValued {
		return invalidValue("attribute %q needs a value filter to set %q", p.Attr.Name, p.Sub.Name)
	}
	// A sub-attribute path merges into the complex value.
	merged := map[string]any{}
	if cur, ok := container[p.Attr.Name].(map[string]any); ok {
		for k, cv := range cur {
			merged[k] = cv
		}
	}
	merged[p.Sub.Name] = v
	nv, ok, err := normalizeValue(p.Attr, merged, p.Attr.Name)
	if err != nil {
		return err
	}
	if ok {
		container[p.Attr.Name] = nv
	} else {
		delete(container, p.Attr.Name)
	}
	return nil
}

// declaredPrefix reports whether key starts with a declared schema URN, i.e. it is an
// unknown attribute of a known schema (dropped) rather than an unknown extension (kept).
func (n *normalizer) declaredPrefix(key string) bool {
	for _, s := range n.rt.Schemas() {
		if hasPrefixFold(key, s.ID+":") {
			return true
		}
	}
	return false
}

// normalizeValue normalises v for attribute a; ok is false when the result is absent.
func normalizeValue(a *Attribute, v any, name string) (out any, ok bool, err error) {
	if v == nil {
		return nil, false, nil
	}
	if a == manager {
		return normalizeManager(v, name)
	}
	if !a.MultiValued {
		return normalizeSingle(a, v, name)
	}
	elems, isArray := v.([]any)
	if !isArray {
		elems = []any{v}
	}
	values := make([]any, 0, len(elems))
	for _, e := range elems {
		nv, ok, err := normalizeSingle(a, e, name)
		if err != nil {
			return nil, false, err
		}
		if ok {
			values = append(values, nv)
		}
	}
	if len(values) == 0 {
		return nil, false, nil
	}
	if a.SubAttribute("primary") != nil && countPrimary(values) > 1 {
		return nil, false, invalidValue("at most one value of %q may be primary", name)
	}
	return values, true, nil
}

// countPrimary counts the normalised values marked primary.
func countPrimary(values []any) int {
	n := 0
	for _, v := range values {
		if m, ok := v.(map[string]any); ok && m["primary"] == true {
			n++
		}
	}
	return n
}

// normalizeManager accepts the enterprise manager shapes IdPs send: {"value": id},
// a bare id string (Entra), an array holding one such object (Entra, with "$ref"), and
// "" / {"value": ""} meaning no manager.
func normalizeManager(v any, name string) (any, bool, error) {
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil, false, nil
		}
		return map[string]any{"value": t}, true, nil
	case []any:
		if len(t) == 0 {
			return nil, false, nil
		}
		return normalizeManager(t[0], name)
	case map[string]any:
		if value, ok := lookup(t, "value").(string); ok && value == "" {
			return nil, false, nil
		}
		return normalizeSingle(manager, t, name)
	}
	return nil, false, invalidValue("attribute %q must be an object", name)
}

// normalizeSingle normalises one (non-array) value of attribute a.
func normalizeSingle(a *Attribute, v any, name string) (any, bool, error) {
	if v == nil {
		return nil, false, nil
	}
	switch a.Type {
	case TypeComplex:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false, invalidValue("attribute %q must be an object", name)
		}
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			sub := a.SubAttribute(k)
			if sub == nil || sub.Mutability == MutabilityReadOnly || sub.Mutability == MutabilityWriteOnly {
				continue
			}
			nv, ok, err := normalizeSingle(sub, m[k], name+"."+sub.Name)
			if err != nil {
				return nil, false, err
			}
			if ok {
				out[sub.Name] = nv
			}
		}
		if len(out) == 0 {
			return nil, false, nil
		}
		return out, true, nil
	case TypeBoolean:
		switch t := v.(type) {
		case bool:
			return t, true, nil
		case string:
			if b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(t))); err == nil && isBoolWord(t) {
				return b, true, nil
			}
		}
		return nil, false, invalidValue("attribute %q must be a boolean", name)
	case TypeInteger:
		if i, ok := toInt(v); ok {
			return i, true, nil
		}
		return nil, false, invalidValue("attribute %q must be an integer", name)
	case TypeDecimal:
		if f, ok := ToFloat(v); ok {
			return f, true, nil
		}
		return nil, false, invalidValue("attribute %q must be a decimal number", name)
	default: // string, reference, binary, dateTime
		if a.Required {
			return requiredString(v, name)
		}
		var s string
		switch t := v.(type) {
		case string:
			s = t
		case json.Number:
			s = t.String() // e.g. a numeric employeeNumber
		case float64:
			s = strconv.FormatFloat(t, 'f', -1, 64)
		default:
			return nil, false, invalidValue("attribute %q must be a string", name)
		}
		if a.Type == TypeDateTime {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return nil, false, invalidValue("attribute %q must be an RFC 3339 dateTime", name)
			}
		}
		return s, true, nil
	}
}

// requiredString checks a required string attribute (userName, a Group's displayName): it
// identifies the resource, so it must be a JSON string, not blank; none of the leniencies for
// other strings (numbers) apply.
func requiredString(v any, name string) (any, bool, error) {
	s, ok := v.(string)
	if !ok {
		return nil, false, invalidValue("attribute %q must be a string", name)
	}
	if strings.TrimSpace(s) == "" {
		return nil, false, invalidValue("attribute %q must not be blank", name)
	}
	return s, true, nil
}

func isBoolWord(s string) bool {
	s = strings.TrimSpace(s)
	return strings.EqualFold(s, "true") || strings.EqualFold(s, "false")
}

// ToFloat converts a JSON number (float64, json.Number, Go integer) or a numeric string.
func ToFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case float32:
		return float64(t), true
	case int:
		return float64(t), true
	case int32:
		return float64(t), true
	case int64:
		return float64(t), true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	switch t := v.(type) {
	case int:
		return int64(t), true
	case int32:
		return int64(t), true
	case int64:
		return t, true
	case json.Number:
		i, err := t.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		return i, err == nil
	}
	f, ok := ToFloat(v)
	if !ok || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// checkLimits rejects oversize strings and arrays and deep nesting anywhere in v.
func checkLimits(name string, v any, depth int) error {
	switch t := v.(type) {
	case string:
		if len(t) > MaxStringLength {
			return invalidValue("attribute %q: string longer than %d bytes", name, MaxStringLength)
		}
	case []any:
		if depth >= MaxDepth {
			return invalidValue("attribute %q: nested deeper than %d levels", name, MaxDepth)
		}
		limit := MaxArrayLength
		if depth == 1 && name == "members" {
			limit = MaxMembers
		}
		if len(t) > limit {
			return invalidValue("attribute %q: more than %d values", name, limit)
		}
		for _, e := range t {
			if err := checkLimits(name, e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		if depth >= MaxDepth {
			return invalidValue("attribute %q: nested deeper than %d levels", name, MaxDepth)
		}
		for k, e := range t {
			if len(k) > MaxStringLength {
				return invalidValue("attribute name longer than %d bytes", MaxStringLength)
			}
			child := k
			if depth > 0 {
				child = name + "." + k
			}
			if err := checkLimits(child, e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Clone deep-copies a JSON value (maps, arrays, scalars).
func Clone[T any](v T) T {
	c, _ := cloneAny(v).(T)
	return c
}

func cloneAny(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = cloneAny(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = cloneAny(e)
		}
		return s
	}
	return v
}
