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
	cached, err := s.cachedUsers(ctx, v1alpha1.IndexUserName, v1alpha1.FoldKey(userName))
	if err != nil {
		return err
	}
	return checkNameFree(ctx, s, cached, &v1alpha1.ScimUser{}, userName, self,
		func(u *v1alpha1.ScimUser) string { return u.Spec.UserName }, "a User with userName %q already exists")
}

// CheckDisplayNameFree is CheckUserNameFree for a group's displayName.
func (s *Store) CheckDisplayNameFree(ctx context.Context, displayName string, self types.UID) error {
	cached, err := s.cachedGroups(ctx, v1alpha1.IndexDisplayName, v1alpha1.FoldKey(displayName))
	if err != nil {
		return err
	}
	return checkNameFree(ctx, s, cached, &v1alpha1.ScimGroup{}, displayName, self,
		func(g *v1alpha1.ScimGroup) string { return g.Spec.DisplayName }, "a Group with displayName %q already exists")
}

// checkNameFree is the check of both: cached holds the objects the index finds under name, and
// for a rename existing receives a live read of the object named after name.
func checkNameFree[T client.Object](ctx context.Context, s *Store, cached []T, existing T, name string, self types.UID,
	nameOf func(T) string, taken string) error {
	for _, o := range cached {
		if o.GetUID() != self {
			return nameTaken(taken, name)
		}
	}
	if self == "" {
		return nil
	}
	gctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	err := s.live.Get(gctx, client.ObjectKey{Name: v1alpha1.ObjectNameFor(name)}, existing)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case live(existing) && existing.GetUID() != self && v1alpha1.FoldKey(nameOf(existing)) == v1alpha1.FoldKey(name):
		return nameTaken(taken, name)
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
