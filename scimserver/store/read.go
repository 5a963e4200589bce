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
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// live reports whether an object exists for SCIM: objects being deleted are already gone.
func live(obj client.Object) bool { return obj.GetDeletionTimestamp() == nil }

// cachedUsers lists ScimUsers from the cache, optionally by one index value, without deleted
// ones. The objects are the cache's own (no deep copy, which would cost a copy of every user on
// each unfiltered page): never modify them; writes copy before they write.
func (s *Store) cachedUsers(ctx context.Context, index, value string) ([]*v1alpha1.ScimUser, error) {
	var list v1alpha1.ScimUserList
	opts := []client.ListOption{client.UnsafeDisableDeepCopy}
	if index != "" {
		opts = append(opts, client.MatchingFields{index: value})
	}
	if err := s.cache.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("listing ScimUsers: %w", err)
	}
	out := make([]*v1alpha1.ScimUser, 0, len(list.Items))
	for i := range list.Items {
		if live(&list.Items[i]) {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

// cachedGroups lists ScimGroups from the cache like cachedUsers: shared objects, never modified.
func (s *Store) cachedGroups(ctx context.Context, index, value string) ([]*v1alpha1.ScimGroup, error) {
	var list v1alpha1.ScimGroupList
	opts := []client.ListOption{client.UnsafeDisableDeepCopy}
	if index != "" {
		opts = append(opts, client.MatchingFields{index: value})
	}
	if err := s.cache.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("listing ScimGroups: %w", err)
	}
	out := make([]*v1alpha1.ScimGroup, 0, len(list.Items))
	for i := range list.Items {
		if live(&list.Items[i]) {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

// ListUsers lists users from the cache; when the cache has no user with index = value, it
// reads through to the API server.
func (s *Store) ListUsers(ctx context.Context, index, value string) ([]*v1alpha1.ScimUser, error) {
	users, err := s.cachedUsers(ctx, index, value)
	if err != nil || len(users) > 0 || index == "" {
		return users, err
	}
	objs, err := s.readThrough(ctx, &v1alpha1.ScimUserList{}, index, value)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		users = append(users, o.(*v1alpha1.ScimUser))
	}
	return users, nil
}

// ListGroups is ListUsers for groups.
func (s *Store) ListGroups(ctx context.Context, index, value string) ([]*v1alpha1.ScimGroup, error) {
	groups, err := s.cachedGroups(ctx, index, value)
	if err != nil || len(groups) > 0 || index == "" {
		return groups, err
	}
	objs, err := s.readThrough(ctx, &v1alpha1.ScimGroupList{}, index, value)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		groups = append(groups, o.(*v1alpha1.ScimGroup))
	}
	return groups, nil
}

// GetUser finds a user by SCIM id, reading through to the API server on a cache miss.
func (s *Store) GetUser(ctx context.Context, id string) (*v1alpha1.ScimUser, error) {
	users, err := s.ListUsers(ctx, v1alpha1.IndexUID, id)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, notFoundError("User", id)
	}
	return oldest(ctx, id, users), nil
}

// GetGroup finds a group by SCIM id, reading through to the API server on a cache miss.
func (s *Store) GetGroup(ctx context.Context, id string) (*v1alpha1.ScimGroup, error) {
	groups, err := s.ListGroups(ctx, v1alpha1.IndexUID, id)
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, notFoundError("Group", id)
	}
	return oldest(ctx, id, groups), nil
}

// GroupByName reads the group of object name name from the cache (a user's memberOf names
// groups by object name).
func (s *Store) GroupByName(ctx context.Context, name string) (*v1alpha1.ScimGroup, error) {
	var g v1alpha1.ScimGroup
	if err := s.cache.Get(ctx, client.ObjectKey{Name: name}, &g); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, notFoundError("Group", name)
		}
		return nil, err
	}
	if !live(&g) {
		return nil, notFoundError("Group", name)
	}
	return &g, nil
}

// oldest picks the object that answers for SCIM id id among objs, live objects that all carry
// it. More than one means someone copied an object with its id label (kubectl get -o yaml, then
// create under another name). The oldest (by creation, then name, the same on every replica) is
// the original the IdP knows; the copies are still listed, under the same id, but a lookup or a
// write by id never reaches them, and never merges them into one resource.
func oldest[T client.Object](ctx context.Context, id string, objs []T) T {
	if len(objs) > 1 {
		ctrl.LoggerFrom(ctx).Info("More than one object carries one SCIM id label; answering the oldest", "id", id, "objects", len(objs))
	}
	return slices.MinFunc(objs, func(a, b T) int { return CompareDefaultOrder(a, b) })
}

// liveCopy reads obj from the API server (not the cache); an object deleted or replaced since
// is NotFound.
func liveCopy[T client.Object](ctx context.Context, s *Store, obj T) (T, error) {
	var zero T
	fresh := obj.DeepCopyObject().(T)
	gctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := s.live.Get(gctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
		if apierrors.IsNotFound(err) {
			return zero, notFoundError(kindOf(obj), v1alpha1.ScimID(obj))
		}
		return zero, err
	}
	if !live(fresh) || fresh.GetUID() != obj.GetUID() {
		return zero, notFoundError(kindOf(obj), v1alpha1.ScimID(obj))
	}
	return fresh, nil
}

func kindOf(obj client.Object) string {
	if _, ok := obj.(*v1alpha1.ScimGroup); ok {
		return "Group"
	}
	return "User"
}
