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

import "strings"

// ServiceProviderOptions are the configurable parts of the ServiceProviderConfig document.
type ServiceProviderOptions struct {
	// MaxResults is the maximum number of resources returned in a response.
	MaxResults int
	// BulkSupported tells clients whether /Bulk is served.
	BulkSupported bool
	// MaxOperations and MaxPayloadSize are the /Bulk limits.
	MaxOperations, MaxPayloadSize int
	// DocumentationURI points at human-readable help, omitted when empty.
	DocumentationURI string
}

// ServiceProviderConfig returns the /ServiceProviderConfig document (RFC 7643 §5).
func ServiceProviderConfig(o ServiceProviderOptions, baseURL string) map[string]any {
	doc := map[string]any{
		"schemas": []any{ServiceProviderConfigURN},
		"patch":   map[string]any{"supported": true},
		"bulk": map[string]any{
			"supported":      o.BulkSupported,
			"maxOperations":  o.MaxOperations,
			"maxPayloadSize": o.MaxPayloadSize,
		},
		"filter":         map[string]any{"supported": true, "maxResults": o.MaxResults},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": true},
		"etag":           map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication scheme using the OAuth Bearer Token Standard",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750",
			"primary":     true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     joinURL(baseURL, "/ServiceProviderConfig"),
		},
	}
	if o.DocumentationURI != "" {
		doc["documentationUri"] = o.DocumentationURI
	}
	return doc
}

// SchemaDocument returns the /Schemas/{id} document for s (RFC 7643 §7). The common
// attributes id, externalId and meta are left out, as RFC 7643 §3.1 defines them outside
// any schema.
func SchemaDocument(s *Schema, baseURL string) map[string]any {
	attrs := make([]any, 0, len(s.Attributes))
	for _, a := range s.Attributes {
		if !a.common {
			attrs = append(attrs, attributeDocument(a))
		}
	}
	return map[string]any{
		"schemas":     []any{SchemaURN},
		"id":          s.ID,
		"name":        s.Name,
		"description": s.Description,
		"attributes":  attrs,
		"meta": map[string]any{
			"resourceType": "Schema",
			"location":     joinURL(baseURL, "/Schemas/"+s.ID),
		},
	}
}

func attributeDocument(a *Attribute) map[string]any {
	doc := map[string]any{
		"name":        a.Name,
		"type":        a.Type,
		"multiValued": a.MultiValued,
		"description": a.Description,
		"required":    a.Required,
		"caseExact":   a.CaseExact,
		"mutability":  a.Mutability,
		"returned":    a.Returned,
		"uniqueness":  a.Uniqueness,
	}
	if len(a.CanonicalValues) > 0 {
		doc["canonicalValues"] = toAnySlice(a.CanonicalValues)
	}
	if len(a.ReferenceTypes) > 0 {
		doc["referenceTypes"] = toAnySlice(a.ReferenceTypes)
	}
	if len(a.SubAttributes) > 0 {
		subs := make([]any, 0, len(a.SubAttributes))
		for _, s := range a.SubAttributes {
			subs = append(subs, attributeDocument(s))
		}
		doc["subAttributes"] = subs
	}
	return doc
}

// ResourceTypeDocument returns the /ResourceTypes/{name} document for rt (RFC 7643 §6).
func ResourceTypeDocument(rt *ResourceType, baseURL string) map[string]any {
	exts := make([]any, 0, len(rt.Extensions))
	for _, e := range rt.Extensions {
		exts = append(exts, map[string]any{"schema": e.ID, "required": false})
	}
	doc := map[string]any{
		"schemas":     []any{ResourceTypeURN},
		"id":          rt.Name,
		"name":        rt.Name,
		"endpoint":    rt.Endpoint,
		"description": rt.Description,
		"schema":      rt.Schema.ID,
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     joinURL(baseURL, "/ResourceTypes/"+rt.Name),
		},
	}
	if len(exts) > 0 {
		doc["schemaExtensions"] = exts
	}
	return doc
}

func toAnySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func joinURL(base, path string) string {
	return strings.TrimRight(base, "/") + path
}
