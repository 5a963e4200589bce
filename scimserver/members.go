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

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/patch"
	"github.com/kubescim/kubescim/scimserver/store"
)

// memberChanges turns the member operations of a PATCH into the store's member changes.
func memberChanges(ops []patch.MemberOp) []store.MemberChange {
	if len(ops) == 0 {
		return nil
	}
	kinds := map[patch.MemberOpKind]store.MemberChangeKind{
		patch.AddMembers:       store.AddMembers,
		patch.RemoveMembers:    store.RemoveMembers,
		patch.ReplaceMembers:   store.ReplaceMembers,
		patch.RemoveAllMembers: store.RemoveAllMembers,
	}
	out := make([]store.MemberChange, len(ops))
	for i, op := range ops {
		out[i] = store.MemberChange{Kind: kinds[op.Kind], IDs: op.IDs}
	}
	return out
}

// resolveMembers looks up every member id the changes name (the store reads through what its
// cache misses). Ids to add must exist (400 invalidValue naming the unknown ones, before
// anything is written: no dangling reference is stored); ids to remove that do not exist are
// already not members, and are skipped.
func (s *Server) resolveMembers(ctx context.Context, group *v1alpha1.ScimGroup, changes []store.MemberChange) (map[string]client.Object, error) {
	var ids []string
	for _, c := range changes {
		for _, id := range c.IDs {
			if id == v1alpha1.ScimID(group) {
				return nil, invalidValue("a group cannot be a member of itself")
			}
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return map[string]client.Object{}, nil
	}
	found, err := s.repo.FindMembers(ctx, ids)
	if err != nil {
		return nil, err
	}
	var unknown []string
	named := map[string]bool{}
	for _, c := range changes {
		if c.Kind != store.AddMembers && c.Kind != store.ReplaceMembers {
			continue
		}
		for _, id := range c.IDs {
			if _, ok := found[id]; !ok && !named[id] {
				unknown = append(unknown, id)
				named[id] = true
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		shown := unknown
		if len(shown) > 10 {
			shown = shown[:10]
		}
		return nil, invalidValue("%d member value(s) name no User or Group: %s", len(unknown), strings.Join(shown, ", "))
	}
	return found, nil
}
