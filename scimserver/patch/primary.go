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
	"net/http"
	"reflect"
	"strings"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// primaryAttributes lists the multi-valued attributes of rt whose values have a "primary"
// sub-attribute (emails, phoneNumbers, addresses, ...).
func primaryAttributes(rt *schema.ResourceType) []schema.Path {
	var out []schema.Path
	for _, s := range rt.Schemas() {
		for _, a := range s.Attributes {
			if a.MultiValued && a.SubAttribute("primary") != nil {
				out = append(out, schema.Path{Schema: s, Attr: a})
			}
		}
	}
	return out
}

// primaryValues identifies the values marked primary, per attribute, by the identity of their
// maps: an operation edits values in place or adds new ones, so a value that is primary now
// but not in this set was made primary by it.
type primaryValues map[string]map[uintptr]bool

func (a applier) primaries() primaryValues {
	out := primaryValues{}
	for _, p := range a.primaryAttrs {
		for _, v := range a.values(p) {
			if m, ok := v.(map[string]any); ok && isPrimary(m) {
				if out[p.String()] == nil {
					out[p.String()] = map[uintptr]bool{}
				}
				out[p.String()][reflect.ValueOf(m).Pointer()] = true
			}
		}
	}
	return out
}

// settlePrimaries applies RFC 7644 §3.5.2: a value the last operation made primary makes every
// other value of its attribute non-primary. An operation making two values primary at once is
// invalidValue.
func (a applier) settlePrimaries(before primaryValues) error {
	for _, p := range a.primaryAttrs {
		values := a.values(p)
		var made []map[string]any
		for _, v := range values {
			if m, ok := v.(map[string]any); ok && isPrimary(m) && !before[p.String()][reflect.ValueOf(m).Pointer()] {
				made = append(made, m)
			}
		}
		switch {
		case len(made) > 1:
			return schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidValue, "at most one value of %q may be primary", p.String())
		case len(made) == 1:
			for _, v := range values {
				if m, ok := v.(map[string]any); ok && isPrimary(m) && reflect.ValueOf(m).Pointer() != reflect.ValueOf(made[0]).Pointer() {
					takeFold(m, "primary")
					m["primary"] = false
				}
			}
		}
	}
	return nil
}

// values returns the values of the multi-valued attribute p in the resource being patched.
func (a applier) values(p schema.Path) []any {
	c := a.res
	if p.IsExtension() {
		ext, _ := takeFoldPeek(a.res, p.Schema.ID)
		if c, _ = ext.(map[string]any); c == nil {
			return nil
		}
	}
	v, _ := takeFoldPeek(c, p.Attr.Name)
	return asList(v)
}

// isPrimary reports whether a value is marked primary, also with the "True" strings IdPs send.
func isPrimary(m map[string]any) bool {
	switch v, _ := takeFoldPeek(m, "primary"); t := v.(type) {
	case bool:
		return t
	case string:
		return strings.EqualFold(strings.TrimSpace(t), "true")
	}
	return false
}
