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

// ResourceType is a resource type (RFC 7643 §6): a core schema plus optional extensions.
type ResourceType struct {
	Name        string
	Endpoint    string
	Description string
	Schema      *Schema
	// Extensions are the declared schema extensions; none is required.
	Extensions []*Schema
}

// UserResource is the User resource type, served at /Users.
var UserResource = &ResourceType{
	Name:        "User",
	Endpoint:    "/Users",
	Description: "User Account",
	Schema:      User,
	Extensions:  []*Schema{EnterpriseUser},
}

// GroupResource is the Group resource type, served at /Groups.
var GroupResource = &ResourceType{
	Name:        "Group",
	Endpoint:    "/Groups",
	Description: "Group",
	Schema:      Group,
}

// Extension returns the declared extension whose URN equals urn (case-insensitive), or nil.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, s := range rt.Extensions {
		if strings.EqualFold(s.ID, urn) {
			return s
		}
	}
	return nil
}

// Schemas returns the core schema followed by the extensions.
func (rt *ResourceType) Schemas() []*Schema {
	return append([]*Schema{rt.Schema}, rt.Extensions...)
}

// SchemaURNs returns the "schemas" value for a resource: the core URN plus the URN of each
// declared extension that res carries.
func (rt *ResourceType) SchemaURNs(res map[string]any) []any {
	urns := []any{rt.Schema.ID}
	for _, s := range rt.Extensions {
		if _, ok := res[s.ID]; ok {
			urns = append(urns, s.ID)
		}
	}
	return urns
}
