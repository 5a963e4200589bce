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
	"encoding/json"
	"strings"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// takeFold removes key from m, matching case-insensitively, and returns the value removed
// (the exact-case key wins when several match).
func takeFold(m map[string]any, key string) (any, bool) {
	v, found := m[key]
	delete(m, key)
	for k, kv := range m {
		if strings.EqualFold(k, key) {
			if !found {
				v, found = kv, true
			}
			delete(m, k)
		}
	}
	return v, found
}

// takeFoldPeek looks key up case-insensitively without removing it.
func takeFoldPeek(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func deleteFold(m map[string]any, key string) { takeFold(m, key) }

// dropEmpty removes m[key] when it is an empty list or object.
func dropEmpty(m map[string]any, key string) {
	switch t := m[key].(type) {
	case []any:
		if len(t) == 0 {
			delete(m, key)
		}
	case map[string]any:
		if len(t) == 0 {
			delete(m, key)
		}
	}
}

func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

// merge returns dst with the entries of src (deep-copied) set, replacing keys that differ
// only in case.
func merge(dst, src map[string]any) map[string]any {
	for k, v := range src {
		takeFold(dst, k)
		dst[k] = schema.Clone(v)
	}
	return dst
}

// mergeOrSet merges value into cur when both are objects, else returns value.
func mergeOrSet(cur, value any) any {
	cm, ok1 := cur.(map[string]any)
	vm, ok2 := value.(map[string]any)
	if ok1 && ok2 {
		return merge(cm, vm)
	}
	return value
}

// appendUnique appends the values not already present.
func appendUnique(cur, add []any) []any {
	out := cur
	for _, v := range add {
		dup := false
		for _, e := range out {
			if equal(e, v) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

// removeValues removes the elements equal to one of values; complex elements also match on
// an equal "value" sub-attribute (Entra sends [{"value": id}] for an element with more).
func removeValues(cur, values []any) []any {
	out := cur[:0:0]
	for _, e := range cur {
		drop := false
		for _, v := range values {
			if equal(e, v) || sameValue(e, v) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, e)
		}
	}
	return out
}

func sameValue(a, b any) bool {
	am, ok1 := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if !ok1 || !ok2 {
		return false
	}
	av, _ := takeFoldPeek(am, "value")
	bv, _ := takeFoldPeek(bm, "value")
	return av != nil && equal(av, bv)
}

// contains reports whether want is cur, or (for objects) a subset of it.
func contains(cur, want any) bool {
	cm, ok1 := cur.(map[string]any)
	wm, ok2 := want.(map[string]any)
	if ok1 && ok2 {
		for k, wv := range wm {
			cv, _ := takeFoldPeek(cm, k)
			if !contains(cv, wv) {
				return false
			}
		}
		return true
	}
	return equal(cur, want)
}

// equal compares JSON values; numbers compare by value whatever their Go type.
func equal(a, b any) bool {
	switch at := a.(type) {
	case map[string]any:
		bt, ok := b.(map[string]any)
		if !ok || len(at) != len(bt) {
			return false
		}
		for k, av := range at {
			bv, ok := bt[k]
			if !ok || !equal(av, bv) {
				return false
			}
		}
		return true
	case []any:
		bt, ok := b.([]any)
		if !ok || len(at) != len(bt) {
			return false
		}
		for i := range at {
			if !equal(at[i], bt[i]) {
				return false
			}
		}
		return true
	case string:
		bs, ok := b.(string)
		return ok && at == bs
	case bool:
		bb, ok := b.(bool)
		return ok && at == bb
	case nil:
		return b == nil
	}
	if _, isNum := b.(string); isNum {
		return false
	}
	af, ok1 := number(a)
	bf, ok2 := number(b)
	return ok1 && ok2 && af == bf
}

func number(v any) (float64, bool) {
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		return f, err == nil
	}
	if _, isString := v.(string); isString {
		return 0, false
	}
	return schema.ToFloat(v)
}
