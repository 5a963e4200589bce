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
	"context"
	"sort"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/schema"
)

// groupSpecFromMap converts a normalised SCIM Group map into a ScimGroupSpec. members is handled
// separately (membership lives on the members); memberOf is carried over by the caller.
func groupSpecFromMap(in map[string]any, memberOf []string) (v1alpha1.ScimGroupSpec, error) {
	m := make(map[string]any, len(in))
	for k, v := range in {
		m[k] = v
	}
	for _, k := range []string{"id", "meta", "schemas", "members", "memberOf", "extensions"} {
		delete(m, k)
	}
	ext, err := extensionsFromMap(m, "")
	if err != nil {
		return v1alpha1.ScimGroupSpec{}, err
	}
	var spec v1alpha1.ScimGroupSpec
	if err := fromMap(m, &spec); err != nil {
		return spec, err
	}
	spec.Extensions = ext
	spec.MemberOf = memberOf
	return spec, nil
}

// groupResource renders the full SCIM representation of g (before projection). members is read
// from the memberOf index, and only when withMembers is set: a group may have 100,000 members.
func (s *Server) groupResource(ctx context.Context, g *v1alpha1.ScimGroup, base string, withMembers bool) (map[string]any, error) {
	id := v1alpha1.ScimID(g)
	m := map[string]any{
		"id":          id,
		"displayName": g.Spec.DisplayName,
	}
	if g.Spec.ExternalID != "" {
		m["externalId"] = g.Spec.ExternalID
	}
	extensionsToMap(g.Spec.Extensions, m)
	m["schemas"] = withExtensionURNs([]any{schema.GroupURN}, g.Spec.Extensions)
	m["meta"] = metaFor(g, "Group", base+"/Groups/"+id)
	if withMembers {
		members, err := s.groupMembers(ctx, g, base)
		if err != nil {
			return nil, err
		}
		if len(members) > 0 {
			m["members"] = members
		}
	}
	return m, nil
}

// groupMembers lists the direct members of g (users and groups whose memberOf names it).
func (s *Server) groupMembers(ctx context.Context, g *v1alpha1.ScimGroup, base string) ([]any, error) {
	users, groups, err := s.repo.GroupMembers(ctx, g.Name)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(users)+len(groups))
	for _, u := range users {
		id := v1alpha1.ScimID(u)
		out = append(out, map[string]any{
			"value": id, "display": u.Spec.UserName, "type": "User", "$ref": base + "/Users/" + id,
		})
	}
	for _, sub := range groups {
		id := v1alpha1.ScimID(sub)
		out = append(out, map[string]any{
			"value": id, "display": sub.Spec.DisplayName, "type": "Group", "$ref": base + "/Groups/" + id,
		})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].(map[string]any)["value"].(string) < out[j].(map[string]any)["value"].(string)
	})
	return out, nil
}
