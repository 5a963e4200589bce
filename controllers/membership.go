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

package controllers

import (
	"context"
	"fmt"
	"sort"

	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// membership answers group questions from the manager's cache through the shared field
// indexes. Membership lives on the member (spec.memberOf), so "members of G" is an index
// lookup and "groups of U" is a walk upward through memberOf. Objects being deleted count as
// gone. Returned objects are shared with the cache and must not be modified.
type membership struct {
	reader client.Reader
}

// readOnly skips the cache's deep copy; callers of membership never modify what they get.
var readOnly = client.UnsafeDisableDeepCopy

// group returns the named group, or nil when it does not exist or is being deleted.
func (m membership) group(ctx context.Context, name string) (*scimv1.ScimGroup, error) {
	var g scimv1.ScimGroup
	if err := m.reader.Get(ctx, client.ObjectKey{Name: name}, &g); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("getting ScimGroup %s: %w", name, err)
	}
	if !g.DeletionTimestamp.IsZero() {
		return nil, nil
	}
	return &g, nil
}

// groupsNamed returns the live groups whose displayName matches, case-insensitively, sorted by
// object name. Normally there is at most one; hand-made duplicates are all honoured.
func (m membership) groupsNamed(ctx context.Context, displayName string) ([]*scimv1.ScimGroup, error) {
	var list scimv1.ScimGroupList
	if err := m.reader.List(ctx, &list, client.MatchingFields{scimv1.IndexDisplayName: scimv1.FoldKey(displayName)}, readOnly); err != nil {
		return nil, fmt.Errorf("listing ScimGroups named %q: %w", displayName, err)
	}
	var groups []*scimv1.ScimGroup
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp.IsZero() {
			groups = append(groups, &list.Items[i])
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	return groups, nil
}

// groupsSelected returns the live groups sel selects, sorted by object name. A pattern is
// matched against every group: patterns are few and a match costs a microsecond.
func (m membership) groupsSelected(ctx context.Context, sel groupSelector) ([]*scimv1.ScimGroup, error) {
	if !sel.byPattern() {
		return m.groupsNamed(ctx, sel.name)
	}
	var list scimv1.ScimGroupList
	if err := m.reader.List(ctx, &list, readOnly); err != nil {
		return nil, fmt.Errorf("listing ScimGroups: %w", err)
	}
	var groups []*scimv1.ScimGroup
	for i := range list.Items {
		if g := &list.Items[i]; g.DeletionTimestamp.IsZero() && sel.matches(g.Spec.DisplayName) {
			groups = append(groups, g)
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	return groups, nil
}

// directMembers returns the live users and groups whose memberOf names group.
func (m membership) directMembers(ctx context.Context, group string) ([]*scimv1.ScimUser, []*scimv1.ScimGroup, error) {
	var users scimv1.ScimUserList
	if err := m.reader.List(ctx, &users, client.MatchingFields{scimv1.IndexMemberOf: group}, readOnly); err != nil {
		return nil, nil, fmt.Errorf("listing members of ScimGroup %s: %w", group, err)
	}
	var groups scimv1.ScimGroupList
	if err := m.reader.List(ctx, &groups, client.MatchingFields{scimv1.IndexMemberOf: group}, readOnly); err != nil {
		return nil, nil, fmt.Errorf("listing member groups of ScimGroup %s: %w", group, err)
	}
	us := make([]*scimv1.ScimUser, 0, len(users.Items))
	for i := range users.Items {
		if users.Items[i].DeletionTimestamp.IsZero() {
			us = append(us, &users.Items[i])
		}
	}
	gs := make([]*scimv1.ScimGroup, 0, len(groups.Items))
	for i := range groups.Items {
		if groups.Items[i].DeletionTimestamp.IsZero() {
			gs = append(gs, &groups.Items[i])
		}
	}
	return us, gs, nil
}

// memberGroups returns the live groups whose memberOf names group.
func (m membership) memberGroups(ctx context.Context, group string) ([]*scimv1.ScimGroup, error) {
	var groups scimv1.ScimGroupList
	if err := m.reader.List(ctx, &groups, client.MatchingFields{scimv1.IndexMemberOf: group}, readOnly); err != nil {
		return nil, fmt.Errorf("listing member groups of ScimGroup %s: %w", group, err)
	}
	gs := make([]*scimv1.ScimGroup, 0, len(groups.Items))
	for i := range groups.Items {
		if groups.Items[i].DeletionTimestamp.IsZero() {
			gs = append(gs, &groups.Items[i])
		}
	}
	return gs, nil
}

// resolved is the transitive content of one or more root groups.
type resolved struct {
	// users are the distinct users reached, by object name.
	users map[string]*scimv1.ScimUser
	// groups are the names of the groups walked, roots included.
	groups map[string]bool
	// directUsers and directGroups count the live direct members of the first root.
	directUsers, directGroups int
}

// members walks down from the root groups (object names) through nested groups and returns
// every user reached. A group met twice is walked once, so cycles terminate.
func (m membership) members(ctx context.Context, roots ...string) (resolved, error) {
	r := resolved{users: map[string]*scimv1.ScimUser{}, groups: map[string]bool{}}
	queue := append([]string(nil), roots...)
	for _, g := range roots {
		r.groups[g] = true
	}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		users, groups, err := m.directMembers(ctx, g)
		if err != nil {
			return r, err
		}
		if len(roots) > 0 && g == roots[0] && r.directUsers == 0 && r.directGroups == 0 {
			r.directUsers, r.directGroups = len(users), len(groups)
		}
		for _, u := range users {
			r.users[u.Name] = u
		}
		for _, sub := range groups {
			if !r.groups[sub.Name] {
				r.groups[sub.Name] = true
				queue = append(queue, sub.Name)
			}
		}
	}
	return r, nil
}

// ancestors walks up from the named groups through memberOf and returns every live group
// reached, the starting ones included, keyed by object name. Missing or deleting groups end
// their branch: membership through a deleted group grants nothing.
func (m membership) ancestors(ctx context.Context, names []string) (map[string]*scimv1.ScimGroup, error) {
	found := map[string]*scimv1.ScimGroup{}
	seen := map[string]bool{}
	queue := append([]string(nil), names...)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		g, err := m.group(ctx, name)
		if err != nil {
			return nil, err
		}
		if g == nil {
			continue
		}
		found[name] = g
		queue = append(queue, g.Spec.MemberOf...)
	}
	return found, nil
}

// cycleThrough reports whether the nested-group graph below root (root included) contains a
// cycle, returning the group names on it.
func (m membership) cycleThrough(ctx context.Context, root string) ([]string, error) {
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[string]int{}
	var stack []string
	var cycle []string
	var visit func(g string) error
	visit = func(g string) error {
		state[g] = onStack
		stack = append(stack, g)
		subs, err := m.memberGroups(ctx, g)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			if cycle != nil {
				return nil
			}
			switch state[sub.Name] {
			case onStack:
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] == sub.Name {
						cycle = append([]string(nil), stack[i:]...)
						break
					}
				}
				return nil
			case unvisited:
				if err := visit(sub.Name); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[g] = done
		return nil
	}
	if err := visit(root); err != nil {
		return nil, err
	}
	return cycle, nil
}
