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
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/patch"
)

// memberWorkers bounds the parallel member writes of one request.
const memberWorkers = 16

// memberByID finds the user or group whose SCIM id is id, in the cache.
func (s *Server) memberByID(ctx context.Context, id string) (client.Object, error) {
	users, err := s.listUsers(ctx, v1alpha1.IndexUID, id)
	if err != nil {
		return nil, err
	}
	if len(users) > 0 {
		return oldest(ctx, id, users), nil
	}
	groups, err := s.listGroups(ctx, v1alpha1.IndexUID, id)
	if err != nil {
		return nil, err
	}
	if len(groups) > 0 {
		return oldest(ctx, id, groups), nil
	}
	return nil, nil
}

// resolveMembers looks up every member id the operations name, in the cache and then, for the
// ids it misses (a user just created through another replica), on the API server in one batched
// read per kind. Ids to add must exist (400 invalidValue naming the unknown ones, before
// anything is written: no dangling reference is stored); ids to remove that do not exist are
// already not members, and are skipped.
func (s *Server) resolveMembers(ctx context.Context, group *v1alpha1.ScimGroup, ops []patch.MemberOp) (map[string]client.Object, error) {
	found := map[string]client.Object{}
	missed := map[string]bool{}
	for _, op := range ops {
		for _, id := range op.IDs {
			if _, done := found[id]; done || missed[id] {
				continue
			}
			if id == v1alpha1.ScimID(group) {
				return nil, invalidValue("a group cannot be a member of itself")
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
	}
	if err := s.readMembersThrough(ctx, missed, found); err != nil {
		return nil, err
	}
	var unknown []string
	for _, op := range ops {
		if op.Kind != patch.AddMembers && op.Kind != patch.ReplaceMembers {
			continue
		}
		for _, id := range op.IDs {
			if _, ok := found[id]; !ok && missed[id] {
				unknown = append(unknown, id)
				delete(missed, id) // named once
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

// readMembersThrough finds the member ids the cache missed on the API server, users first, and
// moves those it finds from missed to found.
func (s *Server) readMembersThrough(ctx context.Context, missed map[string]bool, found map[string]client.Object) error {
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

// currentMembers returns the direct members of the group named name, by SCIM id.
func (s *Server) currentMembers(ctx context.Context, name string) (map[string]client.Object, error) {
	s.memberListings.Add(1)
	users, err := s.listUsers(ctx, v1alpha1.IndexMemberOf, name)
	if err != nil {
		return nil, err
	}
	groups, err := s.listGroups(ctx, v1alpha1.IndexMemberOf, name)
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

// applyMemberOps writes the membership changes of ops, in order, onto the members' memberOf.
// Only ReplaceMembers and RemoveAllMembers read the current member list (from the index); adds
// and removes touch only the members they name. It returns how many members changed. Writes
// are independent per member, so a failure part-way leaves the earlier ones applied (the IdP
// retries the request, and each write is idempotent).
func (s *Server) applyMemberOps(ctx context.Context, group *v1alpha1.ScimGroup, ops []patch.MemberOp, resolved map[string]client.Object) (int, error) {
	desired := map[string]bool{}
	objs := map[string]client.Object{}
	for _, op := range ops {
		switch op.Kind {
		case patch.ReplaceMembers, patch.RemoveAllMembers:
			current, err := s.currentMembers(ctx, group.Name)
			if err != nil {
				return 0, err
			}
			for id, obj := range current {
				desired[id], objs[id] = false, obj
			}
			if op.Kind == patch.RemoveAllMembers {
				continue
			}
			fallthrough
		case patch.AddMembers:
			for _, id := range op.IDs {
				desired[id], objs[id] = true, resolved[id]
			}
		case patch.RemoveMembers:
			for _, id := range op.IDs {
				if obj, ok := resolved[id]; ok {
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
func (s *Server) setMembership(ctx context.Context, obj client.Object, groupName string, want bool) error {
	current := obj
	attempts := 0
	var written client.Object
	err := retryConflicts(func() error {
		attempts++
		if attempts > 1 {
			fresh := obj.DeepCopyObject().(client.Object)
			gctx, cancel := context.WithTimeout(ctx, apiTimeout)
			err := s.apiReader.Get(gctx, client.ObjectKeyFromObject(obj), fresh)
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
				return invalidValue("member %s was deleted", v1alpha1.ScimID(obj))
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

// touchGroup stamps the group after a membership change, so its version (the ETag) and
// lastModified change with its member list, and the audit trail names the token. Concurrent
// member changes of one group share stamps (see groupStampers): the answer is the group as
// written by a stamp that began after this request's member writes.
func (s *Server) touchGroup(ctx context.Context, g *v1alpha1.ScimGroup) (*v1alpha1.ScimGroup, error) {
	written, err := s.stampers.stamp(ctx, g, func(ctx context.Context, g *v1alpha1.ScimGroup) (*v1alpha1.ScimGroup, error) {
		next := g.DeepCopy()
		stamp(ctx, next)
		pctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		if err := s.writer.Patch(pctx, next, client.MergeFrom(g)); err != nil {
			return nil, err
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	// Each request waits for the cache itself, so the next stamp need not. written is shared
	// by the batch: read only.
	s.awaitCache(ctx, written)
	return written, nil
}

// groupStampers coalesce the stamps of one group (group commit): while a stamp is being
// written, the requests that finish their member writes join the next one, which a single
// write serves once the current one is done. 100 concurrent member adds then cost a few writes
// of the group object instead of 100 contending ones, and every request still answers a version
// written after its own change.
type groupStampers struct {
	mu     sync.Mutex
	groups map[types.UID]*groupStamper
}

type groupStamper struct {
	running bool        // a writer goroutine serves this group
	next    *stampBatch // the requests waiting for the next write; nil when none
}

type stampBatch struct {
	done   chan struct{}
	ctx    context.Context // the latest joiner's: its token is named as the changer
	group  *v1alpha1.ScimGroup
	result *v1alpha1.ScimGroup
	err    error
}

// stamp joins the next stamp of g's group and waits until it is written (or ctx ends).
func (st *groupStampers) stamp(ctx context.Context, g *v1alpha1.ScimGroup, write func(context.Context, *v1alpha1.ScimGroup) (*v1alpha1.ScimGroup, error)) (*v1alpha1.ScimGroup, error) {
	st.mu.Lock()
	if st.groups == nil {
		st.groups = map[types.UID]*groupStamper{}
	}
	gs := st.groups[g.UID]
	if gs == nil {
		gs = &groupStamper{}
		st.groups[g.UID] = gs
	}
	if gs.next == nil {
		gs.next = &stampBatch{done: make(chan struct{})}
	}
	b := gs.next
	b.ctx, b.group = ctx, g
	if !gs.running {
		gs.running = true
		go st.run(g.UID, gs, write)
	}
	st.mu.Unlock()
	select {
	case <-b.done:
		return b.result, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run writes the group's batches one after another until none is waiting.
func (st *groupStampers) run(uid types.UID, gs *groupStamper, write func(context.Context, *v1alpha1.ScimGroup) (*v1alpha1.ScimGroup, error)) {
	for {
		st.mu.Lock()
		b := gs.next
		if b == nil {
			gs.running = false
			delete(st.groups, uid)
			st.mu.Unlock()
			return
		}
		gs.next = nil
		st.mu.Unlock()
		// The write outlives a joiner that gives up; its values (token name, logger) stay.
		b.result, b.err = write(context.WithoutCancel(b.ctx), b.group)
		close(b.done)
	}
}
