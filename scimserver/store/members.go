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
	"maps"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// memberWorkers bounds the parallel member writes of one ChangeMembers.
const memberWorkers = 16

// MemberChangeKind says how a MemberChange changes a group's members.
type MemberChangeKind int

const (
	// AddMembers adds IDs (present ones stay).
	AddMembers MemberChangeKind = iota
	// RemoveMembers removes IDs (absent ones are skipped).
	RemoveMembers
	// ReplaceMembers makes IDs the members.
	ReplaceMembers
	// RemoveAllMembers removes every member.
	RemoveAllMembers
)

// MemberChange is a change to a group's members, by member SCIM id.
type MemberChange struct {
	Kind MemberChangeKind
	IDs  []string
}

// FindMembers looks up users and groups by SCIM id, in the cache and then, for the ids it
// misses (a user just created through another replica), on the API server in one batched read
// per kind. Ids it finds nowhere are missing from the answer.
func (s *Store) FindMembers(ctx context.Context, ids []string) (map[string]client.Object, error) {
	found := map[string]client.Object{}
	missed := map[string]bool{}
	for _, id := range ids {
		if _, done := found[id]; done || missed[id] {
			continue
		}
		obj, err := s.memberByID(ctx, id)
		if err != nil {
			return nil, err
		}
		if obj != nil {
			found[id] = obj
		} else {
			missed[id] = true
		}
	}
	if err := s.readMembersThrough(ctx, missed, found); err != nil {
		return nil, err
	}
	return found, nil
}

// memberByID finds the user or group whose SCIM id is id, in the cache.
func (s *Store) memberByID(ctx context.Context, id string) (client.Object, error) {
	users, err := s.cachedUsers(ctx, v1alpha1.IndexUID, id)
	if err != nil {
		return nil, err
	}
	if len(users) > 0 {
		return oldest(ctx, id, users), nil
	}
	groups, err := s.cachedGroups(ctx, v1alpha1.IndexUID, id)
	if err != nil {
		return nil, err
	}
	if len(groups) > 0 {
		return oldest(ctx, id, groups), nil
	}
	return nil, nil
}

// readMembersThrough finds the member ids the cache missed on the API server, users first, and
// moves those it finds from missed to found.
func (s *Store) readMembersThrough(ctx context.Context, missed map[string]bool, found map[string]client.Object) error {
	for _, list := range []client.ObjectList{&v1alpha1.ScimUserList{}, &v1alpha1.ScimGroupList{}} {
		if len(missed) == 0 {
			return nil
		}
		objs, err := s.readThrough(ctx, list, v1alpha1.IndexUID, slices.Collect(maps.Keys(missed))...)
		if err != nil {
			return err
		}
		byID := map[string][]client.Object{}
		for _, obj := range objs {
			id := v1alpha1.ScimID(obj)
			byID[id] = append(byID[id], obj)
		}
		for id, objs := range byID {
			found[id] = oldest(ctx, id, objs)
			delete(missed, id)
		}
	}
	return nil
}

// GroupMembers lists the direct members of the group of object name name (the users and
// groups whose memberOf names it), from the cache's memberOf index.
func (s *Store) GroupMembers(ctx context.Context, name string) ([]*v1alpha1.ScimUser, []*v1alpha1.ScimGroup, error) {
	s.memberListings.Add(1)
	users, err := s.cachedUsers(ctx, v1alpha1.IndexMemberOf, name)
	if err != nil {
		return nil, nil, err
	}
	groups, err := s.cachedGroups(ctx, v1alpha1.IndexMemberOf, name)
	if err != nil {
		return nil, nil, err
	}
	return users, groups, nil
}

// currentMembers returns the direct members of the group named name, by SCIM id.
func (s *Store) currentMembers(ctx context.Context, name string) (map[string]client.Object, error) {
	users, groups, err := s.GroupMembers(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make(map[string]client.Object, len(users)+len(groups))
	for _, u := range users {
		out[v1alpha1.ScimID(u)] = u
	}
	for _, g := range groups {
		out[v1alpha1.ScimID(g)] = g
	}
	return out, nil
}

// ChangeMembers writes the membership changes, in order, onto the members' memberOf. found
// holds the members the changes name (FindMembers). Only ReplaceMembers and RemoveAllMembers
// read the current member list (from the index); adds and removes touch only the members they
// name. It returns how many members changed. Writes are independent per member, so a failure
// part-way leaves the earlier ones applied (the client retries, and each write is idempotent).
func (s *Store) ChangeMembers(ctx context.Context, group *v1alpha1.ScimGroup, changes []MemberChange, found map[string]client.Object) (int, error) {
	desired := map[string]bool{}
	objs := map[string]client.Object{}
	for _, op := range changes {
		switch op.Kind {
		case ReplaceMembers, RemoveAllMembers:
			current, err := s.currentMembers(ctx, group.Name)
			if err != nil {
				return 0, err
			}
			for id, obj := range current {
				desired[id], objs[id] = false, obj
			}
			if op.Kind == RemoveAllMembers {
				continue
			}
			fallthrough
		case AddMembers:
			for _, id := range op.IDs {
				desired[id], objs[id] = true, found[id]
			}
		case RemoveMembers:
			for _, id := range op.IDs {
				if obj, ok := found[id]; ok {
					desired[id], objs[id] = false, obj
				}
			}
		}
	}
	type job struct {
		obj  client.Object
		want bool
	}
	var jobs []job
	for id, want := range desired {
		obj := objs[id]
		if slices.Contains(memberOfOf(obj), group.Name) != want {
			jobs = append(jobs, job{obj, want})
		}
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	ch := make(chan job)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(memberWorkers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := s.setMembership(ctx, j.obj, group.Name, j.want); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	return len(jobs), firstErr
}

func memberOfOf(obj client.Object) []string {
	switch o := obj.(type) {
	case *v1alpha1.ScimUser:
		return o.Spec.MemberOf
	case *v1alpha1.ScimGroup:
		return o.Spec.MemberOf
	}
	return nil
}

func setMemberOf(obj client.Object, memberOf []string) {
	switch o := obj.(type) {
	case *v1alpha1.ScimUser:
		o.Spec.MemberOf = memberOf
	case *v1alpha1.ScimGroup:
		o.Spec.MemberOf = memberOf
	}
}

// setMembership adds or removes groupName in obj's memberOf with an optimistic-lock merge patch,
// re-reading and retrying on conflict (conflictBackoff), so concurrent membership changes never
// lose an update.
func (s *Store) setMembership(ctx context.Context, obj client.Object, groupName string, want bool) error {
	current := obj
	attempts := 0
	var written client.Object
	err := retryConflicts(func() error {
		attempts++
		if attempts > 1 {
			fresh := obj.DeepCopyObject().(client.Object)
			gctx, cancel := context.WithTimeout(ctx, apiTimeout)
			err := s.live.Get(gctx, client.ObjectKeyFromObject(obj), fresh)
			cancel()
			if apierrors.IsNotFound(err) && !want {
				return nil
			}
			if err != nil {
				return err
			}
			if fresh.GetUID() != obj.GetUID() || !live(fresh) {
				if !want {
					return nil
				}
				return invalid("member %s was deleted", v1alpha1.ScimID(obj))
			}
			current = fresh
		}
		memberOf := memberOfOf(current)
		if slices.Contains(memberOf, groupName) == want {
			return nil
		}
		next := current.DeepCopyObject().(client.Object)
		if want {
			setMemberOf(next, append(slices.Clone(memberOf), groupName))
		} else {
			setMemberOf(next, slices.DeleteFunc(slices.Clone(memberOf), func(n string) bool { return n == groupName }))
		}
		stamp(ctx, next)
		pctx, cancel := context.WithTimeout(ctx, apiTimeout)
		err := s.writer.Patch(pctx, next, client.MergeFromWithOptions(current, client.MergeFromWithOptimisticLock{}))
		cancel()
		if apierrors.IsNotFound(err) && !want {
			return nil
		}
		if err == nil {
			written = next
		}
		return err
	})
	if apierrors.IsConflict(err) {
		return fmt.Errorf("updating memberOf of %s after %d conflicts: %w", obj.GetName(), attempts, err)
	}
	if err != nil {
		return err
	}
	if written != nil {
		s.awaitCache(ctx, written)
	}
	return nil
}
