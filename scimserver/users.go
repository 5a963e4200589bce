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

// resourceHandlers serve one resource endpoint (/Users or /Groups).
type resourceHandlers interface {
	handleList(w http.ResponseWriter, r *http.Request) error
	handleSearch(w http.ResponseWriter, r *http.Request) error
	handleCreate(w http.ResponseWriter, r *http.Request) error
	handleGet(w http.ResponseWriter, r *http.Request, id string) error
	handleReplace(w http.ResponseWriter, r *http.Request, id string) error
	handlePatch(w http.ResponseWriter, r *http.Request, id string) error
	handleDelete(w http.ResponseWriter, r *http.Request, id string) error
}

type userHandlers struct{ s *Server }

func (s *Server) users() resourceHandlers { return userHandlers{s} }

func (s *Server) userCollection() *collection {
	return &collection{
		rt:       schema.UserResource,
		computed: "groups",
		candidates: indexedCandidates(s.repo.ListUsers, map[string]attributeIndex{
			"id":         {v1alpha1.IndexUID, false},
			"userName":   {v1alpha1.IndexUserName, true},
			"externalId": {v1alpha1.IndexExternalID, false},
		}),
		page: orderedPage(s.repo.UserPage),
		render: func(ctx context.Context, obj client.Object, base string, withGroups bool) (map[string]any, error) {
			return s.userResource(ctx, obj.(*v1alpha1.ScimUser), base, withGroups)
		},
	}
}

func (h userHandlers) handleList(w http.ResponseWriter, r *http.Request) error {
	return h.s.listCollection(w, r, h.s.userCollection())
}

func (h userHandlers) handleSearch(w http.ResponseWriter, r *http.Request) error {
	return h.s.searchCollection(w, r, h.s.userCollection())
}

// writeUser sends u projected by the request's attributes= / excludedAttributes=.
func (h userHandlers) writeUser(w http.ResponseWriter, r *http.Request, status int, u *v1alpha1.ScimUser) error {
	return h.s.writeProjected(w, r, status, h.s.userCollection(), u)
}

func (h userHandlers) handleGet(w http.ResponseWriter, r *http.Request, id string) error {
	u, err := h.s.repo.GetUser(r.Context(), id)
	if err != nil {
		return err
	}
	return h.s.writeGetResponse(w, r, h.s.userCollection(), u)
}

// normalizedUser reads and normalises a User body and requires userName.
func normalizedUser(r *http.Request) (map[string]any, string, error) {
	body, err := decodeObject(r)
	if err != nil {
		return nil, "", err
	}
	norm, err := schema.Normalize(schema.UserResource, body)
	if err != nil {
		return nil, "", err
	}
	userName, _ := norm["userName"].(string)
	if userName == "" {
		return nil, "", invalidValue("userName is required")
	}
	return norm, userName, nil
}

func (h userHandlers) handleCreate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	norm, userName, err := normalizedUser(r)
	if err != nil {
		return err
	}
	if err := h.s.repo.CheckUserNameFree(ctx, userName, ""); err != nil {
		return err
	}
	spec, err := userSpecFromMap(norm, nil)
	if err != nil {
		return err
	}
	u, err := h.s.repo.CreateUser(ctx, spec)
	if err != nil {
		return err
	}
	return h.writeUser(w, r, http.StatusCreated, u)
}

func (h userHandlers) handleReplace(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	u, err := h.s.repo.GetUser(ctx, id)
	if err != nil {
		return err
	}
	norm, _, err := normalizedUser(r)
	if err != nil {
		return err
	}
	updated, err := h.s.repo.UpdateUser(ctx, u, preconditionsOf(r), func(next *v1alpha1.ScimUser) error {
		spec, err := userSpecFromMap(norm, next.Spec.MemberOf)
		if err != nil {
			return err
		}
		return h.s.setUserSpec(ctx, next, spec)
	})
	if errors.Is(err, store.ErrUnchanged) {
		updated, err = u, nil
	}
	if err != nil {
		return err
	}
	return h.writeUser(w, r, http.StatusOK, updated)
}

// setUserSpec replaces next's spec, checking userName uniqueness on a rename.
func (s *Server) setUserSpec(ctx context.Context, next *v1alpha1.ScimUser, spec v1alpha1.ScimUserSpec) error {
	if v1alpha1.FoldKey(spec.UserName) != v1alpha1.FoldKey(next.Spec.UserName) {
		if err := s.repo.CheckUserNameFree(ctx, spec.UserName, next.UID); err != nil {
			return err
		}
	}
	if equality.Semantic.DeepEqual(spec, next.Spec) {
		return store.ErrUnchanged
	}
	next.Spec = spec
	return nil
}

func (h userHandlers) handlePatch(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	u, err := h.s.repo.GetUser(ctx, id)
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
	base := h.s.baseURL(r)
	updated, err := h.s.repo.UpdateUser(ctx, u, preconditionsOf(r), func(next *v1alpha1.ScimUser) error {
		res, err := h.s.userResource(ctx, next, base, false)
		if err != nil {
			return err
		}
		patched, err := patch.Apply(schema.UserResource, res, ops)
		if err != nil {
			return err
		}
		if userName, _ := patched["userName"].(string); userName == "" {
			return invalidValue("userName is required")
		}
		spec, err := userSpecFromMap(patched, next.Spec.MemberOf)
		if err != nil {
			return err
		}
		return h.s.setUserSpec(ctx, next, spec)
	})
	if errors.Is(err, store.ErrUnchanged) {
		updated, err = u, nil
	}
	if err != nil {
		return err
	}
	// RFC 7644 §3.5.2 allows 200 with the resource; Okta expects the user back.
	return h.writeUser(w, r, http.StatusOK, updated)
}

func (h userHandlers) handleDelete(w http.ResponseWriter, r *http.Request, id string) error {
	u, err := h.s.repo.GetUser(r.Context(), id)
	if err != nil {
		return err
	}
	if err := h.s.repo.DeleteUser(r.Context(), u, preconditionsOf(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
