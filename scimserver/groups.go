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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/patch"
	"github.com/kubescim/kubescim/scimserver/schema"
)

type groupHandlers struct{ s *Server }

func (s *Server) groups() resourceHandlers { return groupHandlers{s} }

func (s *Server) groupCollection() *collection {
	return &collection{
		rt:       schema.GroupResource,
		computed: "members",
		candidates: indexedCandidates(s.lookupGroups, map[string]attributeIndex{
			"id":          {v1alpha1.IndexUID, false},
			"displayName": {v1alpha1.IndexDisplayName, true},
			"externalId":  {v1alpha1.IndexExternalID, false},
		}),
		render: func(ctx context.Context, obj client.Object, base string, withMembers bool) (map[string]any, error) {
			return s.groupResource(ctx, obj.(*v1alpha1.ScimGroup), base, withMembers)
		},
	}
}

func (h groupHandlers) list(w http.ResponseWriter, r *http.Request) error {
	return h.s.listCollection(w, r, h.s.groupCollection())
}

func (h groupHandlers) search(w http.ResponseWriter, r *http.Request) error {
	return h.s.searchCollection(w, r, h.s.groupCollection())
}

// respond renders g projected by the request's attributes= / excludedAttributes=; the member
// index is read only when members are part of the answer.
func (h groupHandlers) respond(w http.ResponseWriter, r *http.Request, status int, g *v1alpha1.ScimGroup) error {
	return h.s.respond(w, r, status, h.s.groupCollection(), g)
}

func (h groupHandlers) get(w http.ResponseWriter, r *http.Request, id string) error {
	g, err := h.s.groupByID(r.Context(), id)
	if err != nil {
		return err
	}
	return h.s.respondToGet(w, r, h.s.groupCollection(), g)
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

// checkDisplayNameFree returns 409 uniqueness when another group (not the object whose uid is
// self) has displayName, case-insensitively. As for users, a rename racing with another write of the same displayName
// can slip through; creates rely on the API server's name uniqueness.
func (s *Server) checkDisplayNameFree(ctx context.Context, displayName, self string) error {
	groups, err := s.listGroups(ctx, v1alpha1.IndexDisplayName, v1alpha1.FoldKey(displayName))
	if err != nil {
		return err
	}
	for _, g := range groups {
		if string(g.UID) != self {
			return uniqueness("a Group with displayName %q already exists", displayName)
		}
	}
	if self == "" {
		return nil
	}
	var existing v1alpha1.ScimGroup
	gctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	err = s.apiReader.Get(gctx, client.ObjectKey{Name: v1alpha1.ObjectNameFor(displayName)}, &existing)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case live(&existing) && string(existing.UID) != self &&
		v1alpha1.FoldKey(existing.Spec.DisplayName) == v1alpha1.FoldKey(displayName):
		return uniqueness("a Group with displayName %q already exists", displayName)
	}
	return nil
}

func (h groupHandlers) create(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	norm, ids, err := normalizedGroup(r)
	if err != nil {
		return err
	}
	spec, err := groupSpecFromMap(norm, nil)
	if err != nil {
		return err
	}
	if err := h.s.checkDisplayNameFree(ctx, spec.DisplayName, ""); err != nil {
		return err
	}
	ops := []patch.MemberOp{{Kind: patch.AddMembers, IDs: ids}}
	resolved, err := h.s.resolveMembers(ctx, &v1alpha1.ScimGroup{}, ops)
	if err != nil {
		return err
	}
	name := v1alpha1.ObjectNameFor(spec.DisplayName)
	// The finalizer is set at creation, so members are cleaned up even if the group is deleted
	// before the group controller first sees it.
	meta := metav1.ObjectMeta{Name: name, Finalizers: []string{v1alpha1.GroupFinalizer}}
	g := &v1alpha1.ScimGroup{ObjectMeta: meta, Spec: spec}
	err = h.s.create(ctx, g)
	if apierrors.IsAlreadyExists(err) {
		var existing v1alpha1.ScimGroup
		gctx, cancel := context.WithTimeout(ctx, apiTimeout)
		gerr := h.s.apiReader.Get(gctx, client.ObjectKey{Name: name}, &existing)
		cancel()
		if gerr == nil && live(&existing) && v1alpha1.FoldKey(existing.Spec.DisplayName) == v1alpha1.FoldKey(spec.DisplayName) {
			return uniqueness("a Group with displayName %q already exists", spec.DisplayName)
		}
		meta.Name, meta.GenerateName = "", name+"-"
		g = &v1alpha1.ScimGroup{ObjectMeta: meta, Spec: spec}
		err = h.s.create(ctx, g)
	}
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		if _, err := h.s.applyMemberOps(ctx, g, ops, resolved); err != nil {
			return err
		}
	}
	return h.respond(w, r, http.StatusCreated, g)
}

// setGroupSpec replaces next's spec, checking displayName uniqueness on a rename.
func (s *Server) setGroupSpec(ctx context.Context, next *v1alpha1.ScimGroup, spec v1alpha1.ScimGroupSpec) error {
	if v1alpha1.FoldKey(spec.DisplayName) != v1alpha1.FoldKey(next.Spec.DisplayName) {
		if err := s.checkDisplayNameFree(ctx, spec.DisplayName, string(next.UID)); err != nil {
			return err
		}
	}
	if equality.Semantic.DeepEqual(spec, next.Spec) {
		return errUnchanged
	}
	next.Spec = spec
	return nil
}

// PUT replaces the group, members included (RFC 7644 §3.5.1): omitted members means none.
func (h groupHandlers) replace(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	g, err := h.s.groupByID(ctx, id)
	if err != nil {
		return err
	}
	norm, ids, err := normalizedGroup(r)
	if err != nil {
		return err
	}
	ops := []patch.MemberOp{{Kind: patch.ReplaceMembers, IDs: ids}}
	resolved, err := h.s.resolveMembers(ctx, g, ops)
	if err != nil {
		return err
	}
	updated, err := update(ctx, h.s, g, preconditionsOf(r), func(next *v1alpha1.ScimGroup) error {
		spec, err := groupSpecFromMap(norm, next.Spec.MemberOf)
		if err != nil {
			return err
		}
		return h.s.setGroupSpec(ctx, next, spec)
	})
	written := err == nil
	if errors.Is(err, errUnchanged) {
		updated, err = g, nil
	}
	if err != nil {
		return err
	}
	updated, err = h.s.finishMembers(ctx, updated, ops, resolved, written)
	if err != nil {
		return err
	}
	return h.respond(w, r, http.StatusOK, updated)
}

// finishMembers applies member operations after the group's own attributes were written, and
// stamps the group when members changed but the group itself was not written.
func (s *Server) finishMembers(ctx context.Context, g *v1alpha1.ScimGroup, ops []patch.MemberOp, resolved map[string]client.Object, written bool) (*v1alpha1.ScimGroup, error) {
	if len(ops) == 0 {
		return g, nil
	}
	changed, err := s.applyMemberOps(ctx, g, ops, resolved)
	if err != nil {
		return nil, err
	}
	if changed == 0 || written {
		return g, nil
	}
	return s.touchGroup(ctx, g)
}

func (h groupHandlers) patch(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	g, err := h.s.groupByID(ctx, id)
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
	resolved, err := h.s.resolveMembers(ctx, g, memberOps)
	if err != nil {
		return err
	}
	pre := preconditionsOf(r)
	updated, written := g, false
	if len(rest) > 0 {
		base := h.s.baseURL(r)
		updated, err = update(ctx, h.s, g, pre, func(next *v1alpha1.ScimGroup) error {
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
		if errors.Is(err, errUnchanged) {
			updated, err = g, nil
		}
		if err != nil {
			return err
		}
	} else if updated, err = h.s.checkGroupPreconditions(ctx, g, pre); err != nil {
		return err
	}
	updated, err = h.s.finishMembers(ctx, updated, memberOps, resolved, written)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("attributes") == "" && q.Get("excludedAttributes") == "" {
		w.Header().Set("ETag", etagFor(updated.ResourceVersion))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return h.respond(w, r, http.StatusOK, updated)
}

// checkGroupPreconditions decides If-Match / If-None-Match of a request that changes only the
// members on the live group, never on the cache, which may lag behind a write made through
// another replica (no write of the group itself follows to catch a stale match). It returns the
// group as checked.
func (s *Server) checkGroupPreconditions(ctx context.Context, g *v1alpha1.ScimGroup, pre preconditions) (*v1alpha1.ScimGroup, error) {
	if pre == (preconditions{}) {
		return g, nil
	}
	fresh, err := liveCopy(ctx, s, g)
	if err != nil {
		return nil, err
	}
	if err := pre.checkWrite(fresh.ResourceVersion); err != nil {
		return nil, err
	}
	return fresh, nil
}

func (h groupHandlers) delete(w http.ResponseWriter, r *http.Request, id string) error {
	g, err := h.s.groupByID(r.Context(), id)
	if err != nil {
		return err
	}
	// The group controller's finalizer removes the group from its members' memberOf; from now
	// on SCIM treats the group as gone.
	if err := h.s.remove(r.Context(), g, preconditionsOf(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
