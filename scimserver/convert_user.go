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
	"strings"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/schema"
	"github.com/kubescim/kubescim/scimserver/store"
)

// userAttributes renders a ScimUser's spec as a canonical SCIM map: core attributes by their JSON
// names, the enterprise extension and preserved extensions under their URN keys; "active" only
// when assigned. It holds no id, meta, schemas or groups.
func userAttributes(u *v1alpha1.ScimUser, base string) (map[string]any, error) {
	spec := u.Spec.DeepCopy()
	spec.MemberOf = nil
	enterprise, extensions := spec.Enterprise, spec.Extensions
	spec.Enterprise, spec.Extensions = nil, nil
	m, err := toMap(spec)
	if err != nil {
		return nil, err
	}
	if enterprise != nil {
		ent, err := toMap(enterprise)
		if err != nil {
			return nil, err
		}
		if mgr, ok := ent["manager"].(map[string]any); ok {
			if v, _ := mgr["value"].(string); v != "" {
				mgr["$ref"] = base + "/Users/" + v
			}
		}
		if len(ent) > 0 {
			m[schema.EnterpriseUserURN] = ent
		}
	}
	extensionsToMap(extensions, m)
	return m, nil
}

// userSpecFromMap converts a normalised SCIM map back into a ScimUserSpec. memberOf is not a SCIM
// attribute (groups is read-only), so the caller carries it over.
func userSpecFromMap(in map[string]any, memberOf []string) (v1alpha1.ScimUserSpec, error) {
	m := make(map[string]any, len(in))
	for k, v := range in {
		m[k] = v
	}
	for _, k := range []string{"id", "meta", "schemas", "groups", "password", "memberOf", "enterprise", "extensions"} {
		delete(m, k)
	}
	var enterprise map[string]any
	for k, v := range m {
		if strings.EqualFold(k, schema.EnterpriseUserURN) {
			enterprise, _ = v.(map[string]any)
			delete(m, k)
		}
	}
	ext, err := extensionsFromMap(m, schema.EnterpriseUserURN)
	if err != nil {
		return v1alpha1.ScimUserSpec{}, err
	}
	var spec v1alpha1.ScimUserSpec
	if err := fromMap(m, &spec); err != nil {
		return spec, err
	}
	if len(enterprise) > 0 {
		var ent v1alpha1.EnterpriseUser
		if err := fromMap(enterprise, &ent); err != nil {
			return spec, err
		}
		if ent.Manager != nil && ent.Manager.Value == "" && ent.Manager.DisplayName == "" {
			ent.Manager = nil
		}
		if ent != (v1alpha1.EnterpriseUser{}) {
			spec.Enterprise = &ent
		}
	}
	spec.Extensions = ext
	spec.MemberOf = memberOf
	return spec, nil
}

// userGroups computes the read-only "groups" attribute: the groups named in memberOf ("direct")
// and the groups those belong to, transitively ("indirect"). Cycles are cut.
func (s *Server) userGroups(ctx context.Context, u *v1alpha1.ScimUser, base string) ([]any, error) {
	seen := map[string]bool{}
	var out []any
	queue := append([]string(nil), u.Spec.MemberOf...)
	direct := len(queue)
	for i := 0; i < len(queue); i++ {
		name := queue[i]
		if seen[name] {
			continue
		}
		seen[name] = true
		g, err := s.repo.GroupByName(ctx, name)
		if store.ReasonOf(err) == store.NotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		kind := "indirect"
		if i < direct {
			kind = "direct"
		}
		id := v1alpha1.ScimID(g)
		out = append(out, map[string]any{
			"value":   id,
			"display": g.Spec.DisplayName,
			"$ref":    base + "/Groups/" + id,
			"type":    kind,
		})
		queue = append(queue, g.Spec.MemberOf...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].(map[string]any), out[j].(map[string]any)
		if a["type"] != b["type"] {
			return a["type"] == "direct"
		}
		return a["display"].(string) < b["display"].(string)
	})
	return out, nil
}

// userResource renders the full SCIM representation of u (before projection). groups is
// computed only when withGroups is set.
func (s *Server) userResource(ctx context.Context, u *v1alpha1.ScimUser, base string, withGroups bool) (map[string]any, error) {
	m, err := userAttributes(u, base)
	if err != nil {
		return nil, err
	}
	id := v1alpha1.ScimID(u)
	m["id"] = id
	schemas := []any{schema.UserURN}
	if _, ok := m[schema.EnterpriseUserURN]; ok {
		schemas = append(schemas, schema.EnterpriseUserURN)
	}
	m["schemas"] = withExtensionURNs(schemas, u.Spec.Extensions)
	m["meta"] = metaFor(u, "User", base+"/Users/"+id)
	if withGroups {
		groups, err := s.userGroups(ctx, u, base)
		if err != nil {
			return nil, err
		}
		if len(groups) > 0 {
			m["groups"] = groups
		}
	}
	return m, nil
}
