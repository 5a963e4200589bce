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

package patch

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/kubescim/kubescim/scimserver/filter"
	"github.com/kubescim/kubescim/scimserver/schema"
)

// Apply applies ops in order to a deep copy of res and returns the copy after
// schema.Normalize (so readOnly attributes such as id and meta are not in the result).
// All or nothing: on error res is untouched and nothing is returned. Errors are
// *schema.Error: invalidPath (unknown or malformed path), invalidFilter (bad value filter),
// noTarget (replace whose value filter matches nothing), mutability (changing a readOnly
// or immutable attribute; echoing the stored value is accepted), invalidValue (type errors).
//
// Semantics (RFC 7644 §3.5.2, with the shapes Entra ID and Okta send):
//   - add on a single-valued attribute replaces it; add on a multi-valued attribute appends
//     values not already present; add or replace of a complex single value merges
//     sub-attributes;
//   - a path-less add/replace takes attribute paths as the keys of its object value
//     ("active", "name.givenName", "urn:...:User:department", `emails[type eq "work"].value`);
//     unknown attributes among them are ignored, unknown extension URNs kept verbatim;
//   - add through a value filter that matches nothing creates the element from the filter's
//     equalities (Entra: `emails[type eq "work"].value` on a user without work email);
//   - remove of an absent attribute, or through a filter matching nothing, is a no-op;
//   - remove of a multi-valued attribute with a value removes only the given values;
//   - a value made primary makes the attribute's other values non-primary; making two values
//     primary in one operation is invalidValue.
func Apply(rt *schema.ResourceType, res map[string]any, ops []Operation) (map[string]any, error) {
	out := schema.Clone(res)
	if out == nil {
		out = map[string]any{}
	}
	a := applier{rt: rt, res: out, primaryAttrs: primaryAttributes(rt)}
	for i, op := range ops {
		before := a.primaries()
		if err := a.apply(op); err != nil {
			return nil, inOperation(i, err)
		}
		if err := a.settlePrimaries(before); err != nil {
			return nil, inOperation(i, err)
		}
		// Type-check after each operation so that the error names the one at fault.
		if _, err := schema.Normalize(rt, out); err != nil {
			return nil, inOperation(i, err)
		}
	}
	return schema.Normalize(rt, out)
}

// inOperation prefixes the error detail with the index of the failing operation.
func inOperation(i int, err error) error {
	var se *schema.Error
	if !errors.As(err, &se) {
		return err
	}
	prefixed := *se // keeps the wrapped cause for errors.Is
	prefixed.Detail = "operation " + strconv.Itoa(i) + ": " + se.Detail
	return &prefixed
}

type applier struct {
	rt           *schema.ResourceType
	res          map[string]any
	primaryAttrs []schema.Path // the multi-valued attributes with a "primary" sub-attribute
}

func (a applier) apply(op Operation) error {
	switch strings.ToLower(op.Op) {
	case OpAdd, OpReplace, OpRemove:
	default:
		return schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidSyntax, "unknown op %q", truncate(op.Op))
	}
	op.Op = strings.ToLower(op.Op)
	if strings.TrimSpace(op.Path) != "" {
		return a.applyPath(op.Op, qualifyExtensionPath(a.rt, op.Path), op.Value, false)
	}
	if op.Op == OpRemove {
		return schema.Errorf(http.StatusBadRequest, schema.ScimTypeNoTarget, "remove needs a path")
	}
	m, ok := op.Value.(map[string]any)
	if !ok {
		return schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidValue, "%s without path needs an object value", op.Op)
	}
	return a.applyPathless(op.Op, m, "")
}

// applyPathless applies each entry of a path-less add/replace value as its own operation.
func (a applier) applyPathless(op string, value map[string]any, prefix string) error {
	keys := make([]string, 0, len(value))
	for k := range value {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := value[k]
		switch {
		case prefix == "" && strings.EqualFold(k, "schemas"):
			continue
		case prefix == "" && strings.EqualFold(k, a.rt.Schema.ID):
			if m, ok := v.(map[string]any); ok {
				if err := a.applyPathless(op, m, ""); err != nil {
					return err
				}
				continue
			}
		case prefix == "" && a.rt.Extension(k) != nil:
			ext := a.rt.Extension(k)
			if m, ok := v.(map[string]any); ok {
				if err := a.applyPathless(op, m, ext.ID+":"); err != nil {
					return err
				}
				continue
			}
			if v == nil && op == OpReplace {
				deleteFold(a.res, ext.ID)
				continue
			}
		}
		if err := a.applyPath(op, prefix+k, v, true); err != nil {
			return err
		}
	}
	return nil
}

// applyPath applies one operation at path. fromValue marks a key of a path-less value,
// where unknown attributes are ignored like in a PUT body.
func (a applier) applyPath(op, path string, value any, fromValue bool) error {
	attr, elem, sub, err := filter.ParseValuePath(a.rt, path)
	if err != nil {
		if fromValue && errors.Is(err, schema.ErrUnknownAttribute) {
			if a.undeclaredURN(path) {
				a.setRaw(op, path, value)
			}
			return nil
		}
		return err
	}
	if value == nil && op != OpRemove {
		if op == OpAdd {
			return nil // null is "unassigned": nothing to add
		}
		op = OpRemove
	}
	target := attr.Target()
	if elem != nil && sub != "" {
		target = attr.Attr.SubAttribute(sub)
	}
	switch {
	case attr.Attr.Mutability == schema.MutabilityWriteOnly || target.Mutability == schema.MutabilityWriteOnly:
		return nil // e.g. password: never stored, changePassword is not supported
	case attr.Attr.Mutability == schema.MutabilityReadOnly || target.Mutability == schema.MutabilityReadOnly:
		return a.checkReadOnly(op, path, attr, elem, value)
	}
	if elem != nil {
		return a.applyFiltered(op, attr, elem, sub, value)
	}
	return a.applyPlain(op, attr, value)
}

// undeclaredURN reports whether path starts with a URN that is not one of the resource
// type's schemas (e.g. an Okta custom extension), which is kept as opaque data.
func (a applier) undeclaredURN(path string) bool {
	if len(path) < 4 || !strings.EqualFold(path[:4], "urn:") {
		return false
	}
	for _, s := range a.rt.Schemas() {
		if len(path) >= len(s.ID) && strings.EqualFold(path[:len(s.ID)], s.ID) {
			return false
		}
	}
	return true
}

func (a applier) setRaw(op, key string, value any) {
	cur, _ := takeFold(a.res, key)
	switch {
	case op == OpRemove || value == nil:
		return
	case op == OpAdd:
		if cm, ok := cur.(map[string]any); ok {
			if vm, ok := value.(map[string]any); ok {
				a.res[key] = merge(cm, vm)
				return
			}
		}
	}
	a.res[key] = schema.Clone(value)
}

// checkReadOnly accepts an operation on a readOnly attribute only when it changes nothing,
// since IdPs echo attributes such as id back (Okta's group replace).
func (a applier) checkReadOnly(op, path string, attr schema.Path, elem *filter.Filter, value any) error {
	if elem == nil {
		cur := schema.Get(a.res, attr)
		if op == OpRemove && cur == nil {
			return nil
		}
		if op != OpRemove && contains(cur, value) {
			return nil
		}
	}
	return schema.Errorf(http.StatusBadRequest, schema.ScimTypeMutability, "attribute %q is read-only", attr.String())
}

func immutableError(attr schema.Path, sub string) error {
	name := attr.String()
	if sub != "" {
		name += "." + sub
	}
	return schema.Errorf(http.StatusBadRequest, schema.ScimTypeMutability, "attribute %q is immutable", name)
}

// container returns the map holding attr's attribute: the resource, or its extension map
// (created when create is set; nil when absent).
func (a applier) container(attr schema.Path, create bool) map[string]any {
	if !attr.IsExtension() {
		return a.res
	}
	cur, _ := takeFold(a.res, attr.Schema.ID)
	m, ok := cur.(map[string]any)
	if !ok {
		if !create {
			return nil
		}
		m = map[string]any{}
	}
	a.res[attr.Schema.ID] = m
	return m
}

// applyPlain applies an operation whose path has no value filter.
func (a applier) applyPlain(op string, attr schema.Path, value any) error {
	c := a.container(attr, op != OpRemove)
	if c == nil {
		return nil
	}
	name := attr.Attr.Name
	cur, _ := takeFold(c, name)
	if attr.Target().Mutability == schema.MutabilityImmutable && op != OpRemove {
		if old := schema.Get(map[string]any{name: cur}, schema.Path{Attr: attr.Attr, Sub: attr.Sub}); old != nil && !contains(old, value) {
			return immutableError(attr, "")
		}
	}
	if attr.Sub != nil {
		c[name] = setSub(op, attr.Attr, cur, attr.Sub.Name, value)
		dropEmpty(c, name)
		return nil
	}
	switch op {
	case OpRemove:
		if value != nil && attr.Attr.MultiValued {
			c[name] = removeValues(asList(cur), asList(value))
			dropEmpty(c, name)
		}
	case OpAdd:
		switch {
		case attr.Attr.MultiValued:
			c[name] = appendUnique(asList(cur), asList(value))
		case attr.Attr.IsComplex():
			c[name] = mergeOrSet(cur, value)
		default:
			c[name] = value
		}
	case OpReplace:
		if !attr.Attr.MultiValued && attr.Attr.IsComplex() {
			c[name] = mergeOrSet(cur, value)
		} else {
			c[name] = value
		}
	}
	return nil
}

// setSub applies an operation to sub-attribute sub of the current value cur of attribute a:
// the complex value, or every element when a is multi-valued.
func setSub(op string, a *schema.Attribute, cur any, sub string, value any) any {
	if !a.MultiValued {
		m, _ := cur.(map[string]any)
		if m == nil {
			if op == OpRemove {
				return cur
			}
			m = map[string]any{}
		}
		if op == OpRemove {
			takeFold(m, sub)
		} else {
			takeFold(m, sub)
			m[sub] = value
		}
		return m
	}
	elems := asList(cur)
	if len(elems) == 0 && op != OpRemove {
		return []any{map[string]any{sub: value}}
	}
	for _, e := range elems {
		if m, ok := e.(map[string]any); ok {
			takeFold(m, sub)
			if op != OpRemove {
				m[sub] = value
			}
		}
	}
	return elems
}

// applyFiltered applies an operation through a value filter (`emails[type eq "work"]`,
// optionally followed by a sub-attribute). A single-valued complex attribute is a list of at
// most one value (Entra removes its manager with `manager[value eq "id"]`).
func (a applier) applyFiltered(op string, attr schema.Path, elem *filter.Filter, sub string, value any) error {
	c := a.container(attr, op != OpRemove)
	if c == nil {
		return nil
	}
	name := attr.Attr.Name
	cur, _ := takeFold(c, name)
	elems := asList(cur)
	defer setValues(c, attr.Attr, &elems)
	var matched []map[string]any
	for _, e := range elems {
		if m, ok := e.(map[string]any); ok && elem.MatchElement(m) {
			matched = append(matched, m)
		}
	}
	switch {
	case op == OpRemove && sub == "":
		kept := elems[:0:0]
		for _, e := range elems {
			if m, ok := e.(map[string]any); !ok || !elem.MatchElement(m) {
				kept = append(kept, e)
			}
		}
		elems = kept
		return nil
	case op == OpRemove:
		for _, m := range matched {
			takeFold(m, sub)
		}
		return nil
	case len(matched) == 0 && op == OpReplace:
		return schema.Errorf(http.StatusBadRequest, schema.ScimTypeNoTarget, "no %q value matches the filter", attr.String())
	case len(matched) == 0:
		// Entra adds `emails[type eq "work"].value` to users without a work email.
		created := elem.Equalities()
		if sub != "" {
			created[sub] = value
		} else if vm, ok := value.(map[string]any); ok {
			created = merge(created, vm)
		} else {
			return schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidValue, "value for %q must be an object", attr.String())
		}
		elems = append(elems, created)
		return nil
	}
	for _, m := range matched {
		if sub != "" {
			if attr.Attr.SubAttribute(sub).Mutability == schema.MutabilityImmutable {
				if old, ok := takeFoldPeek(m, sub); ok && !contains(old, value) {
					return immutableError(attr, sub)
				}
			}
			takeFold(m, sub)
			m[sub] = value
			continue
		}
		vm, ok := value.(map[string]any)
		if !ok {
			return schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidValue, "value for %q must be an object", attr.String())
		}
		for k, v := range merge(map[string]any{}, vm) {
			takeFold(m, k)
			m[k] = v
		}
	}
	return nil
}

// setValues stores the values of attribute a in c: the list for a multi-valued attribute, else
// the one value (the last, when an add created one next to it); no values removes it.
func setValues(c map[string]any, a *schema.Attribute, values *[]any) {
	switch {
	case len(*values) == 0:
		delete(c, a.Name)
	case a.MultiValued:
		c[a.Name] = *values
	default:
		c[a.Name] = (*values)[len(*values)-1]
	}
}

// qualifyExtensionPath prefixes a PATCH path whose attribute the core schema lacks with the one
// extension that defines it: Entra sends "manager" and `manager[value eq "id"]` for the
// enterprise extension's manager, and "department" or "employeeNumber" alike. Paths that are
// qualified, core or ambiguous stay as they are.
func qualifyExtensionPath(rt *schema.ResourceType, path string) string {
	path = strings.TrimSpace(path)
	if len(path) >= 4 && strings.EqualFold(path[:4], "urn:") {
		return path
	}
	name := path
	if i := strings.IndexAny(name, ".["); i >= 0 {
		name = name[:i]
	}
	if rt.Schema.Attribute(name) != nil {
		return path
	}
	var owner *schema.Schema
	for _, ext := range rt.Extensions {
		if ext.Attribute(name) != nil {
			if owner != nil {
				return path
			}
			owner = ext
		}
	}
	if owner == nil {
		return path
	}
	return owner.ID + ":" + path
}
