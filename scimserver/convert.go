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

package scimserver

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/store"
)

// isURNKey reports whether a resource map key is an extension schema URN.
func isURNKey(k string) bool { return strings.HasPrefix(strings.ToLower(k), "urn:") }

// toMap round-trips v through JSON into a generic map.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// fromMap decodes a generic map into v; a type mismatch is a SCIM invalidValue.
func fromMap(m map[string]any, v any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return invalidValue("the resource cannot be encoded: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if ok := asTypeError(err, &typeErr); ok {
			return invalidValue("attribute %q has the wrong type (%s given)", typeErr.Field, typeErr.Value)
		}
		return invalidValue("the resource is not valid: %v", err)
	}
	return nil
}

func asTypeError(err error, target **json.UnmarshalTypeError) bool {
	te, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*target = te
	}
	return ok
}

// extensionsToMap puts stored extension attributes back under their URN keys.
func extensionsToMap(ext map[string]apiextensionsv1.JSON, m map[string]any) {
	for urn, raw := range ext {
		var v any
		if err := json.Unmarshal(raw.Raw, &v); err == nil && v != nil {
			m[urn] = v
		}
	}
}

// withExtensionURNs appends the URNs of the stored extensions to schemas, sorted so the answer
// is stable.
func withExtensionURNs(schemas []any, ext map[string]apiextensionsv1.JSON) []any {
	urns := make([]string, 0, len(ext))
	for urn := range ext {
		urns = append(urns, urn)
	}
	sort.Strings(urns)
	for _, urn := range urns {
		schemas = append(schemas, urn)
	}
	return schemas
}

// extensionsFromMap moves unknown extension URN keys (all but skip) out of m into stored form.
func extensionsFromMap(m map[string]any, skip string) (map[string]apiextensionsv1.JSON, error) {
	var ext map[string]apiextensionsv1.JSON
	for k, v := range m {
		if !isURNKey(k) || strings.EqualFold(k, skip) {
			continue
		}
		delete(m, k)
		if v == nil {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, invalidValue("extension %q cannot be encoded", k)
		}
		if ext == nil {
			ext = map[string]apiextensionsv1.JSON{}
		}
		ext[k] = apiextensionsv1.JSON{Raw: raw}
	}
	return ext, nil
}

// metaFor builds the meta attribute (RFC 7643 §3.1). created is the created-at annotation
// (else creationTimestamp) and never changes; lastModified is the changed-at annotation, never
// before created.
func metaFor(obj client.Object, resourceType, location string) map[string]any {
	ann := obj.GetAnnotations()
	created := obj.GetCreationTimestamp().Time
	if t, err := time.Parse(time.RFC3339Nano, ann[store.CreatedAtAnnotation]); err == nil {
		created = t
	}
	lastModified := created
	if t, err := time.Parse(time.RFC3339Nano, ann[v1alpha1.ChangedAtAnnotation]); err == nil && t.After(created) {
		lastModified = t
	}
	return map[string]any{
		"resourceType": resourceType,
		"created":      created.UTC().Format(rfc3339Milli),
		"lastModified": lastModified.UTC().Format(rfc3339Milli),
		"location":     location,
		"version":      etagFor(obj.GetResourceVersion()),
	}
}

const rfc3339Milli = "2006-01-02T15:04:05.000Z07:00"
