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
	"errors"
	"net/http"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/patch"
	"github.com/kubescim/kubescim/scimserver/schema"
	"github.com/kubescim/kubescim/scimserver/store"
)

type groupHandlers struct{ s *Server }

func (s *Server) groups() resourceHandlers { return groupHandlers{s} }

func (s *Server) groupCollection() *collection {
	return &collection{
		rt:       schema.GroupResource,
		computed: "members",
		candidates: indexedCandidates(s.repo.ListGroups, map[string]attributeIndex{
			"id":          {v1alpha1.IndexUID, false},
			"displayName": {v1alpha1.IndexDisplayName, true},
			"externalId":  {v1alpha1.IndexExternalID, false},
		}),
		page: orderedPage(s.repo.GroupPage),
		render: func(ctx context.Context, obj client.Object, base string, withMembers bool) (map[string]any, error) {
			return s.groupResource(ctx, obj.(*v1alpha1.ScimGroup), base, withMembers)
		},
	}
}

func (h groupHandlers) handleList(w http.ResponseWriter, r *http.Request) error {
	return h.s.listCollection(w, r, h.s.groupCollection())
}

func (h groupHandlers) handleSearch(w http.ResponseWriter, r *http.Request) error {
	return h.s.searchCollection(w, r, h.s.groupCollection())
}

// writeGroup sends g projected by the request's attributes= / excludedAttributes=; the member
// index is read only when members are part of the answer.
func (h groupHandlers) writeGroup(w http.ResponseWriter, r *http.Request, status int, g *v1alpha1.ScimGroup) error {
	return h.s.writeProjected(w, r, status, h.s.groupCollection(), g)
}

func (h groupHandlers) handleGet(w http.ResponseWriter, r *http.Request, id string) error {
	g, err := h.s.repo.GetGroup(r.Context(), id)
	if err != nil {
		return err
	}
	return h.s.writeGetResponse(w, r, h.s.groupCollection(), g)
}

// normalizedGroup reads and normalises a Group body, requires displayName and splits off the
// member ids.
func normalizedGroup(r *http.Request) (map[string]any, []string, error) {
	body, err := decodeObject(r)
	if err != nil {
		return nil, nil, err
	}
	norm, err := schema.Normalize(schema.GroupResource, body)
	if err != nil {
		return nil, nil, err
	}
	if name, _ := norm["displayName"].(string); name == "" {
		return nil, nil, invalidValue("displayName is required")
	}
	var ids []string
	members, _ := norm["members"].([]any)
	for _, m := range members {
		elem, _ := m.(map[string]any)
		id, _ := elem["value"].(string)
		if id == "" {
			return nil, nil, invalidValue("every member needs a value")
		}
		ids = append(ids, id)
	}
	delete(norm, "members")
	return norm, ids, nil
}

func (h groupHandlers) handleCreate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	norm, ids, err := normalizedGroup(r)
	if err != nil {
		return err
	}
	spec, err := groupSpecFromMap(norm, nil)
	if err != nil {
		return err
	}
	if err := h.s.repo.CheckDisplayNameFree(ctx, spec.DisplayName, ""); err != nil {
		return err
	}
	changes := []store.MemberChange{{Kind: store.AddMembers, IDs: ids}}
	found, err := h.s.resolveMembers(ctx, &v1alpha1.ScimGroup{}, changes)
	if err != nil {
		return err
	}
	g, err := h.s.repo.CreateGroup(ctx, spec)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		if _, err := h.s.repo.ChangeMembers(ctx, g, changes, found); err != nil {
			return err
		}
	}
	return h.writeGroup(w, r, http.StatusCreated, g)
}

// setGroupSpec replaces next's spec, checking displayName uniqueness on a rename.
func (s *Server) setGroupSpec(ctx context.Context, next *v1alpha1.ScimGroup, spec v1alpha1.ScimGroupSpec) error {
	if v1alpha1.FoldKey(spec.DisplayName) != v1alpha1.FoldKey(next.Spec.DisplayName) {
		if err := s.repo.CheckDisplayNameFree(ctx, spec.DisplayName, next.UID); err != nil {
			return err
		}
	}
	if equality.Semantic.DeepEqual(spec, next.Spec) {
		return store.ErrUnchanged
	}
	next.Spec = spec
	return nil
}

// PUT replaces the group, members included (RFC 7644 §3.5.1): omitted members means none.
func (h groupHandlers) handleReplace(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	g, err := h.s.repo.GetGroup(ctx, id)
	if err != nil {
		return err
	}
	norm, ids, err := normalizedGroup(r)
	if err != nil {
		return err
	}
	changes := []store.MemberChange{{Kind: store.ReplaceMembers, IDs: ids}}
	found, err := h.s.resolveMembers(ctx, g, changes)
	if err != nil {
		return err
	}
	updated, err := h.s.repo.UpdateGroup(ctx, g, preconditionsOf(r), func(next *v1alpha1.ScimGroup) error {
		spec, err := groupSpecFromMap(norm, next.Spec.MemberOf)
		if err != nil {
			return err
		}
		return h.s.setGroupSpec(ctx, next, spec)
	})
	written := err == nil
	if errors.Is(err, store.ErrUnchanged) {
		updated, err = g, nil
	}
	if err != nil {
		return err
	}
	updated, err = h.s.finishMembers(ctx, updated, changes, found, written)
	if err != nil {
		return err
	}
	return h.writeGroup(w, r, http.StatusOK, updated)
}

// finishMembers applies member changes after the group's own attributes were written, and
// stamps the group when members changed but the group itself was not written.
func (s *Server) finishMembers(ctx context.Context, g *v1alpha1.ScimGroup, changes []store.MemberChange, found map[string]client.Object, written bool) (*v1alpha1.ScimGroup, error) {
	if len(changes) == 0 {
		return g, nil
	}
	changed, err := s.repo.ChangeMembers(ctx, g, changes, found)
	if err != nil {
		return nil, err
	}
	if changed == 0 || written {
		return g, nil
	}
	return s.repo.StampGroup(ctx, g)
}

func (h groupHandlers) handlePatch(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	g, err := h.s.repo.GetGroup(ctx, id)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	ops, err := patch.ParseRequest(body, h.s.opts.MaxPatchOperations)
	if err != nil {
		return err
	}
	// Member operations never load the member list (a group may have 100,000 members).
	rest, memberOps, err := patch.ExtractMemberOps(ops)
	if err != nil {
		return err
	}
	changes := memberChanges(memberOps)
	found, err := h.s.resolveMembers(ctx, g, changes)
	if err != nil {
		return err
	}
	pre := preconditionsOf(r)
	updated, written := g, false
	if len(rest) > 0 {
		base := h.s.baseURL(r)
		updated, err = h.s.repo.UpdateGroup(ctx, g, pre, func(next *v1alpha1.ScimGroup) error {
			res, err := h.s.groupResource(ctx, next, base, false)
			if err != nil {
				return err
			}
			patched, err := patch.Apply(schema.GroupResource, res, rest)
			if err != nil {
				return err
			}
			if name, _ := patched["displayName"].(string); name == "" {
				return invalidValue("displayName is required")
			}
			spec, err := groupSpecFromMap(patched, next.Spec.MemberOf)
			if err != nil {
				return err
			}
			return h.s.setGroupSpec(ctx, next, spec)
		})
		written = err == nil
		if errors.Is(err, store.ErrUnchanged) {
			updated, err = g, nil
		}
		if err != nil {
			return err
		}
	} else if updated, err = h.s.repo.CheckGroupPreconditions(ctx, g, pre); err != nil {
		return err
	}
	updated, err = h.s.finishMembers(ctx, updated, changes, found, written)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("attributes") == "" && q.Get("excludedAttributes") == "" {
		w.Header().Set("ETag", etagFor(updated.ResourceVersion))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return h.writeGroup(w, r, http.StatusOK, updated)
}

func (h groupHandlers) handleDelete(w http.ResponseWriter, r *http.Request, id string) error {
	g, err := h.s.repo.GetGroup(r.Context(), id)
	if err != nil {
		return err
	}
	if err := h.s.repo.DeleteGroup(r.Context(), g, preconditionsOf(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
