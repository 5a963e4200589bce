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

package store

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// CheckUserNameFree refuses with NameTaken when another user (not the object whose uid is self)
// holds userName, case-insensitively: by the cache index (users created with kubectl have any
// object name) and, for a rename (self set), by a live read of the name the store would give
// it. A rename racing with a create or another rename to the same userName can still slip
// through between this check and the write; creates cannot, as they rely on the API server's
// name uniqueness.
func (s *Store) CheckUserNameFree(ctx context.Context, userName string, self types.UID) error {
	users, err := s.cachedUsers(ctx, v1alpha1.IndexUserName, v1alpha1.FoldKey(userName))
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.UID != self {
			return nameTaken("a User with userName %q already exists", userName)
		}
	}
	if self == "" {
		return nil
	}
	var existing v1alpha1.ScimUser
	gctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	err = s.live.Get(gctx, client.ObjectKey{Name: v1alpha1.ObjectNameFor(userName)}, &existing)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case live(&existing) && existing.UID != self &&
		v1alpha1.FoldKey(existing.Spec.UserName) == v1alpha1.FoldKey(userName):
		return nameTaken("a User with userName %q already exists", userName)
	}
	return nil
}

// CheckDisplayNameFree is CheckUserNameFree for a group's displayName.
func (s *Store) CheckDisplayNameFree(ctx context.Context, displayName string, self types.UID) error {
	groups, err := s.cachedGroups(ctx, v1alpha1.IndexDisplayName, v1alpha1.FoldKey(displayName))
	if err != nil {
		return err
	}
	for _, g := range groups {
		if g.UID != self {
			return nameTaken("a Group with displayName %q already exists", displayName)
		}
	}
	if self == "" {
		return nil
	}
	var existing v1alpha1.ScimGroup
	gctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	err = s.live.Get(gctx, client.ObjectKey{Name: v1alpha1.ObjectNameFor(displayName)}, &existing)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case live(&existing) && existing.UID != self &&
		v1alpha1.FoldKey(existing.Spec.DisplayName) == v1alpha1.FoldKey(displayName):
		return nameTaken("a Group with displayName %q already exists", displayName)
	}
	return nil
}

// CheckGroupPreconditions decides pre for a write that changes only g's members on the live
// group, never on the cache, which may lag behind a write made through another replica (no
// write of the group itself follows to catch a stale match). It returns the group as checked.
func (s *Store) CheckGroupPreconditions(ctx context.Context, g *v1alpha1.ScimGroup, pre Preconditions) (*v1alpha1.ScimGroup, error) {
	if pre.IsZero() {
		return g, nil
	}
	fresh, err := liveCopy(ctx, s, g)
	if err != nil {
		return nil, err
	}
	if err := pre.check(fresh.ResourceVersion); err != nil {
		return nil, err
	}
	return fresh, nil
}
