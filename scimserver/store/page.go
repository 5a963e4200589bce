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
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// UserPage returns a page of users in the default order: from the order when it follows the
// cache, reading only the page's users from the cache; else (before its handler has seen the
// whole cache) by sorting every user.
func (s *Store) UserPage(ctx context.Context, offset, limit int) ([]*v1alpha1.ScimUser, int, error) {
	return page(ctx, s, s.users, offset, limit, s.cachedUsers, func() *v1alpha1.ScimUser { return &v1alpha1.ScimUser{} })
}

// GroupPage is UserPage for groups.
func (s *Store) GroupPage(ctx context.Context, offset, limit int) ([]*v1alpha1.ScimGroup, int, error) {
	return page(ctx, s, s.groups, offset, limit, s.cachedGroups, func() *v1alpha1.ScimGroup { return &v1alpha1.ScimGroup{} })
}

func page[T client.Object](ctx context.Context, s *Store, o *order, offset, limit int,
	all func(ctx context.Context, index, value string) ([]T, error), newObj func() T) ([]T, int, error) {
	if !o.following() {
		objs, err := all(ctx, "", "")
		if err != nil {
			return nil, 0, err
		}
		slices.SortStableFunc(objs, func(a, b T) int { return CompareDefaultOrder(a, b) })
		if offset < 0 || offset >= len(objs) || limit <= 0 {
			return nil, len(objs), nil
		}
		return objs[offset:min(len(objs), offset+limit)], len(objs), nil
	}
	names, total := o.page(offset, limit)
	out := make([]T, 0, len(names))
	for _, name := range names {
		obj := newObj()
		// The cache's own object, shallow-copied: never modified (see cachedUsers).
		err := s.cache.Get(ctx, client.ObjectKey{Name: name}, obj, client.UnsafeDisableDeepCopy)
		if apierrors.IsNotFound(err) {
			continue // deleted after the page was taken; its delete event is on its way
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading %T %s: %w", obj, name, err)
		}
		if live(obj) {
			out = append(out, obj)
		}
	}
	return out, total, nil
}

// orderOf is the list order of obj's kind.
func (s *Store) orderOf(obj client.Object) *order {
	if _, ok := obj.(*v1alpha1.ScimGroup); ok {
		return s.groups
	}
	return s.users
}
